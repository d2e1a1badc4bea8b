"""RFC 6455 WebSockets for microdot: a drop-in for `microdot.websocket`, plus a client.

    @app.route('/echo')
    @with_websocket                    # or @with_websocket(protocols=['chat'], origins=[...])
    async def echo(request, ws):
        async for message in ws:       # str (text) or bytes-like (binary); ends when closed
            await ws.send(message)

    ws = await connect('ws://127.0.0.1:5000/echo')   # a client with the same WebSocket API

Frames are parsed and built by the sans-IO codec (camdot.frames); this module moves bytes:
the opening handshake, the close handshake, pings, and writes that never copy a payload.
"""
import asyncio
import binascii
import gc
import hashlib
import os

from microdot import Request, Response
from microdot.microdot import HTTPException, MUTED_SOCKET_ERRORS
from microdot.helpers import wraps

from camdot.compat import MICROPYTHON, print_exception
from camdot.frames import Parser, ProtocolError, header, close_payload
from camdot.mask import apply_mask

_GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
# Below this size a header and its payload go out as one joined write: one small copy is cheaper
# than a second write; above it the payload is written as it is (never copied).
_JOIN = 1024
# A frame part at least this big is read straight into the codec's buffer (MicroPython).
_DIRECT = 512
# What a full MicroPython socket is handed through the stream when it has to wait for room.
_STALL = 512


class WebSocketError(Exception):
    """The connection is closed (or failed); `ws.close_code` says how."""


class HandshakeError(HTTPException):
    """An upgrade request we refuse: answered with `status_code` (400, 403, 426) and `headers`."""

    def __init__(self, status_code, reason, headers=None):
        super().__init__(status_code, reason)
        self.headers = headers or {}

    async def answer(self, ws):
        # Written here rather than by microdot, whose responses say HTTP/1.0: some WebSocket
        # clients (python-websockets) only parse an HTTP/1.1 answer to an upgrade.
        body = self.reason.encode()
        res = 'HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n' \
              'Connection: close\r\n' % (self.status_code, _PHRASES.get(self.status_code, 'Error'),
                                        len(body))
        for name in self.headers:
            res += '%s: %s\r\n' % (name, self.headers[name])
        await ws._write((res.encode() + b'\r\n' + body,))


_PHRASES = {400: 'Bad Request', 403: 'Forbidden', 426: 'Upgrade Required'}


def _tokens(value, lower=True):
    if not value:
        return []
    return [t.strip().lower() if lower else t.strip() for t in value.split(',')]


def accept_key(key):
    """The Sec-WebSocket-Accept value (str) for a Sec-WebSocket-Key (str)."""
    return binascii.b2a_base64(hashlib.sha1(key.encode() + _GUID).digest())[:-1].decode()


def _key_ok(key):
    # base64 of exactly 16 bytes, in its one canonical 24-character form.
    try:
        raw = binascii.a2b_base64(key)
    except ValueError:
        return False
    return len(raw) == 16 and binascii.b2a_base64(raw)[:-1] == key.encode()


