"""RFC 6455 WebSockets for microdot: a drop-in for `microdot.websocket`, plus a client.

    @app.route('/echo')
    @with_websocket                    # or @with_websocket(protocols=['chat'], origins=[...])
    async def echo(request, ws):
        async for message in ws:       # str (text) or bytes-like (binary); ends when closed
            await ws.send(message)

    ws = await connect('ws://127.0.0.1:5000/echo')   # a client with the same WebSocket API

The sans-IO codec (camdot.websocket.codec) parses and builds frames; this module moves the bytes: the
opening and closing handshakes, pings, and writes that never copy a payload.
"""
import asyncio
import binascii
import gc
import hashlib

from microdot import Request, Response
from microdot.microdot import HTTPException

from camdot.compat import MICROPYTHON, const, print_exception
from camdot.websocket.codec import Parser, ProtocolError, header, close_payload

try:
    from functools import wraps
except ImportError:   # MicroPython: the wrapper keeps its own name (saves microdot.helpers' RAM)
    wraps = None

# Below this size a header and its payload go out as one joined write (one small copy is cheaper
# than a second write); above it the payload is written as it is, never copied.
_JOIN = const(1024)
# MicroPython: a frame part this big is read straight into the codec's buffer.
_DIRECT = const(512)
# MicroPython: what a full socket is handed through the stream, to wait for room.
_STALL = const(512)
# MicroPython: a send the socket takes whole does not wait for the event loop, but every _FAIR-th
# such send yields to the other tasks, so that a task sending without pause can't starve them.
_FAIR = const(16)
_unyielded = 0   # sends since the last such yield (all connections: only one task runs at a time)


class WebSocketError(Exception):
    """The connection is closed or failed; `ws.close_code` says how."""


def __getattr__(name):
    # Names a server connection does not need, loaded on first use: HandshakeError (the
    # refused-upgrade path, camdot.websocket.refuse), connect (the client, camdot.websocket.client) and
    # websocket_upgrade (camdot.websocket.upgrade).
    if name == 'HandshakeError':
        from camdot.websocket.refuse import HandshakeError
        return HandshakeError
    if name == 'connect':
        from camdot.websocket.client import connect
        return connect
    if name == 'websocket_upgrade':     # microdot's in-route upgrade (camdot.websocket.upgrade)
        from camdot.websocket.upgrade import websocket_upgrade
        return websocket_upgrade
    raise AttributeError(name)


def _tokens(value, lower=True):
    # A header's comma list. (Loops rather than comprehensions here and below: each
    # comprehension is one more code object in RAM.)
    out = []
    if value:
        for t in value.split(','):
            t = t.strip()
            out.append(t.lower() if lower else t)
    return out


