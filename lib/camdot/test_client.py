"""microdot's TestClient, with a `websocket()` that can drive camdot.websocket routes.

    from camdot.test_client import TestClient

    def chat():                    # a generator (CPython also takes an async generator)
        reply = yield 'hello'      # send a message; the server's next message comes back:
                                   # str (text) or bytes (binary), as microdot's client gives
        reply = yield b'\\x00\\x01'  # bytes go as binary; `yield None` sends nothing, just waits
                                   # returning ends the connection with a close frame (1000)
    res = await TestClient(app).websocket('/echo', chat)
    res.status_code                # 101 (microdot's says None), or the app's answer to a refused
                                   # upgrade (400, 403, 426, ...) with its headers and text
    res.body                       # None after an upgrade, as in microdot
    res.close_code                 # the code in the server's close frame (None: it sent none)

Same call as microdot's `TestClient.websocket`, which cannot drive a camdot.websocket route: it
sends an HTTP/1.0 request and unmasked frames, and RFC 6455 requires a server to refuse both.
This one sends an HTTP/1.1 upgrade and masked frames, answers pings and echoes the server's
close. The server's messages reach the generator in order, one per `yield`; when the server
waits for a message and the generator has none queued, the `yield` gets None (as in microdot).
Everything else is microdot's TestClient unchanged.
"""
import binascii
import os

from microdot import Request, Response
from microdot.microdot import NoCaseDict
from microdot.test_client import TestClient as MicrodotTestClient, TestResponse

from camdot.websocket.codec import (OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, Parser,
                                    close_payload, header, mask_range)
from camdot.websocket.connection import WebSocketError
from camdot.websocket.handshake import accept_key


class TestClient(MicrodotTestClient):
    """microdot's test client; `websocket()` speaks RFC 6455 (see the module docstring)."""
    __test__ = False  # not a test class (pytest)

    async def websocket(self, path, client, headers=None):
        """Open a WebSocket on `path` and run the generator function `client` against it.

        Returns a TestResponse: the upgrade's status and headers (body None), or the app's
        response to a refused upgrade, plus `close_code`. An exception in `client`, or a frame from the server that breaks RFC 6455,
        is raised here once the route has finished.
        """
        key = binascii.b2a_base64(os.urandom(16))[:-1].decode()
        h = {'Upgrade': 'websocket', 'Connection': 'Upgrade', 'Sec-WebSocket-Version': '13',
             'Sec-WebSocket-Key': key}
        h.update(headers or {})
        key = h['Sec-WebSocket-Key']            # (the caller's, if it set one)
        h = self._process_cookies(path, h)
        raw = self._render_request('GET', path, h, b'').replace(b' HTTP/1.0\n', b' HTTP/1.1\n', 1)
        peer = _Peer(client(), raw)
        req = await Request.create(self.app, peer, peer, ('127.0.0.1', 1234), scheme=self.scheme)
        res = await self.app.dispatch_request(req)
        if peer.error is not None:
            raise peer.error
        if res != Response.already_handled:     # not a WebSocket route: an ordinary response
            res.complete()
            self._update_cookies(res)
            res = await TestResponse.create(res)
            res.close_code = None
            return res
        out = TestResponse()
        out.close_code = peer.close_code
        head, _, body = bytes(peer.head).partition(b'\r\n\r\n')
        lines = head.decode().split('\r\n')
        status = lines[0].split(' ', 2)
        if len(status) < 2:
            raise WebSocketError('no HTTP answer to the upgrade')
        out.status_code = int(status[1])
        out.reason = status[2] if len(status) > 2 else ''
        out.headers = NoCaseDict()
        for line in lines[1:]:
            name, _, value = line.partition(':')
            out.headers[name.strip()] = value.strip()
        out.body = body or None         # (an upgrade has no body: None, as in microdot)
        if out.body is not None:
            out._process_text_body()
        if out.status_code == 101 and out.headers.get('Sec-WebSocket-Accept') != accept_key(key):
            raise WebSocketError('bad Sec-WebSocket-Accept in the 101 answer')
        return out