class WebSocket:
    """One WebSocket connection (server side, or client side from `connect`)."""
    CONT = 0
    TEXT = 1
    BINARY = 2
    CLOSE = 8
    PING = 9
    PONG = 10

    #: Largest message accepted (bigger ones close with 1009, decided before buffering).
    #: -1: `Request.max_body_length`; 0: no limit.
    max_message_length = -1
    #: Origins browsers may connect from, e.g. ['http://camdot.local']; None: any origin.
    #: Requests without an Origin header (non-browser clients) are always let in.
    origins = None
    #: Seconds between keepalive pings (0: none) and seconds to wait for the pong before the
    #: peer counts as dead (closed with 1011).
    ping_interval = 0
    ping_timeout = 10
    #: Seconds to wait for the peer's close frame after sending ours.
    close_timeout = 2
    #: Bytes read from the socket at a time.
    read_size = 4096 if MICROPYTHON else 65536

    def __init__(self, request, reader=None, writer=None, client=False):
        self.request = request
        if reader is None:
            reader, writer = request.sock[0], request.sock[1]
        self._r = reader
        self._w = writer
        # A MicroPython stream wraps a non-blocking socket: writing to the socket itself avoids
        # the copy the stream makes of whatever the socket did not take at once.
        self._sock = getattr(writer, 's', None) if MICROPYTHON else None
        self._buf = bytearray(self.read_size) if MICROPYTHON and \
            hasattr(reader, 'readinto') else None
        self._mv = memoryview(self._buf) if self._buf else None
        self._client = client
        limit = self.max_message_length
        self._parser = Parser(client=client,
                              max_message=Request.max_body_length if limit == -1 else limit)
        self._lock = asyncio.Lock()   # one frame at a time on the wire
        self._rlock = None            # shared by receive() and the keepalive, when there is one
        self._pending = []            # messages the keepalive read while nobody was receiving
        self._error = None
        self._rtask = self._wtask = self._ktask = self._pong = None
        self._aborted = False
        self._close_sent = False
        self.subprotocol = None
        self.closed = False
        self.close_code = None
        self.close_reason = ''

    # ---- the opening handshake (server) ----

    @staticmethod
    def origin_allowed(request, origins):
        """True when `request` may connect given the allow-list `origins` (None: any).

        Override (e.g. `WebSocket.origin_allowed = staticmethod(fn)`) for another policy.
        """
        origin = request.headers.get('Origin')
        if origins is None or origin is None or '*' in origins:
            return True
        origin = origin.lower().rstrip('/')
        for allowed in origins:
            if allowed.lower().rstrip('/') == origin:
                return True
        return False

    def _check(self, protocols, origins):
        req = self.request
        h = req.headers
        if req.method != 'GET' or req.http_version == '1.0':
            raise HandshakeError(400, 'WebSocket upgrade needs GET and HTTP/1.1')
        if 'websocket' not in _tokens(h.get('Upgrade')) or \
                'upgrade' not in _tokens(h.get('Connection')):
            raise HandshakeError(400, 'Not a WebSocket upgrade request')
        if h.get('Sec-WebSocket-Version', '').strip() != '13':
            raise HandshakeError(426, 'Unsupported WebSocket version',
                                 {'Sec-WebSocket-Version': '13'})
        key = h.get('Sec-WebSocket-Key', '').strip()
        if not _key_ok(key):
            raise HandshakeError(400, 'Bad Sec-WebSocket-Key')
        if not self.origin_allowed(req, self.origins if origins is None else origins):
            raise HandshakeError(403, 'Origin not allowed')
        if protocols:
            offered = _tokens(h.get('Sec-WebSocket-Protocol'), False)
            for p in protocols:           # the server's order is its preference
                if p in offered:
                    self.subprotocol = p
                    break
        return key

    async def handshake(self, protocols=None, origins=None):
        """Validate the upgrade request (HandshakeError if bad) and answer 101."""
        key = self._check(protocols, origins)
        res = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' \
              'Connection: Upgrade\r\nSec-WebSocket-Accept: ' + accept_key(key) + '\r\n'
        if self.subprotocol:
            res += 'Sec-WebSocket-Protocol: ' + self.subprotocol + '\r\n'
        await self._write((res.encode() + b'\r\n',))
        if self.ping_interval:
            self._start_keepalive()

    # ---- receiving ----

    async def receive(self):
        """The next message: str (text) or bytes-like (binary).

        Pings are answered and close frames echoed on the way; raises WebSocketError once the
        connection is closed (then `close_code` holds the code).
        """
        if self._pending:
            return self._pending.pop(0)
        while True:
            lock = self._rlock
            if lock is None:
                op, data = await self._event()
            else:
                await lock.acquire()
                try:
                    if self._pending:
                        return self._pending.pop(0)
                    op, data = await self._event()
                finally:
                    lock.release()
            if op == 1 or op == 2:
                return data
            await self._control(op, data)

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.receive()
        except WebSocketError:
            raise StopAsyncIteration

    async def _event(self):
        # The next (opcode, payload) from the codec, reading as needed.
        p = self._parser
        while True:
            ev = p.next()
            if ev is not None:
                return ev
            if self._error is not None:
                await self._fail(self._error.code, self._error.args[0] if self._error.args else '')
            if self.closed:
                raise WebSocketError('connection closed')
            try:
                more = await self._pump(p)
            except ProtocolError as exc:
                # Deliver what came before the violation first, then fail.
                self._error = exc
                continue
            if not more:
                self._gone()
                raise WebSocketError('connection lost')

    async def _pump(self, p):
        # Read once and hand the bytes to the codec; False at the end of the stream.
        self._rtask = asyncio.current_task()
        try:
            buf = self._buf
            if buf is None:
                data = await self._r.read(self.read_size)
                if data:
                    p.feed(data)
                return bool(data)
            # A big frame part is read straight into the codec's message buffer (no copy); small
            # frames come in read_size chunks, many per read.
            direct = p.wanted() >= _DIRECT
            if direct:
                buf = p.buffer()
            n = None
            while n is None:
                n = await self._r.readinto(buf)
            if not n:
                return False
            if direct:
                p.commit(n)
            else:
                p.feed(self._mv[:n])
            return True
        except asyncio.CancelledError:
            if self._aborted:
                raise WebSocketError('keepalive timeout')
            raise
        except OSError:
            return False
        finally:
            self._rtask = None

    async def _control(self, op, data):
        if op == 9:
            if not self._close_sent:
                await self._send(10, (data,), len(data))
        elif op == 10:
            if self._pong is not None:
                self._pong.set()
        elif op == 8:
            code, reason = data
            self.close_code = 1005 if code is None else code
            self.close_reason = reason
            if not self._close_sent:
                await self._send_close(code)      # echo the peer's code
            await self._end()
            raise WebSocketError('connection closed (%d)' % self.close_code)

    # ---- sending ----

    async def send(self, data, opcode=None):
        """Send one message: str as text, bytes/bytearray/memoryview as binary (never copied)."""
        if isinstance(data, str):
            # A MicroPython str exposes its UTF-8 bytes as a buffer: no encoded copy needed.
            data = memoryview(data) if MICROPYTHON else data.encode()
            opcode = opcode or 1
        await self._send(opcode or 2, (data,), len(data))

    async def send_parts(self, opcode, parts):
        """Send one message whose payload is the buffers in `parts`, one after the other.

        The header is written once and each buffer as it is, e.g. a small metadata header
        followed by a camera frame's memoryview.
        """
        n = 0
        for p in parts:
            n += len(p)
        await self._send(opcode, parts, n)

    async def ping(self, data=b''):
        """Send a ping (the pong is handled by receive())."""
        await self._send(9, (data,), len(data))

    async def _send(self, op, parts, n):
        if self._close_sent or self.closed:
            raise WebSocketError('connection closed')
        if self._client:
            # Client frames are masked with a fresh key: this copy is unavoidable.
            key = os.urandom(4)
            buf = bytearray(n)
            i = 0
            for p in parts:
                buf[i:i + len(p)] = p
                i += len(p)
            apply_mask(buf, key)
            parts = (header(op, n, mask=key), buf)
        elif n < _JOIN:
            h = header(op, n)
            for p in parts:
                h += p
            parts = (h,)
        else:
            parts = (header(op, n),) + tuple(parts)
        await self._lock.acquire()
        try:
            await self._write(parts)
        except OSError:
            self._gone()
            raise WebSocketError('connection lost')
        finally:
            self._lock.release()

    async def _write(self, bufs):
        w = self._w
        s = self._sock
        if s is None:
            if hasattr(w, 'drain'):
                for b in bufs:
                    w.write(b)
                await self._drain()
            else:                         # e.g. microdot's AsyncBytesIO
                for b in bufs:
                    await w.awrite(b)
            return
        for b in bufs:
            n = len(b)
            off = s.write(b) or 0
            if off < n:
                mv = memoryview(b)
                while off < n:
                    # The socket is full: give the stream a small piece so that drain() waits
                    # for room (copying only that piece), then write the rest directly again.
                    end = min(off + _STALL, n)
                    w.write(mv[off:end])
                    await self._drain()
                    off = end
                    if off < n:
                        off += s.write(mv[off:]) or 0
        # Always yield once per message, as microdot's awrite() does, so a send loop is fair.
        await self._drain()

    async def _drain(self):
        self._wtask = asyncio.current_task()
        try:
            await self._w.drain()
        except asyncio.CancelledError:
            if self._aborted:
                raise OSError(32, 'keepalive timeout')
            raise
        finally:
            self._wtask = None

    # ---- closing ----

    async def close(self, code=1000, reason=''):
        """Send a close frame with `code` and `reason`, wait briefly for the peer's, end."""
        if self.closed:
            return
        if not self._close_sent:
            try:
                await self._send_close(code, reason)
            except WebSocketError:
                return
        try:
            if self._rtask is None:
                await asyncio.wait_for(self._await_close(), self.close_timeout)
            else:                          # another task is receiving: it will see the reply
                for _ in range(int(self.close_timeout * 20)):
                    if self.closed:
                        break
                    await asyncio.sleep(0.05)
        except (asyncio.TimeoutError, WebSocketError, OSError):
            pass
        if self.close_code is None:
            self.close_code = code
        await self._end()

    async def _await_close(self):
        while not self.closed:
            op, data = await self._event()
            if op == 8:
                code, self.close_reason = data
                self.close_code = 1005 if code is None else code
                return

    async def _send_close(self, code=1000, reason=''):
        payload = b'' if code is None else close_payload(code, reason)
        await self._send(8, (payload,), len(payload))
        self._close_sent = True

    async def _fail(self, code, reason=''):
        # A protocol violation: send its close code and drop the connection.
        self._error = None
        self.close_code = code
        if not self._close_sent:
            try:
                await self._send_close(code, reason[:100] if isinstance(reason, str) else '')
            except (WebSocketError, ValueError):
                pass
        await self._end()
        raise WebSocketError('protocol error (%d)' % code)

    def _gone(self):
        if self.close_code is None:
            self.close_code = 1006
        self.closed = True

    async def _end(self):
        self.closed = True
        if self._ktask is not None and self._ktask is not asyncio.current_task():
            self._ktask.cancel()
        self._ktask = None
        if self._client:
            # The server closes TCP first; give it a moment, then close our side.
            try:
                await asyncio.wait_for(self._r.read(64), self.close_timeout)
            except Exception:
                pass
            try:
                await self._w.aclose() if hasattr(self._w, 'aclose') else self._w.close()
            except Exception:
                pass

    # ---- keepalive ----

    def _start_keepalive(self):
        self._rlock = asyncio.Lock()
        self._pong = asyncio.Event()
        self._ktask = asyncio.create_task(self._keepalive())

    async def _keepalive(self):
        try:
            while not self.closed:
                await asyncio.sleep(self.ping_interval)
                if self.closed:
                    break
                timeout = self.ping_timeout or self.ping_interval
                self._pong.clear()
                try:
                    await asyncio.wait_for(self.ping(b'camdot'), timeout)
                    await asyncio.wait_for(self._wait_pong(), timeout)
                except asyncio.TimeoutError:
                    try:   # tell the peer if its socket still takes data; then stop waiting on it
                        await asyncio.wait_for(self._send_close(1011, 'keepalive timeout'), 1)
                    except Exception:
                        pass
                    self._abort()
                    break
        except (WebSocketError, OSError):
            pass

    async def _wait_pong(self):
        while not self._pong.is_set():
            if self._rlock.locked() or len(self._pending) > 7:
                await self._pong.wait()   # whoever is receiving will see the pong
                return
            # Nobody is receiving (e.g. a send-only handler): read here; keep messages for later.
            await self._rlock.acquire()
            try:
                op, data = await self._event()
            finally:
                self._rlock.release()
            if op == 1 or op == 2:
                self._pending.append(data)
            else:
                await self._control(op, data)

    def _abort(self):
        # The peer is dead: stop the tasks waiting on it; microdot closes the socket after the
        # handler returns.
        self._aborted = True
        self.closed = True
        self.close_code = 1011
        for task in (self._rtask, self._wtask):
            if task is not None:
                task.cancel()


