"""camdot.websocket as a drop-in for microdot.websocket (both runtimes): refusals go through the
app's response path, binary messages are bytes, `import *`, websocket_wrapper, per-route limits."""
import asyncio

from microdot import Microdot
from microdot.test_client import TestClient as MicrodotTestClient

from camdot.test_client import TestClient
from camdot.websocket import (WebSocket, connect, websocket_upgrade, websocket_wrapper,
                              with_websocket)
from harness import araises, free_port, serve

MICRODOT_NAMES = ('WebSocket', 'WebSocketError', 'websocket_upgrade', 'websocket_wrapper',
                  'with_websocket')
GOOD = {'Upgrade': 'websocket', 'Connection': 'Upgrade', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ=='}


def test_import_star_gives_microdots_names_and_ours():
    scope = {}
    exec('from camdot.websocket import *', scope)
    for name in MICRODOT_NAMES + ('connect', 'ClientWebSocket', 'HandshakeError', 'accept_key'):
        assert name in scope, name
    import camdot.websocket
    assert sorted(camdot.websocket.__all__) == sorted(n for n in scope if n != '__builtins__')


def refusing_app(log):
    app = Microdot()

    @app.route('/ws')
    @with_websocket(origins=['http://good.example'])
    async def ws(request, ws):
        await ws.send('never')

    @app.errorhandler(400)
    def bad_request(request):
        log.append(400)
        return 'custom 400', 400

    @app.errorhandler(403)
    def forbidden(request):
        log.append(403)
        return 'custom 403', 403

    @app.after_error_request
    def after_error(request, response):
        log.append('after')
        response.headers['X-After'] = 'yes'
        return response
    return app


REFUSED = [   # (headers changed from a good upgrade, status): each a different check
    ({'Upgrade': 'h2c'}, 400),
    ({'Connection': 'close'}, 400),
    ({'Connection': 'keep-alive'}, 400),
    ({'Sec-WebSocket-Key': 'xxx'}, 400),
    ({'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAAAAAAAA=='}, 400),   # 19 bytes
    ({'Origin': 'http://evil.example'}, 403),
]


def nothing():
    return
    yield


async def test_refusals_go_through_the_apps_error_handlers_and_hooks():
    # camdot's TestClient.websocket() asks in HTTP/1.1, so each check is reached; microdot's
    # TestClient asks in HTTP/1.0, which is refused first (400) whatever the headers.
    log = []
    app = refusing_app(log)

    def nothing():
        return
        yield
    for headers, status in REFUSED:
        del log[:]
        res = await TestClient(app).websocket('/ws', nothing, headers=headers)
        assert res.status_code == status, (headers, res.status_code)
        assert res.text == 'custom %d' % status and res.headers['X-After'] == 'yes'
        assert log == [status, 'after'] and res.close_code is None, log
        del log[:]
        res = await MicrodotTestClient(app).get('/ws', headers=dict(GOOD, **headers))
        assert res.status_code == 400 and res.text == 'custom 400', headers
        assert log == [400, 'after'], log


async def test_a_426_names_the_version_unless_the_app_answers_it():
    app = refusing_app([])
    res = await TestClient(app).websocket('/ws', nothing, headers={'Sec-WebSocket-Version': '8'})
    assert res.status_code == 426 and res.headers['Sec-WebSocket-Version'] == '13'
    assert res.headers['X-After'] == 'yes'

    @app.errorhandler(426)
    def own(request):
        return 'ours', 426, {'Sec-WebSocket-Version': '13, 8'}
    res = await TestClient(app).websocket('/ws', nothing, headers={'Sec-WebSocket-Version': '8'})
    assert res.text == 'ours' and res.headers['Sec-WebSocket-Version'] == '13, 8'


def echo_app():
    app = Microdot()

    @app.route('/echo')
    @with_websocket
    async def echo(request, ws):
        async for msg in ws:
            await ws.send(repr(type(msg).__name__) if msg == 'type?' else msg)

    @app.route('/small')
    @with_websocket(max_message_length=10)
    async def small(request, ws):
        async for msg in ws:
            await ws.send(msg)

    @app.route('/raw')
    @with_websocket
    async def raw(request, ws):
        ws.binary_type = bytearray           # this connection: the buffer itself, no copy
        async for msg in ws:
            await ws.send(type(msg).__name__)

    @app.route('/wrapped')
    async def wrapped(request):
        async def upgrade(request):          # microdot's two-argument API
            return await websocket_upgrade(request, protocols=['v1'])

        async def handler(request, ws):
            await ws.send('%s subprotocol %s' % (await ws.receive(), ws.subprotocol))
        return await websocket_wrapper(handler, upgrade)(request)
    return app


async def test_binary_messages_are_bytes_unless_opted_out():
    got = []

    def client():
        got.append((yield b'\x00\x01'))
        got.append((yield bytearray(b'ab')))

    await TestClient(echo_app()).websocket('/echo', client)
    assert got == [b'\x00\x01', b'ab'] and [type(m) for m in got] == [bytes, bytes]
    assert len({got[0], got[1]}) == 2                # hashable, as bytes are

    def raw_client():
        got.append((yield b'\x00\x01'))
    await TestClient(echo_app()).websocket('/raw', raw_client)
    assert got[-1] == 'bytearray'


async def test_a_route_limit_applies_to_that_route_only():
    def client(size):
        def run():
            yield b'x' * size
        return run
    res = await TestClient(echo_app()).websocket('/small', client(11))
    assert res.close_code == 1009
    res = await TestClient(echo_app()).websocket('/small', client(10))
    assert res.close_code == 1000
    res = await TestClient(echo_app()).websocket('/echo', client(11))
    assert res.close_code == 1000


async def test_websocket_wrapper_runs_a_handler_on_any_upgrade_function():
    got = []

    def client():
        got.append((yield 'wrapped:'))
    res = await TestClient(echo_app()).websocket('/wrapped', client,
                                                 headers={'Sec-WebSocket-Protocol': 'v1'})
    assert got == ['wrapped: subprotocol v1'] and res.status_code == 101 and res.body is None


async def test_client_limit_and_timeout_are_per_connection():
    app = Microdot()
    big = bytes(20000)       # over Request.max_body_length (16 KiB), the server's default limit

    @app.route('/big')
    @with_websocket(max_message_length=0)
    async def send_big(request, ws):
        async for msg in ws:
            await ws.send(memoryview(big)[:int(msg)])

    server, port = await serve(app)
    url = 'ws://127.0.0.1:%d/big' % port
    try:
        ws = await connect(url, timeout=5)           # the client default: 1 MiB
        await ws.send('20000')
        assert await ws.receive() == big
        await ws.close()
        ws = await connect(url, max_message_length=1000, timeout=5)
        await ws.send('1000')
        assert len(await ws.receive()) == 1000
        await ws.send('1001')
        await araises(Exception, ws.receive())
        assert ws.close_code == 1009
    finally:
        app.shutdown()
        await asyncio.wait_for(server, 5)


async def test_connect_timeout_bounds_the_handshake():
    async def silent(reader, writer):              # takes the connection, never answers
        await asyncio.sleep(5)
        writer.close()
    port = free_port()
    server = await asyncio.start_server(silent, '127.0.0.1', port)
    try:
        await araises(asyncio.TimeoutError,
                      connect('ws://127.0.0.1:%d/' % port, timeout=0.3))
    finally:
        server.close()
        await server.wait_closed()


async def test_a_refused_client_gets_the_status():
    from camdot.websocket import WebSocketError
    app = refusing_app([])
    server, port = await serve(app)
    try:
        exc = await araises(WebSocketError, connect('ws://127.0.0.1:%d/ws' % port, timeout=5,
                                                    headers={'Origin': 'http://evil.example'}))
        assert exc.status_code == 403, exc
        exc = await araises(WebSocketError, connect('ws://127.0.0.1:%d/none' % port, timeout=5))
        assert exc.status_code == 404, exc
    finally:
        app.shutdown()
        await asyncio.wait_for(server, 5)
