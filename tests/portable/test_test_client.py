"""camdot.test_client: microdot's TestClient call, `websocket(path, generator)`, against
camdot.websocket routes in process (no sockets), on both runtimes."""
from microdot import Microdot

from camdot.test_client import TestClient
from camdot.websocket import WebSocket, with_websocket
from harness import araises


def make_app(log):
    app = Microdot()

    @app.route('/echo')
    @with_websocket(protocols=['v2', 'v1'], origins=['http://cam.local'])
    async def echo(request, ws):
        async for msg in ws:
            log.append(msg)
            if msg == 'close please':
                await ws.close(4001, 'asked to')
            elif msg == 'fail please':
                raise ValueError('handler failed on purpose (expected in this test)')
            elif msg == 'ping please':
                await ws.send(b'are you there', ws.PING)
                await ws.send('pinged')
            else:
                await ws.send(msg)
        log.append('handler saw the end')

    @app.route('/hello')
    @with_websocket
    async def hello(request, ws):
        await ws.send('hello')                 # the server speaks first
        await ws.send('second')
        log.append(await ws.receive())

    @app.route('/plain')
    async def plain(request):
        return 'not a websocket'
    return app


async def test_echo_in_lockstep_with_text_binary_empty_and_big_messages():
    log, got = [], []
    big = bytes(range(256)) * 80             # 20,480 bytes: the 16-bit length form, and over
                                             # microdot's default limit (16 KiB)

    def client():
        got.append((yield 'hello'))
        got.append((yield b'\x00\x01\xff'))
        got.append((yield ''))
        got.append((yield b''))
        got.append((yield 'h\u00e9llo \u20ac'))
        got.append((yield big))

    WebSocket.max_message_length = 0         # no limit
    try:
        res = await TestClient(make_app(log)).websocket('/echo', client)
    finally:
        WebSocket.max_message_length = -1
    assert res.status_code == 101 and res.headers['Upgrade'].lower() == 'websocket'
    assert got == ['hello', b'\x00\x01\xff', '', b'', 'h\u00e9llo \u20ac', big]
    assert type(got[1]) is bytes                 # binary: bytes, as microdot's client gives it
    assert res.body is None                      # an upgrade has no body (microdot: None)
    assert res.close_code == 1000                # the generator ended: a normal close
    assert log[-1] == 'handler saw the end'      # ... which ended the handler's `async for`

    def too_big():
        yield big
        raise AssertionError('the server closed: no reply expected')

    res = await TestClient(make_app(log)).websocket('/echo', too_big)
    assert res.close_code == 1009


async def test_server_close_code_and_handler_failure_reach_the_client():
    log = []

    def client():
        yield 'close please'
        raise AssertionError('the server closed: no reply expected')

    res = await TestClient(make_app(log)).websocket('/echo', client)
    assert res.close_code == 4001

    def failing():
        yield 'fail please'

    res = await TestClient(make_app(log)).websocket('/echo', failing)
    assert res.close_code == 1011


async def test_the_server_may_speak_first_and_pings_are_answered():
    log, got = [], []

    def client():
        got.append((yield 'first'))      # sent first; the reply is the server's first message
        got.append((yield None))         # nothing to send: wait for the next one
        yield 'bye'

    res = await TestClient(make_app(log)).websocket('/hello', client)
    assert got == ['hello', 'second'] and log == ['first'] and res.close_code == 1000

    def pinger():
        got.append((yield 'ping please'))

    got.clear()
    res = await TestClient(make_app(log)).websocket('/echo', pinger)
    assert got == ['pinged'] and res.close_code == 1000


async def test_subprotocol_and_refused_upgrades_show_in_the_response():
    client = TestClient(make_app([]))

    def nothing():
        return
        yield

    res = await client.websocket('/echo', nothing, headers={'Sec-WebSocket-Protocol': 'v1, v2'})
    assert res.status_code == 101 and res.headers['Sec-WebSocket-Protocol'] == 'v2'
    res = await client.websocket('/echo', nothing, headers={'Sec-WebSocket-Version': '8'})
    assert res.status_code == 426 and res.headers['Sec-WebSocket-Version'] == '13'
    assert res.close_code is None
    res = await client.websocket('/echo', nothing, headers={'Origin': 'http://evil.example'})
    assert res.status_code == 403 and res.text == 'Origin not allowed'
    res = await client.websocket('/echo', nothing,
                                 headers={'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ=='})
    assert res.headers['Sec-WebSocket-Accept'] == 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='  # RFC 6455 1.3
    res = await client.websocket('/echo', nothing, headers={'Sec-WebSocket-Key': 'short'})
    assert res.status_code == 400
    res = await client.websocket('/plain', nothing)        # not a WebSocket route
    assert res.status_code == 200 and res.text == 'not a websocket'


async def test_client_mistakes_are_raised_after_the_route_ends():
    app = make_app([])

    def wrong():
        reply = yield 'hello'
        assert reply == 'something else', 'the assertion inside the generator'

    exc = await araises(AssertionError, TestClient(app).websocket('/echo', wrong))
    assert 'the assertion inside the generator' in str(exc)

    def not_a_message():
        yield 42

    exc = await araises(TypeError, TestClient(app).websocket('/echo', not_a_message))
    assert 'int' in str(exc)

    def silent():
        yield None                       # the server waits for a message too

    exc = await araises(RuntimeError, TestClient(app).websocket('/echo', silent))
    assert 'deadlock' in str(exc)