async def websocket_upgrade(request, protocols=None, origins=None):
    """Upgrade the request to a WebSocket inside a route and return the WebSocket.

        @app.route('/ws')
        async def ws_route(request):
            ws = await websocket_upgrade(request, protocols=['chat'])
            ...

    A bad request raises HandshakeError (an HTTPException: 400, 403 or 426).
    """
    ws = WebSocket(request)
    try:
        await ws.handshake(protocols, origins)
    except HandshakeError as exc:
        if exc.status_code == 426 and 426 not in request.app.error_handlers:
            # An HTTPException carries no headers: let the app answer 426 with the version.
            request.app.errorhandler(426)(_upgrade_required)
        raise

    @request.after_request
    async def after_request(request, response):
        return Response.already_handled

    return ws


def _upgrade_required(request):
    return 'Unsupported WebSocket version', 426, {'Sec-WebSocket-Version': '13'}


async def _run(ws, coro):
    # Run a handler: a failure in it closes its connection with 1011, never the server.
    try:
        await coro
    except WebSocketError:
        pass
    except OSError as exc:
        if exc.args and exc.args[0] not in MUTED_SOCKET_ERRORS:
            print_exception(exc)
    except MemoryError:
        ws._pending = []
        gc.collect()
        print('camdot.websocket: out of memory, closing the connection with 1011')
        await _quiet_close(ws, 1011)
    except Exception as exc:
        print_exception(exc)
        await _quiet_close(ws, 1011)
    finally:
        await _quiet_close(ws, 1000)


