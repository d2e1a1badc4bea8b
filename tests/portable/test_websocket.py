"""camdot.websocket on both runtimes: the handshake checks, and our client against our server
in one event loop over loopback TCP (portable: pytest on CPython, tools/mprun.py on the port)."""
import asyncio

from microdot import Microdot, Request
from microdot.microdot import AsyncBytesIO, NoCaseDict

from camdot.compat import MICROPYTHON, ticks_diff, ticks_ms
from camdot.websocket import (HandshakeError, WebSocket, WebSocketError, accept_key, connect,
                              with_websocket)
from harness import Allocated, araises, serve, until

KEY = 'dGhlIHNhbXBsZSBub25jZQ=='


def request(headers=None, method='GET', version='1.1', drop=()):
    h = NoCaseDict({'Upgrade': 'websocket', 'Connection': 'Upgrade', 'Sec-WebSocket-Key': KEY,
                    'Sec-WebSocket-Version': '13', 'Host': 'camdot.local'})
    h.update(headers or {})
    for name in drop:
        del h[name]
    return Request(Microdot(), ('127.0.0.1', 1), method, '/ws', version, h,
                   sock=(AsyncBytesIO(b''), AsyncBytesIO(b'')))


async def refused(req, protocols=None, origins=None):
    exc = await araises(HandshakeError, WebSocket(req).handshake(protocols, origins))
    return exc.status_code


def test_accept_key_matches_rfc_example():
    assert accept_key(KEY) == 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='


async def test_good_upgrade_answers_101_with_accept():
    req = request({'Connection': 'keep-alive, Upgrade', 'Upgrade': 'WebSocket',
                   'Sec-WebSocket-Protocol': 'b, a'})
    ws = WebSocket(req)
    await ws.handshake(['a', 'b'])
    out = req.sock[1].stream.getvalue()
    assert out.startswith(b'HTTP/1.1 101 Switching Protocols\r\n')
    assert b'\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' in out
    assert b'\r\nSec-WebSocket-Protocol: a\r\n' in out and out.endswith(b'\r\n\r\n')
    assert ws.subprotocol == 'a'


async def test_bad_upgrades_are_refused_with_their_status():
    assert await refused(request(method='POST')) == 400
    assert await refused(request(version='1.0')) == 400
    assert await refused(request(drop=['Upgrade'])) == 400
    assert await refused(request({'Upgrade': 'h2c'})) == 400
    assert await refused(request({'Connection': 'close'})) == 400
    assert await refused(request(drop=['Sec-WebSocket-Key'])) == 400
    for key in ('short', 'AAAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAA!!==',
                'AAAAAAAAAAAAAAAAAAAAAAAAAA==', 'AAAAAAAAAAAAAAAAAAAAAB=='):
        assert await refused(request({'Sec-WebSocket-Key': key})) == 400, key
    assert await refused(request({'Sec-WebSocket-Version': '8'})) == 426
    assert await refused(request(drop=['Sec-WebSocket-Version'])) == 426
    bad_origin = request({'Origin': 'http://evil.example'})
    assert await refused(bad_origin, origins=['http://camdot.local']) == 403


def same_as_x(request, origins):
    return request.headers.get('Origin') == 'x'


async def test_origin_policy_is_replaceable():
    saved = WebSocket.origin_allowed
    for policy in (staticmethod(same_as_x), same_as_x):
        WebSocket.origin_allowed = policy
        try:
            assert await refused(request({'Origin': 'y'})) == 403
            await WebSocket(request({'Origin': 'x'})).handshake()
        finally:
            WebSocket.origin_allowed = saved
    await WebSocket(request({'Origin': 'http://Camdot.local/'})).handshake(
        origins=['http://camdot.local'])


# ---- our client against our server, one event loop ----



def make_app():
    app = Microdot()

    @app.route('/echo')
    @with_websocket(protocols=['v2', 'v1'])
    async def echo(request, ws):
        async for msg in ws:
            if msg == '!close':
                await ws.close(4003, 'done')
            elif msg == '!raise':
                raise ValueError('handler failed on purpose')
            elif msg == '!parts':
                await ws.send_parts(ws.BINARY, (b'ab', memoryview(b'xcdx')[1:3], bytearray(b'e')))
            elif msg == '!ping':
                await ws.send(b'hello?', ws.PING)
                await ws.send('pinged')
            else:
                await ws.send(msg)
    @app.route('/keep')
    @with_websocket
    async def keep(request, ws):
        app.sockets.append(ws)
        async for msg in ws:
            await ws.send(msg)

    app.sockets = []

    @app.route('/bg')
    @with_websocket
    async def background_reader(request, ws):
        async def reader():
            async for _ in ws:
                pass
        task = asyncio.create_task(reader())
        await asyncio.sleep(0.05)
        await ws.send('bye')
        task.cancel()      # the reader is still waiting when the wrapper closes the connection
    return app


