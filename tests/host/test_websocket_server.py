"""camdot.websocket as a server, driven by the `websockets` client (an independent implementation).

Every test runs twice: against tools/ws_echo.py's app served in this CPython process, and against
`tools/ws_echo.py` on the unix port.
"""
import asyncio
import os
import socket
import struct
import sys
import threading
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from harness import wait_until
from servers import MPY, ROOT, Server, free_port, wait_for_port

sys.path.insert(0, os.path.join(ROOT, 'tools'))
import ws_echo  # noqa: E402  (puts lib/ and .deps/ on sys.path)
from camdot.websocket import WebSocket  # noqa: E402

RUNTIMES = ['cpython', 'micropython']
KEY = 'dGhlIHNhbXBsZSBub25jZQ=='
ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='   # RFC 6455 section 1.3's example
UPGRADE = {'Upgrade': 'websocket', 'Connection': 'Upgrade', 'Sec-WebSocket-Key': KEY,
           'Sec-WebSocket-Version': '13'}
# ws_echo options that are WebSocket class attributes (process-wide when served in-process).
CLASS_OPTIONS = {'--max-message': 'max_message_length', '--ping-interval': 'ping_interval',
                 '--ping-timeout': 'ping_timeout'}


class InProcess:
    """ws_echo's app served by this CPython process, on a thread with its own event loop."""

    def __init__(self, opts, port):
        self.opts = opts
        self.port = port
        self.output = ''

    def __enter__(self):
        self.saved = {a: getattr(WebSocket, a) for a in CLASS_OPTIONS.values()}
        for opt, attr in CLASS_OPTIONS.items():     # as ws_echo's main() does
            value = float(self.opts.get(opt, ws_echo.DEFAULTS[opt]))
            setattr(WebSocket, attr, int(value) if attr == 'max_message_length' else value)
        self.app = ws_echo.create_app(self.opts)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, daemon=True,
                                       args=(self.app.start_server('127.0.0.1', self.port),))
        self.thread.start()
        wait_for_port(self.port)
        return self

    def stop(self):
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.app.shutdown)
            self.thread.join(10)
        for attr, value in self.saved.items():
            setattr(WebSocket, attr, value)
        return 0

    def __exit__(self, *exc):
        self.stop()


def serve(runtime, **options):
    """An echo server on `runtime`; options are ws_echo's (max_message=1000 -> --max-message)."""
    opts = {'--commands': 'yes'}
    for name, value in options.items():
        opts['--' + name.replace('_', '-')] = str(value)
    port = free_port()
    if runtime == 'cpython':
        srv = InProcess(opts, port)
    else:
        argv = [MPY, '-X', 'heapsize=16M', 'tools/ws_echo.py', '--port', str(port)]
        for item in opts.items():
            argv.extend(item)
        srv = Server(argv, port)
    srv.ws = 'ws://127.0.0.1:%d/echo' % port
    return srv


def ws_connect(url, **kw):
    kw.setdefault('max_size', None)
    kw.setdefault('compression', None)
    kw.setdefault('open_timeout', 10)
    kw.setdefault('close_timeout', 5)
    return connect(url, **kw)


def http(port, headers, method='GET', version='1.1', path='/echo'):
    """Send a raw request; return (status, headers dict with lower-case names, socket)."""
    s = socket.create_connection(('127.0.0.1', port), timeout=10)
    lines = ['%s %s HTTP/%s' % (method, path, version), 'Host: 127.0.0.1']
    lines += ['%s: %s' % item for item in headers.items()]
    s.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode())
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b'\r\n\r\n')
    lines = head.decode().split('\r\n')
    got = {}
    for line in lines[1:]:
        name, _, value = line.partition(':')
        got[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), got, Conn(s, rest)


ESTABLISHED = '01'


def server_end(conn, port):
    """The TCP state (hex, as in /proc/net/tcp) of the server's end of `conn`: it shows the
    server closing its socket while data it sent still waits for us. None once it is gone."""
    mine = conn.sock.getsockname()[1]
    with open('/proc/net/tcp') as f:
        for line in f.readlines()[1:]:
            local, remote, state = line.split()[1:4]
            if int(local.split(':')[1], 16) == port and int(remote.split(':')[1], 16) == mine:
                return state
    return None