async def _quiet_close(ws, code):
    try:
        await ws.close(code)
    except Exception:
        ws.closed = True


def with_websocket(f=None, protocols=None, origins=None):
    """Make a route a WebSocket endpoint; the handler gets (request, ws, ...).

        @app.route('/echo')
        @with_websocket                       # or @with_websocket(protocols=[...], origins=[...])
        async def echo(request, ws):
            async for message in ws:
                await ws.send(message)

    A bad upgrade request is answered 400, 403 (origin) or 426 (version); an exception in the
    handler closes its connection with 1011 and is logged.
    """
    if f is None:
        return lambda g: with_websocket(g, protocols, origins)

    @wraps(f)
    async def wrapper(request, *args, **kwargs):
        ws = WebSocket(request)
        try:
            await ws.handshake(protocols, origins)
        except HandshakeError as exc:
            await exc.answer(ws)
            return Response.already_handled
        await _run(ws, f(request, ws, *args, **kwargs))
        return Response.already_handled
    return wrapper


async def connect(url, protocols=None, headers=None):
    """Open a client connection and return its WebSocket.

        ws = await connect('ws://127.0.0.1:5000/echo', protocols=['chat'])

    Raises WebSocketError when the server refuses the upgrade.
    """
    scheme, _, rest = url.partition('://')
    if scheme not in ('ws', 'wss'):
        raise ValueError('not a ws:// or wss:// URL: ' + url)
    hostport, slash, path = rest.partition('/')
    path = slash + path or '/'
    host, _, port = hostport.rpartition(':')
    if not host or not port.isdigit():
        host, port = hostport, '443' if scheme == 'wss' else '80'
    if scheme == 'wss':
        reader, writer = await asyncio.open_connection(host.strip('[]'), int(port), ssl=True)
    else:
        reader, writer = await asyncio.open_connection(host.strip('[]'), int(port))
    ws = WebSocket(None, reader, writer, client=True)
    key = binascii.b2a_base64(os.urandom(16))[:-1].decode()
    req = 'GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' \
          'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n' % (path, hostport, key)
    if protocols:
        req += 'Sec-WebSocket-Protocol: ' + ', '.join(protocols) + '\r\n'
    for name in headers or {}:
        req += '%s: %s\r\n' % (name, headers[name])
    try:
        await ws._write(((req + '\r\n').encode(),))
        status = (await reader.readline()).decode().split(' ', 2)
        got = {}
        while True:
            line = (await reader.readline()).decode().strip()
            if not line:
                break
            name, _, value = line.partition(':')
            got[name.strip().lower()] = value.strip()
        if len(status) < 2 or status[1] != '101':
            raise WebSocketError('upgrade refused: ' + ' '.join(status[1:]).strip())
        if 'websocket' not in _tokens(got.get('upgrade')) or \
                'upgrade' not in _tokens(got.get('connection')) or \
                got.get('sec-websocket-accept') != accept_key(key):
            raise WebSocketError('bad upgrade response')
        sub = got.get('sec-websocket-protocol')
        if sub and sub not in (protocols or ()):
            raise WebSocketError('server chose a protocol we did not offer: ' + sub)
    except BaseException:
        try:
            await writer.aclose() if hasattr(writer, 'aclose') else writer.close()
        except Exception:
            pass
        raise
    ws.subprotocol = sub
    if ws.ping_interval:
        ws._start_keepalive()
    return ws