async def serving(test, app=None):
    app = app or make_app()
    task, port = await serve(app)
    try:
        await asyncio.wait_for(test('ws://127.0.0.1:%d/echo' % port), 20)
    finally:
        app.shutdown()
        await asyncio.wait_for(task, 5)


async def test_client_and_server_echo():
    async def test(url):
        ws = await connect(url, protocols=['v1'], headers={'X-Test': '1'})
        assert ws.subprotocol == 'v1' and ws.request is None
        for i in range(6):
            msg = ('hi', '', b'', b'\x00\x01', 'h\u00e9\u20ac' * 300, bytes(range(256)) * 24)[i]
            await ws.send(msg)
            echo = await ws.receive()
            assert echo == msg and isinstance(echo, str) == isinstance(msg, str), len(msg)
        await ws.send('!parts')
        assert bytes(await ws.receive()) == b'abcde'
        await ws.send('!ping')                      # our client answers the server's ping
        assert await ws.receive() == 'pinged'
        for code in (999, 1005, 1006, 5000):        # codes that can't be sent: a clear error
            await araises(ValueError, ws.close(code))
        await araises(ValueError, ws.close(1000, 'x' * 124))
        assert not ws.closed
        await ws.close(4001)
        assert ws.closed and ws.close_code == 4001  # echoed by the server
        await araises(WebSocketError, ws.send('late'))
    await serving(test)


async def test_server_close_code_and_handler_error_reach_the_client():
    async def test(url):
        ws = await connect(url)
        assert ws.subprotocol is None
        await ws.send('!close')
        await araises(WebSocketError, ws.receive())
        assert ws.close_code == 4003 and ws.close_reason == 'done'
        ws = await connect(url)
        await ws.send('!raise')
        await araises(WebSocketError, ws.receive())
        assert ws.close_code == 1011
        ws = await connect(url)                     # still serving
        messages = []
        await ws.send('a')
        await ws.send('b')
        await ws.close()
        ws2 = await connect(url)
        await ws2.send('c')
        async for msg in ws2:
            messages.append(msg)
            await ws2.close()
        assert messages == ['c'] and ws2.close_code == 1000
    await serving(test)


async def test_websocket_upgrade_inside_a_route():
    # microdot's in-route API (camdot.websocket.routes).
    from camdot.websocket import websocket_upgrade
    app = Microdot()

    @app.route('/echo')
    async def upgraded(request):
        ws = await websocket_upgrade(request, protocols=['v1'])
        await ws.send(await ws.receive())
        await ws.close(4002)

    async def test(url):
        ws = await connect(url, protocols=['v1'])
        assert ws.subprotocol == 'v1'
        await ws.send('up')
        assert await ws.receive() == 'up'
        await araises(WebSocketError, ws.receive())
        assert ws.close_code == 4002
        # A refused upgrade is answered by the app; 426 names the version spoken.
        reader, writer = await asyncio.open_connection('127.0.0.1', int(url.split(':')[2][:-5]))
        writer.write(('GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'
                      'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n'
                      'Sec-WebSocket-Version: 8\r\n\r\n' % KEY).encode())
        await writer.drain()
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = await reader.read(256)
            assert chunk, head
            head += chunk
        writer.close()
        assert head.split(b' ')[1] == b'426', head
        assert b'\r\nSec-WebSocket-Version: 13\r\n' in head, head
    await serving(test, app)


async def test_refused_upgrade_is_a_client_error():
    async def test(url):
        exc = await araises(WebSocketError, connect(url.replace('/echo', '/nowhere')))
        assert '404' in str(exc)
    await serving(test)