class _Peer:
    # The client end of the connection, as the route's reader and writer: the server reads the
    # request and then our frames from `out`; what it writes is its HTTP answer (kept in `head`)
    # and then frames, parsed here, each message handed to the generator. A payload is queued
    # as it is and masked as the server reads it, so a test of big messages fits a small heap.

    def __init__(self, gen, request):
        self.gen = gen
        self.out = [(request, None)]    # what the server reads next: (bytes, mask key or None)
        self.pos = 0                    # bytes of out[0] already read
        self.head = bytearray()
        self.upgraded = False
        self.parser = Parser(client=True)
        self.inbox = []         # server messages the generator has not seen yet
        self.started = False    # the generator ran to its first yield
        self.done = False       # the generator ended (or failed)
        self.closing = False    # our close frame is queued: nothing more to send
        self.close_code = None
        self.error = None

    # ---- what the server reads ----

    async def readline(self):
        i = self.out[0][0].find(b'\n', self.pos) if self.out else -1
        return await self.read(-1 if i < 0 else i + 1 - self.pos)

    async def readexactly(self, n):
        return await self.read(n)

    async def read(self, n=-1):
        await self.wait()
        data, key, phase = self.take(n)
        data = bytearray(data)
        if key:
            mask_range(data, 0, len(data), key, phase)
        return data

    async def readinto(self, buf):
        await self.wait()
        data, key, phase = self.take(len(buf))
        n = len(data)
        buf[:n] = data
        if key:
            mask_range(buf, 0, n, key, phase)
        return n

    async def wait(self):
        # The server waits for a message: give the generator turns, with the server's next
        # message, or None if it has sent nothing new (as microdot's client does).
        idle = False
        while not self.out and self.upgraded and not self.closing:
            if not self.inbox:
                if idle:
                    self.fail(RuntimeError('deadlock: the server waits for a message and the '
                                           'client generator yielded None'))
                    break
                idle = True
            await self.step(self.inbox.pop(0) if self.inbox else None)

    def take(self, n):
        # (view, mask key, mask phase): up to n bytes (n < 0: all) of the first queued chunk.
        if not self.out:
            return b'', None, 0
        chunk, key = self.out[0]
        start = self.pos
        end = len(chunk) if n < 0 else min(len(chunk), start + n)
        if end == len(chunk):
            self.out.pop(0)
            self.pos = 0
        else:
            self.pos = end
        return memoryview(chunk)[start:end], key, start

    # ---- what the server writes ----

    async def awrite(self, data):
        if not self.upgraded:
            self.head += data
            end = self.head.find(b'\r\n\r\n')
            if end < 0 or not self.head.startswith(b'HTTP/1.1 101 '):
                return                  # (a refusal: head and body are all kept in `head`)
            data = self.head[end + 4:]
            self.head[end + 4:] = b''
            self.upgraded = True
        if self.error is not None:
            return
        try:
            self.parser.feed(data)
        except Exception as exc:        # the server broke the protocol: the test should fail
            self.fail(exc)
            return
        while self.parser.events:
            op, payload = self.parser.events.pop(0)
            if op == OP_PING:
                self.send(OP_PONG, payload)
            elif op == OP_CLOSE:
                self.close_code = payload[0]
                self.send(OP_CLOSE, close_payload(payload[0]))      # echoed, unless ours went
            elif op == OP_TEXT:
                self.inbox.append(payload)
            elif op == OP_BINARY:
                self.inbox.append(bytes(payload))
        while self.inbox and self.started and not self.done:
            await self.step(self.inbox.pop(0))

    def close(self):
        self.closing = True

    # ---- the generator ----

    async def step(self, message):
        # Run the generator to its next yield: the first time with None (a generator can't be
        # sent a value before it starts), then with `message`; queue what it yields.
        if self.done:
            return
        if not self.started:
            self.started = True
            if message is not None:
                self.inbox.insert(0, message)
            message = None
        gen = self.gen
        try:
            out = await gen.asend(message) if hasattr(gen, 'asend') else gen.send(message)
        except (StopIteration, StopAsyncIteration):
            self.done = True
            self.send(OP_CLOSE, close_payload(1000))
            return
        except Exception as exc:
            self.fail(exc)
            return
        if out is None:
            return
        if isinstance(out, str):
            self.send(OP_TEXT, out.encode())
        elif isinstance(out, (bytes, bytearray, memoryview)):
            self.send(OP_BINARY, out)
        else:
            self.fail(TypeError('a websocket client yields str, bytes or None, not %s'
                                % type(out).__name__))

    def send(self, op, payload):
        # Queue a frame; nothing goes after our close frame.
        if self.closing:
            return
        key = os.urandom(4)
        self.out.append((header(op, len(payload), mask=key), None))
        if payload:                 # (an empty chunk would read as the end of the stream)
            self.out.append((payload, key))
        self.closing = op == OP_CLOSE

    def fail(self, exc):
        # Kept for TestClient.websocket to raise; the server sees the connection end.
        if self.error is None:
            self.error = exc
        self.done = self.closing = True
        self.out = []