class Conn:
    """A raw socket plus the bytes that came after the response head."""

    def __init__(self, sock, rest):
        self.sock = sock
        self.rest = rest

    def sendall(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()


def masked(opcode, payload, fin=True):
    key = os.urandom(4)
    data = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    return bytes([opcode | (0x80 if fin else 0), 0x80 | len(payload)]) + key + data


def read_frames(conn, timeout=5.0):
    """Read server frames until EOF (or timeout); return [(opcode, payload)], eof?"""
    s = conn.sock
    s.settimeout(timeout)
    data = conn.rest
    eof = False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                eof = True
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    frames = []
    while len(data) >= 2:
        n = data[1] & 0x7F
        i = 2
        if n == 126:
            n, i = struct.unpack('!H', data[2:4])[0], 4
        elif n == 127:
            n, i = struct.unpack('!Q', data[2:10])[0], 10
        assert not data[1] & 0x80, 'server frames must not be masked'
        frames.append((data[0] & 0x0F, data[i:i + n]))
        data = data[i + n:]
    return frames, eof


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


# ---- opening handshake ----

@pytest.mark.parametrize('runtime', RUNTIMES)
def test_handshake_accepts_token_lists_in_any_case(runtime):
    with serve(runtime) as srv:
        headers = dict(UPGRADE, Upgrade='WebSocket', Connection='keep-alive, UPGRADE')
        status, got, s = http(srv.port, headers)
        s.close()
    assert status == 101
    assert got['sec-websocket-accept'] == ACCEPT
    assert got['upgrade'].lower() == 'websocket'
    assert 'sec-websocket-protocol' not in got


BAD_REQUESTS = [
    ({'Upgrade': None}, 400),
    ({'Upgrade': 'h2c'}, 400),
    ({'Connection': 'keep-alive'}, 400),
    ({'Connection': None}, 400),
    ({'Sec-WebSocket-Key': None}, 400),
    ({'Sec-WebSocket-Key': 'c2hvcnQ='}, 400),                     # 5 bytes
    ({'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAAAA=='[:-4] + '=='}, 400),  # not 16 bytes
    ({'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAA!!=='}, 400),     # not base64
    ({'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAAAAAAAA=='}, 400),  # 19 bytes
    ({'Sec-WebSocket-Version': '8'}, 426),
    ({'Sec-WebSocket-Version': None}, 426),
]


@pytest.mark.parametrize('runtime', RUNTIMES)
def test_bad_upgrade_requests_are_refused(runtime):
    with serve(runtime) as srv:
        for change, expected in BAD_REQUESTS:
            headers = dict(UPGRADE)
            for name, value in change.items():
                if value is None:
                    del headers[name]
                else:
                    headers[name] = value
            status, got, s = http(srv.port, headers)
            s.close()
            assert status == expected, change
            if expected == 426:
                assert got.get('sec-websocket-version') == '13', got
        status, _, s = http(srv.port, UPGRADE, version='1.0')
        s.close()
        assert status == 400
        # Still serving after all that.
        status, _, s = http(srv.port, UPGRADE)
        s.close()
        assert status == 101


@pytest.mark.parametrize('runtime', RUNTIMES)
def test_subprotocol_is_negotiated_in_server_order(runtime):
    async def main(url):
        async with ws_connect(url, subprotocols=['superchat', 'chat']) as ws:
            assert ws.subprotocol == 'chat'
            await ws.send('!info')
            assert await ws.recv() == 'subprotocol=chat'
        async with ws_connect(url, subprotocols=['superchat']) as ws:
            assert ws.subprotocol == 'superchat'
        async with ws_connect(url, subprotocols=['other']) as ws:
            assert ws.subprotocol is None
            await ws.send('!info')
            assert await ws.recv() == 'subprotocol=None'
    with serve(runtime, protocols='chat,superchat') as srv:
        run(main(srv.ws))


@pytest.mark.parametrize('runtime', RUNTIMES)
def test_origin_allow_list(runtime):
    async def main(url):
        with pytest.raises(InvalidStatus) as info:
            async with ws_connect(url, origin='http://evil.example'):
                pass
        assert info.value.response.status_code == 403
        async with ws_connect(url, origin='http://GOOD.example') as ws:
            await ws.send('hi')
            assert await ws.recv() == 'hi'
        async with ws_connect(url) as ws:           # no Origin: not a browser
            await ws.send('hi')
            assert await ws.recv() == 'hi'
    with serve(runtime, origins='http://good.example') as srv:
        run(main(srv.ws))


# ---- messages ----

@pytest.mark.parametrize('runtime', RUNTIMES)
def test_echo_text_binary_empty_and_large(runtime):
    async def main(url):
        async with ws_connect(url) as ws:
            for msg in ['hello', '', b'', b'\x00\xff', 'h\u00e9\u20ac\U0001F600' * 5000,
                        os.urandom(200_000), bytes(65536), 'x' * 125, 'y' * 126]:
                await ws.send(msg)
                echo = await ws.recv()
                assert type(echo) is type(msg) and echo == msg, (type(msg), len(msg))
            big = os.urandom(1_500_000)
            await ws.send(big)
            assert await ws.recv() == big
    with serve(runtime) as srv:
        run(main(srv.ws))


@pytest.mark.parametrize('runtime', RUNTIMES)
def test_fragmented_messages_are_reassembled(runtime):
    async def main(url):
        async with ws_connect(url) as ws:
            await ws.send(['h\u00e9', 'l', '', 'lo \u20ac'])
            assert await ws.recv() == 'h\u00e9llo \u20ac'
            await ws.send([b'ab', b'', b'cd' * 40000])
            assert await ws.recv() == b'ab' + b'cd' * 40000
            pong = await ws.ping(b'between')
            await asyncio.wait_for(pong, 5)
    with serve(runtime) as srv:
        run(main(srv.ws))


@pytest.mark.parametrize('runtime', RUNTIMES)
def test_send_parts_writes_one_message(runtime):
    async def main(url):
        async with ws_connect(url) as ws:
            await ws.send('!parts')
            assert await ws.recv() == b'head:234567:tail'
            await ws.send('!big 70000')
            assert await ws.recv() == bytes(70000)
    with serve(runtime) as srv:
        run(main(srv.ws))


@pytest.mark.parametrize('runtime', RUNTIMES)
def test_ping_is_answered_with_the_same_payload(runtime):
    async def main(url):
        async with ws_connect(url) as ws:
            for payload in (b'', b'abc', os.urandom(125)):
                latency = await asyncio.wait_for(await ws.ping(payload), 5)
                assert latency >= 0
            await ws.send('still here')
            assert await ws.recv() == 'still here'
    with serve(runtime) as srv:
        run(main(srv.ws))


# ---- closing ----

@pytest.mark.parametrize('runtime', RUNTIMES)
def test_close_codes_are_echoed_and_sent(runtime):
    async def main(url):
        async with ws_connect(url) as ws:
            await ws.close(4001, 'bye')
        assert ws.close_code == 4001                 # the server echoed our code
        async with ws_connect(url) as ws:
            await ws.close(1000)
        assert ws.close_code == 1000
        async with ws_connect(url) as ws:
            await ws.send('!close 4002 going away now')
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
        assert info.value.rcvd.code == 4002
        assert info.value.rcvd.reason == 'going away now'
        assert ws.close_code == 4002
    with serve(runtime) as srv:
        run(main(srv.ws))


@pytest.mark.parametrize('runtime', RUNTIMES)
def test_too_big_message_closes_1009(runtime):
    async def main(url):
        async with ws_connect(url) as ws:
            await ws.send(b'a' * 1000)
            assert await ws.recv() == b'a' * 1000
            await ws.send(b'a' * 1001)
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
        assert info.value.rcvd.code == 1009
        async with ws_connect(url) as ws:          # fragments count as one message
            await ws.send([b'a' * 600, b'a' * 600])
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
        assert info.value.rcvd.code == 1009
    with serve(runtime, max_message=1000) as srv:
        run(main(srv.ws))


@pytest.mark.parametrize('runtime', RUNTIMES)
def test_handler_exception_closes_1011_and_server_keeps_serving(runtime):
    async def main(url):
        async with ws_connect(url) as other:        # a second client, unaffected
            for command in ('!raise', '!nomem'):
                async with ws_connect(url) as ws:
                    await ws.send(command)
                    with pytest.raises(ConnectionClosed) as info:
                        await ws.recv()
                assert info.value.rcvd.code == 1011, command
            await other.send('fine')
            assert await other.recv() == 'fine'
        async with ws_connect(url) as ws:
            await ws.send('after')
            assert await ws.recv() == 'after'
    srv = serve(runtime)
    with srv:
        run(main(srv.ws))
        srv.stop()
    if runtime == 'micropython':
        assert 'asked to fail' in srv.output               # logged with its traceback
        assert 'out of memory' in srv.output


@pytest.mark.parametrize('runtime', RUNTIMES)
def test_protocol_errors_get_their_close_code(runtime):
    with serve(runtime) as srv:
        cases = [
            (bytes([0x81, 0x02]) + b'hi', 1002),                    # unmasked client frame
            (masked(0x1, b'\xc3\x28'), 1007),                       # invalid UTF-8
            (masked(0x3, b''), 1002),                               # reserved opcode
            (masked(0x0, b'cont'), 1002),                           # nothing to continue
            (masked(0x8, b'\x03\xe8'[:1]), 1002),                   # 1-byte close payload
            (masked(0x8, struct.pack('!H', 1005)), 1002),           # invalid close code
            (masked(0x1, b'ok') + masked(0x1, b'\xff'), 1007),
        ]
        for data, code in cases:
            status, _, s = http(srv.port, UPGRADE)
            assert status == 101
            s.sendall(data)
            frames, eof = read_frames(s)
            s.close()
            closes = [p for op, p in frames if op == 8]
            assert closes and struct.unpack('!H', closes[0][:2])[0] == code, (data, frames)
            assert eof, data
        # A valid message ahead of the bad one is still echoed first.
        assert frames[0] == (1, b'ok')


# ---- keepalive ----

@pytest.mark.parametrize('runtime', RUNTIMES)
def test_keepalive_closes_a_dead_peer_and_keeps_a_live_one(runtime):
    async def live(url):
        async with ws_connect(url, ping_interval=None) as ws:   # websockets answers pings itself
            await asyncio.sleep(1.0)
            await ws.send('alive')
            assert await ws.recv() == 'alive'
            # A handler that is not receiving: the keepalive reads the pongs itself and keeps
            # the messages that arrive meanwhile for the next receive().
            await ws.send('!idle 2.0')                # longer than ping_interval + ping_timeout
            await asyncio.sleep(0.5)
            await ws.send('kept')
            assert await ws.recv() == 'idle done'
            assert await ws.recv() == 'kept'

    with serve(runtime, ping_interval=0.3, ping_timeout=0.8) as srv:
        status, _, dead = http(srv.port, UPGRADE)               # handshakes, then never answers
        assert status == 101
        # The dead peer is read beside the live one: when its connection ends is what counts.
        started = time.monotonic()
        ended = []
        reader = threading.Thread(target=lambda: ended.append(
            (read_frames(dead, timeout=30.0), time.monotonic() - started)))
        reader.start()
        run(live(srv.ws))
        reader.join()
        (frames, eof), took = ended[0]
        dead.close()
    # closed after about ping_interval + ping_timeout (1.1 s), not left open
    assert eof and took < 5.0, (frames, took)
    assert frames[0][0] == 9                                    # it was pinged ...
    assert frames[-1][0] == 8                                   # ... then closed with 1011
    assert struct.unpack('!H', frames[-1][1][:2])[0] == 1011


# ---- dropping a connection ----

@pytest.mark.parametrize('runtime', RUNTIMES)
def test_abort_drops_the_connection_without_a_close_frame(runtime):
    async def main(url):
        async with ws_connect(url) as ws:
            await ws.send('!abort')
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
        assert info.value.rcvd is None                  # no close frame: dropped (1006)
        async with ws_connect(url) as ws:
            await ws.send('still serving')
            assert await ws.recv() == 'still serving'
    with serve(runtime) as srv:
        run(main(srv.ws))


def test_send_cut_off_mid_frame_drops_the_connection():
    # Only the unix port writes a frame straight to a full socket (CPython's transport buffers
    # the whole frame, so a timed-out send there leaves a complete frame behind).
    with serve('micropython') as srv:
        status, _, conn = http(srv.port, UPGRADE)
        assert status == 101
        assert server_end(conn, srv.port) == ESTABLISHED
        conn.sendall(masked(0x1, b'!stall 8000000 0.3'))
        # Not reading: the server's send stalls, and after 0.3 s it gives up and drops the
        # connection. Wait for that (reading earlier would let the send go through).
        wait_until(lambda: server_end(conn, srv.port) != ESTABLISHED, timeout=30,
                   what='the server to give up its send and close')
        frames, eof = read_frames(conn, timeout=10.0)
        conn.close()
        status, _, conn = http(srv.port, UPGRADE)        # still serving
        conn.close()
    assert eof and status == 101
    assert len(frames) == 1, frames[:3]                 # no close frame, no 'timed out' ...
    assert frames[0][0] == 2 and 0 < len(frames[0][1]) < 8000000   # ... a truncated frame, EOF

