"""camdot.test_client on CPython also takes an async generator (MicroPython has none), as
microdot's TestClient does."""
import asyncio

from microdot import Microdot

from camdot.test_client import TestClient
from camdot.websocket import with_websocket


def test_an_async_generator_client_that_awaits():
    app = Microdot()

    @app.route('/echo')
    @with_websocket
    async def echo(request, ws):
        async for msg in ws:
            await ws.send(msg)

    got = []

    async def client():
        got.append((yield 'one'))
        await asyncio.sleep(0.01)        # a step may wait: it runs in the route's event loop
        got.append((yield b'two'))

    res = asyncio.run(TestClient(app).websocket('/echo', client))
    assert got == ['one', b'two'] and res.status_code == 101 and res.close_code == 1000