def accept_key(key):
    """The Sec-WebSocket-Accept value (str) for a Sec-WebSocket-Key (str)."""
    return binascii.b2a_base64(hashlib.sha1(
        key.encode() + b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest())[:-1].decode()


class WebSocket:
    """One WebSocket connection: the server side, or the client side from `connect`."""
    CONT = 0
    TEXT = 1
    BINARY = 2
    CLOSE = 8
    PING = 9
    PONG = 10

    #: Largest message accepted; a bigger one closes with 1009, decided from its announced
    #: length before buffering. -1: `Request.max_body_length`; 0: no limit.
    max_message_length = -1
    #: Origins browsers may connect from, e.g. ['http://camdot.local']; None: any. Requests
    #: without an Origin header (not from a browser) are let in.
    origins = None
    #: Keepalive: seconds between pings (0: none), and seconds to wait for the pong before the
    #: peer counts as dead and the connection is closed with 1011 (0: ping_interval).
    ping_interval = 0
    ping_timeout = 0
    #: Seconds to wait for the peer's close frame after sending ours.
    close_timeout = 2
    #: Bytes read from the socket at a time (a buffer of this size per connection on
    #: MicroPython; bigger frame parts are read straight into the message buffer).
    read_size = 1024 if MICROPYTHON else 65536

    # Per-connection state that starts at these values lives in the class until it changes
    # (a smaller instance dict on MicroPython).
    subprotocol = None
    closed = False
    close_code = None    # the peer's close code; ours if it never answered; 1006: lost
    close_reason = ''
    _rtask = _wtask = _ktask = None      # the tasks reading, writing, and keeping alive
    _kread = _pong = _aborted = _close_sent = False
    _pending = ()        # messages the keepalive read while nobody was receiving

    def __init__(self, request, reader=None, writer=None, client=False):
        self.request = request
        if reader is None:
            reader, writer = request.sock[0], request.sock[1]
        self._r = reader
        self._w = writer
        self._drains = hasattr(writer, 'drain')
        # A MicroPython stream wraps a non-blocking socket: writing to the socket itself avoids
        # the copy the stream makes of whatever the socket does not take at once.
        self._sock = getattr(writer, 's', None) if MICROPYTHON else None
        self._buf = memoryview(bytearray(self.read_size)) \
            if MICROPYTHON and hasattr(reader, 'readinto') else None
        limit = self.max_message_length
        self._parser = Parser(client, Request.max_body_length if limit == -1 else limit)

    # ---- the opening handshake (server) ----

    @staticmethod
    def origin_allowed(request, origins):
        """True when `request` may connect given the allow-list `origins` (None: any).

        Replace it (`WebSocket.origin_allowed = fn`, with or without staticmethod) for
        another policy.
        """
        origin = request.headers.get('Origin')
        if origins is None or origin is None or '*' in origins:
            return True
        origin = origin.lower().rstrip('/')
        for o in origins:
            if o.lower().rstrip('/') == origin:
                return True
        return False

    async def handshake(self, protocols=None, origins=None):
        """Check the upgrade request (HandshakeError if bad) and answer 101."""
        req = self.request
        h = req.headers
        key = h.get('Sec-WebSocket-Key', '').strip()
        try:   # base64 of exactly 16 bytes, in its one canonical 24-character form
            raw = binascii.a2b_base64(key)
        except ValueError:
            raw = b''
        # The first check that fails refuses the upgrade (camdot.websocket.refuse.REFUSALS[bad]).
        if req.method != 'GET' or req.http_version == '1.0':
            bad = 0
        elif 'websocket' not in _tokens(h.get('Upgrade')) or \
                'upgrade' not in _tokens(h.get('Connection')):
            bad = 1
        elif h.get('Sec-WebSocket-Version', '').strip() != '13':
            bad = 2
        elif len(raw) != 16 or binascii.b2a_base64(raw)[:-1] != key.encode():
            bad = 3
        elif not type(self).origin_allowed(req, self.origins if origins is None else origins):
            bad = 4
        else:
            bad = -1
        if bad >= 0:
            from camdot.websocket.refuse import refuse
            refuse(bad)
        offered = _tokens(h.get('Sec-WebSocket-Protocol'), False)
        for p in protocols or ():            # the server's order is its preference
            if p in offered:
                self.subprotocol = p
                break
        res = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' \
              'Connection: Upgrade\r\nSec-WebSocket-Accept: ' + accept_key(key) + '\r\n'
        if self.subprotocol:
            res += 'Sec-WebSocket-Protocol: ' + self.subprotocol + '\r\n'
        await self.send_parts(None, ((res + '\r\n').encode(),))
        if self.ping_interval:               # (the client does the same after its upgrade)
            try:   # camdot.websocket.keepalive: loaded only when keepalive pings are wanted
                from camdot.websocket.keepalive import keepalive
                self._ktask = asyncio.create_task(keepalive(self))
            except MemoryError:              # after the 101: go on without a keepalive
                pass

    # ---- receiving ----

    async def receive(self):
        """The next message: str (text) or bytes-like (binary).

        Pings are answered and a close frame is echoed on the way; raises WebSocketError once
        the connection is closed (`close_code` then says how).
        """
        while True:
            while self._kread:               # the keepalive is reading for us: wait for it
                await asyncio.sleep(0.01)
            if self._pending:
                return self._pending.pop(0)
            op, data = await self._event()
            if op < 8:
                return data

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.receive()
        except WebSocketError:
            raise StopAsyncIteration

    async def _event(self):
        # The next (opcode, payload) from the codec, reading as needed. A control frame is
        # handled here first: a ping answered, a pong noted, a close echoed (WebSocketError).
        p = self._parser
        events = p.events
        while True:
            if events:
                ev = events.pop(0)
                op, data = ev
                if op == 9:
                    if not self._close_sent:
                        await self.send_parts(10, (data,))
                elif op == 10:
                    self._pong = True
                elif op == 8:
                    code, self.close_reason = data
                    self.close_code = 1005 if code is None else code
                    if not self._close_sent:
                        await self.send_parts(8, (close_payload(code),))   # echo the peer's code
                    await self._end()
                    raise WebSocketError('connection closed (%d)' % self.close_code)
                return ev
            if self.closed:
                raise WebSocketError('connection closed')
            if p.error:
                # A protocol violation (after the events before it): send its code and drop
                # (camdot.websocket.refuse, loaded only when a peer breaks the rules; it raises).
                from camdot.websocket.refuse import fail
                await fail(self, p.error)
            self._rtask = asyncio.current_task()
            try:
                buf = self._buf
                if buf is None:
                    data = await self._r.read(self.read_size)
                    n = len(data)
                    if n:
                        p.feed(data)
                else:
                    # A big frame part goes straight into the codec's message buffer (no copy);
                    # small frames come read_size at a time, many per read.
                    direct = p.wanted() >= _DIRECT
                    if direct:
                        buf = p.buffer()
                    n = None
                    while n is None:
                        n = await self._r.readinto(buf)
                    if n:
                        if direct:
                            p.commit(n)
                        else:
                            p.feed(buf[:n])
            except ProtocolError:            # kept by the parser: handled above
                n = 1
            except asyncio.CancelledError:
                if self._aborted:
                    raise WebSocketError('connection aborted')
                raise
            except OSError:
                n = 0
            finally:
                self._rtask = None
            if not n:
                if self.close_code is None:
                    self.close_code = 1006
                self.closed = True
                raise WebSocketError('connection lost')

    # ---- sending ----

    async def send(self, data, opcode=None):
        """Send one message: str as text, bytes/bytearray/memoryview as binary (never copied).

        `opcode` overrides the frame type (e.g. `ws.PING`).
        """
        if isinstance(data, str):
            # A MicroPython str exposes its UTF-8 bytes as a buffer: no encoded copy needed.
            data = memoryview(data) if MICROPYTHON else data.encode()
            opcode = opcode or 1
        await self.send_parts(opcode or 2, (data,))

    async def send_parts(self, opcode, parts):
        """Send one message whose payload is the buffers in `parts`, one after the other.

        The header is written once and each buffer as it is, e.g. a small metadata header
        followed by a camera frame's memoryview. (Every frame goes out through here; opcode None
        sends the parts as they are, unframed: the upgrade's HTTP head.)
        """
        global _unyielded
        if self._close_sent or self.closed:
            raise WebSocketError('connection closed')
        n = 0
        for p in parts:
            n += len(p)
        if opcode is None:                   # the upgrade's HTTP head: sent as it is, no frame
            h = b''
        elif self._parser.client:
            # Client frames are masked with a fresh key: this copy is unavoidable.
            from camdot.websocket.client import masked
            h, parts = masked(opcode, parts, n)
        else:
            h = header(opcode, n)
            if n < _JOIN:
                for p in parts:
                    h += p
                parts = ()
        while self._wtask is not None:       # one frame at a time on the wire
            await asyncio.sleep(0.002)
            if self.closed:
                raise WebSocketError('connection closed')
        w = self._w
        s = self._sock
        self._wtask = asyncio.current_task()
        partial = False
        try:
            i = -1
            while i < len(parts):            # the header, then each part (no tuple per send)
                b = parts[i] if i >= 0 else h
                i += 1
                if s is None:
                    if self._drains:
                        w.write(b)
                    else:                    # e.g. microdot's AsyncBytesIO
                        await w.awrite(b)
                    continue
                off = s.write(b) or 0
                n = len(b)
                if off < n:
                    # The socket is full: give the stream a small piece so that drain() waits
                    # for room (copying only that piece), then write the rest straight to the
                    # socket again.
                    partial = True
                    b = memoryview(b)
                    while off < n:
                        end = min(off + _STALL, n)
                        w.write(b[off:end])
                        await w.drain()
                        off = end
                        if off < n:
                            off += s.write(b[off:]) or 0
            partial = False
            if s is None:
                if self._drains:
                    await w.drain()          # (CPython: flow control)
            else:
                _unyielded += 1
                if _unyielded >= _FAIR:
                    _unyielded = 0
                    await asyncio.sleep(0)
            if opcode == 8:
                self._close_sent = True
        except asyncio.CancelledError:
            if self._aborted:
                raise WebSocketError('connection aborted')
            if partial:                      # cut off mid-frame: the stream can't go on
                self.abort()
            raise
        except OSError:
            self.closed = True
            if self.close_code is None:
                self.close_code = 1006
            raise WebSocketError('connection lost')
        finally:
            self._wtask = None

    # ---- closing ----

    async def close(self, code=1000, reason=''):
        """Send a close frame (code, reason), wait up to close_timeout for the peer's, end."""
        if self.closed:
            await self._end()
            return
        close_payload(code, reason)          # ValueError for a code or reason we can't send
        try:
            await asyncio.wait_for(self._closing(code, reason), self.close_timeout)
        except (asyncio.TimeoutError, WebSocketError, OSError):
            pass
        if self.close_code is None:
            self.close_code = code
        await self._end()

    async def _closing(self, code, reason):
        # Send our close frame (a stalled send would delay it), then wait for the peer's;
        # data still in flight is dropped.
        if not self._close_sent:
            await self.send_parts(8, (close_payload(code, reason),))
        while not self.closed:
            if self._rtask is not None or self._kread:
                await asyncio.sleep(0.02)    # another task is reading: it will see the reply
                continue
            await self._event()              # until the peer's close frame ends it

    async def _end(self):
        # The connection is over (may run more than once): stop the keepalive now, so a dead
        # connection's memory is not held until its next ping; a client closes its socket.
        self.closed = True
        t = self._ktask
        # (When the keepalive itself is reading, it sees `closed` and ends on its own.)
        if t is not None and not self._kread and t is not asyncio.current_task():
            t.cancel()
        self._ktask = None
        if self._parser.client:
            from camdot.websocket.client import finish
            await finish(self)

    def abort(self):
        """Drop the connection now, without a close handshake (e.g. a send was cut off)."""
        self._aborted = self.closed = True
        if self.close_code is None:
            self.close_code = 1006
        me = asyncio.current_task()
        for task in (self._rtask, self._wtask, self._ktask):
            if task is not None and task is not me:
                task.cancel()       # the tasks waiting on this peer get WebSocketError
        try:
            if self._sock is not None:
                self._sock.close()
            else:
                self._w.close()
        except Exception:
            pass


def with_websocket(f=None, protocols=None, origins=None):
    """Make a route a WebSocket endpoint; the handler gets (request, ws, ...).

        @app.route('/echo')
        @with_websocket                     # or @with_websocket(protocols=[...], origins=[...])
        async def echo(request, ws): ...

    A bad upgrade request is answered 400, 403 (origin) or 426 (version). An exception in the
    handler is logged and closes its connection with 1011; the server keeps serving.
    """
    if f is None:
        return lambda g: with_websocket(g, protocols, origins)

    async def wrapper(request, *args, **kwargs):
        try:
            ws = WebSocket(request)
            await ws.handshake(protocols, origins)
        except MemoryError:                  # no room for one more connection: try later
            gc.collect()
            return 'Out of memory, try again later', 503
        except HTTPException as exc:         # HandshakeError: the upgrade is refused
            from camdot.websocket.refuse import answer
            await answer(ws, exc)
            return Response.already_handled
        code = 1000
        try:
            await f(request, ws, *args, **kwargs)
        except (WebSocketError, OSError):
            pass
        except MemoryError:
            ws._pending = ()
            gc.collect()
            print('camdot.websocket: out of memory; closing this connection with 1011')
            code = 1011
        except Exception as exc:
            print_exception(exc)
            code = 1011
        try:
            await ws.close(code)
        except Exception:
            ws.closed = True
        return Response.already_handled
    return wraps(f)(wrapper) if wraps else wrapper