async def test_too_big_message_closes_1009():
    async def test(url):
        ws = await connect(url)
        await ws.send(bytes(1000))
        assert await ws.receive() == bytes(1000)
        await ws.send(bytes(1001))
        await araises(WebSocketError, ws.receive())
        assert ws.close_code == 1009
    WebSocket.max_message_length = 1000             # both ends here: only the server gets more
    try:
        await serving(test)
    finally:
        WebSocket.max_message_length = -1
    assert WebSocket(request()).protocol.max_message == Request.max_body_length   # -1's meaning
    WebSocket.max_message_length = 0                # 0: no limit at all
    try:
        assert WebSocket(request()).protocol.max_message == 0
    finally:
        WebSocket.max_message_length = -1


async def test_close_right_after_cancelling_a_reader_task_is_prompt():
    async def test(url):
        ws = await connect(url.replace('/echo', '/bg'))
        assert await ws.receive() == 'bye'
        start = ticks_ms()
        await araises(WebSocketError, ws.receive())
        assert ws.close_code == 1000
        assert ticks_diff(ticks_ms(), start) < 5000     # not the close_timeout (10 s here)
    saved = WebSocket.close_timeout
    WebSocket.close_timeout = 10    # far from what a loaded machine may take for a prompt close
    try:
        await serving(test)
    finally:
        WebSocket.close_timeout = saved


async def test_keepalive_stops_when_the_peer_vanishes():
    app = make_app()

    async def test(url):
        ws = await connect(url.replace('/echo', '/keep'))
        await ws.send('x')
        assert await ws.receive() == 'x'
        (server,) = app.sockets
        assert server._ktask is not None                # pinging every 30 s
        ws.abort()                                      # gone without a close frame
        await until(lambda: server.closed and server._ktask is None, what='the server side closed')
        assert server.close_code == 1006
        assert server._ktask is None                    # stopped now, not at the next ping
    WebSocket.ping_interval = 30
    try:
        await serving(test, app)
    finally:
        WebSocket.ping_interval = 0


class Sink:
    """A socket that takes every write whole (MicroPython's stream keeps its socket in `s`)."""

    def write(self, b):
        return len(b)


class FastStream:
    def __init__(self):
        self.s = Sink()

    def write(self, b):
        pass

    async def drain(self):
        await asyncio.sleep(0)


async def test_a_send_loop_lets_other_tasks_run():
    ws = WebSocket(None, AsyncBytesIO(b''), FastStream())
    ran = [0]

    async def other():
        while True:
            ran[0] += 1
            await asyncio.sleep(0)
    task = asyncio.create_task(other())
    await asyncio.sleep(0)
    before = ran[0]
    sent = 16 * 8
    for _ in range(sent):
        await ws.send('x' * 16)
    task.cancel()
    others = ran[0] - before
    assert others >= sent // 16 - 1, others   # at least every 16th send lets the others run
    if MICROPYTHON:
        # Sends the socket takes whole don't wait for the event loop each time, only every 16th.
        assert others < sent // 4, (others, sent)


class Recorder:
    """A writer, and under MicroPython its socket, that keeps what it is handed (or only counts)."""

    def __init__(self):
        self.s = self
        self.written = []
        self.keep = True

    def write(self, b):
        if self.keep:
            self.written.append(b)
        return len(b)

    async def drain(self):
        pass


async def test_big_sends_hand_over_the_payload_itself():
    # The payload goes to the socket as it is, after a header of its own: never joined to the
    # header or copied (the camera sends a frame's memoryview this way). Small frames are joined.
    w = Recorder()
    ws = WebSocket(None, AsyncBytesIO(b''), w)
    frame = bytearray(50000)
    await ws.send(frame)
    assert w.written[0] == b'\x82\x7e\xc3\x50' and w.written[1] is frame and len(w.written) == 2
    meta = b'{"seq": 1}'
    view = memoryview(frame)[10:40010]
    w.written = []
    await ws.send_parts(ws.BINARY, (meta, view))
    assert len(w.written) == 3 and w.written[1] is meta and w.written[2] is view
    assert bytes(w.written[0]) == b'\x82\x7e\x9c\x4a'
    w.written = []
    await ws.send(b'small')
    assert w.written == [b'\x82\x05small']

    # What one 50 KB send allocates: far below a copy of the payload.
    w.keep = False
    with Allocated() as a:
        for _ in range(20):
            await ws.send(frame)
    assert a.bytes // 20 < 1024 if MICROPYTHON else a.bytes < 16384, a.bytes
