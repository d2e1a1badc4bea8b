"""Faults while serving (issue 8.6): running out of memory for one client closes that client with
1011 and the others carry on, on the same server (portable)."""
import asyncio

from microdot import Microdot

from camdot.websocket import WebSocketError, connect, with_websocket
from harness import araises, serve


def make_app():
    app = Microdot()

    @app.route('/echo')
    @with_websocket
    async def echo(request, ws):
        async for msg in ws:
            if msg == 'big':
                # what a handler meets when the heap is exhausted (a frame copy, a JSON document)
                raise MemoryError('memory allocation failed, allocating 65536 bytes')
            await ws.send(msg)

    return app


async def test_out_of_memory_closes_only_that_client():
    app = make_app()
    server, port = await serve(app)
    url = 'ws://127.0.0.1:%d/echo' % port
    try:
        calm = await connect(url)
        greedy = await connect(url)
        await calm.send('before')
        assert await calm.receive() == 'before'
        await greedy.send('big')
        await araises(WebSocketError, greedy.receive())
        assert greedy.close_code == 1011            # internal error, sent by the server
        for i in range(3):                          # the other client is undisturbed
            await calm.send('after %d' % i)
            assert await calm.receive() == 'after %d' % i
        again = await connect(url)                  # and the server still takes new ones
        await again.send('hello')
        assert await again.receive() == 'hello'
        await again.close()
        await calm.close()
        assert calm.close_code == 1000
    finally:
        app.shutdown()
        await asyncio.wait_for(server, 5)

