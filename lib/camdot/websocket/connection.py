"""WebSocket: one connection over asyncio streams, the server side (the client's is camdot.websocket.client).

    ws = WebSocket(request)              # (with_websocket does this, then the handshake)
    await ws.handshake(protocols=['chat'])
    msg = await ws.receive()             # str (text) or bytes (binary); WebSocketError once closed
    await ws.send(msg)                   # str -> text, bytes-like -> binary, never copied
    await ws.close(1000)

The rules (answer pings, echo a close, fail on a violation) are the sans-IO Protocol's
(camdot.websocket.protocol); this layer moves bytes: it reads into the protocol, writes what it
answers, and ends the TCP connection when the close handshake is over. One task reads and one
writes at a time: a task that wants a turn while another has it waits for the turn to end (an
Event, made only while someone waits).
"""
import asyncio

from microdot import Request

from camdot.compat import MICROPYTHON, const
from camdot.websocket.codec import (CLOSE_NORMAL, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG,
                                    OP_TEXT)
from camdot.websocket.handshake import (HandshakeError, accept, check_request, choose_subprotocol,
                                        origin_allowed)
from camdot.websocket.keepalive import keepalive
from camdot.websocket.protocol import Protocol

# MicroPython: a frame part this big is read straight into the codec's buffer.
_DIRECT = const(512)
# MicroPython: what a full socket is handed through the stream, to wait for room.
_STALL = const(512)
# MicroPython: a send the socket takes whole does not wait for the event loop, but every _FAIR-th
# such send yields to the other tasks, so that a task sending without pause can't starve them.
_FAIR = const(16)
# Messages a ping() reads for receive() before it stops reading (nobody is taking them).
_UNREAD = const(8)

_unyielded = 0   # sends since the last such yield (all connections: only one task runs at a time)


class WebSocketError(Exception):
    """The connection is closed or failed; `ws.close_code` says how."""
    #: connect(): the HTTP status of a refused upgrade (None: not an HTTP answer at all).
    status_code = None


async def _raise(exc):
    raise exc


class WebSocket:
    """One WebSocket connection, the server side: what a `with_websocket` route gets."""
    CONT = OP_CONT
    TEXT = OP_TEXT
    BINARY = OP_BINARY
    CLOSE = OP_CLOSE
    PING = OP_PING
    PONG = OP_PONG

    #: Largest message accepted; a bigger one closes with 1009, decided from its announced
    #: length before buffering. -1: `Request.max_body_length`; 0: no limit. Per route:
    #: with_websocket(max_message_length=N).
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
    #: What binary messages arrive as: bytes (a copy of the buffer they were read into, as
    #: microdot gives them), or bytearray: that buffer itself, no copy (opt-in, per class or per
    #: connection).
    binary_type = bytes
    #: The sans-IO side of this end of the connection.
    Protocol = Protocol

    # Per-connection state that starts at these values lives in the class until it changes
    # (a smaller instance on MicroPython).
    subprotocol = None
    closed = False       # the connection is over (closed by either side, or lost)
    _reader = _writer = None    # the tasks reading and writing now
    _ktask = None        # the keepalive task
    _turn_ended = None   # an Event while some task waits for a read or write turn
    _aborted = False

    def __init__(self, request, reader=None, writer=None, max_message_length=None):
        self.request = request
        if reader is None and request is not None:
            reader, writer = request.sock[0], request.sock[1]
        self._r = reader
        self._w = writer
        self._drains = hasattr(writer, 'drain')
        # A MicroPython stream wraps a non-blocking socket: writing to the socket itself avoids
        # the copy the stream makes of whatever the socket does not take at once.
        self._sock = getattr(writer, 's', None) if MICROPYTHON else None
        self._buf = memoryview(bytearray(self.read_size)) \
            if MICROPYTHON and hasattr(reader, 'readinto') else None
        limit = self.max_message_length if max_message_length is None else max_message_length
        self.protocol = self.Protocol(Request.max_body_length if limit == -1 else limit)

    @property
    def close_code(self):
        """The peer's close code (1005: none given); ours if it never answered; 1006: lost."""
        return self.protocol.close_code

    @property
    def close_reason(self):
        return self.protocol.close_reason

    # ---- the opening handshake ----

    #: The Origin policy: replace it (`WebSocket.origin_allowed = fn`, with or without
    #: staticmethod) for another; fn(request, origins) -> bool.
    origin_allowed = staticmethod(origin_allowed)

    async def handshake(self, protocols=None, origins=None):
        """Check the upgrade request (HandshakeError if bad) and answer 101."""
        req = self.request
        refusal = check_request(req, self.origins if origins is None else origins,
                                type(self).origin_allowed)
        if refusal is not None:
            raise HandshakeError(*refusal)
        self.subprotocol = choose_subprotocol(req, protocols)
        await self._write(accept(req, self.subprotocol))
        self.start_keepalive()

    def start_keepalive(self):
        """Ping every ping_interval, if set (camdot.websocket.keepalive); after the handshake."""
        if self.ping_interval:
            try:
                self._ktask = asyncio.create_task(keepalive(self))
            except MemoryError:              # after the 101: go on without a keepalive
                pass

    # ---- receiving ----

    async def receive(self):
        """The next message: str (text) or bytes (binary; see binary_type).

        Pings are answered and a close frame is echoed on the way; raises WebSocketError once
        the connection is closed (`close_code` then says how).
        """
        p = self.protocol
        if not (p.events or p.error or self.closed):
            await self._read_more()          # (the usual case: nothing is waiting, read first)
        while True:
            ev = p.next_message()
            if ev is not None:
                op, data = ev
                if op == OP_BINARY and self.binary_type is bytes:
                    data = bytes(data)
                return data
            if self.closed:
                raise WebSocketError('connection closed (%s)' % self.close_code)
            await self._read_more()

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.receive()
        except WebSocketError:
            raise StopAsyncIteration

    async def ping(self, data=b''):
        """Send a ping and wait for a pong (bound it with asyncio.wait_for).

        When no other task is reading, this one reads meanwhile: messages are kept for
        receive() (up to a few: then it waits for someone to take them).
        """
        p = self.protocol
        pongs = p.pongs
        await self.send_parts(OP_PING, (data,))
        while p.pongs == pongs:
            if self.closed:
                raise WebSocketError('connection closed')
            if len(p.events) >= _UNREAD or not p.reading():
                await self._wait_turn()      # for receive() to take messages before reading on
            else:
                await self._read_more()

    async def _read_more(self):
        # Read once and act on what came; or, while another task reads, wait until its turn
        # ends: either way the caller then looks again at what it waits for. (One coroutine
        # for the whole read: a task parked here holds one generator, not a chain of them.)
        if self._reader is not None:
            await self._wait_turn()
            return
        p = self.protocol
        self._reader = asyncio.current_task()
        try:
            if not p.failed:
                n = 0
                try:
                    buf = self._buf
                    if buf is None:
                        data = await self._r.read(self.read_size)
                        n = len(data)
                        if n:
                            p.receive_data(data)
                    else:
                        # A big frame part goes straight into the codec's message buffer (no
                        # copy); small frames come read_size at a time, many per read.
                        direct = p.wanted() >= _DIRECT
                        if direct:
                            buf = p.buffer()
                        n = None
                        while n is None:
                            n = await self._r.readinto(buf)
                        if n:
                            if direct:
                                p.receive_into(n)
                            else:
                                p.receive_data(buf[:n])
                except asyncio.CancelledError:
                    if self._aborted:
                        raise WebSocketError('connection aborted')
                    raise
                except OSError:
                    n = 0
                if not n:                    # the peer closed TCP, or the connection was lost
                    p.receive_eof()
                    await self._end()
                    return
            if p.outgoing is not None or p.closing:   # (most reads bring messages only)
                for frame in p.data_to_send():   # pongs, the close echo, a failure's close
                    await self._write(frame)
                if p.failed:
                    await self._drain()
                    await self._end()
                elif p.close_received:
                    await self._end()
        finally:
            self._reader = None
            if self._turn_ended is not None:
                self._end_turn()

    async def _drain(self):
        # After failing: read what the peer still sends until it pauses or closes. Closing a
        # socket with unread data resets the connection, and the peer could lose our close.
        try:
            self._w.write_eof()              # CPython: tell the peer we are done
        except Exception:
            pass
        for _ in range(int(self.close_timeout * 10)):
            try:
                if not await asyncio.wait_for(self._r.read(self.read_size), 0.1):
                    break
            except Exception:
                break

    # ---- sending ----

    def send(self, data, opcode=None):
        """Send one message: str as text, bytes/bytearray/memoryview as binary (never copied).

            await ws.send('hello')

        `opcode` overrides the frame type (e.g. `ws.PING`).
        """
        if isinstance(data, str):
            # A MicroPython str exposes its UTF-8 bytes as a buffer: no encoded copy needed.
            data = memoryview(data) if MICROPYTHON else data.encode()
            opcode = opcode or OP_TEXT
        return self.send_parts(opcode or OP_BINARY, (data,))

    def send_parts(self, opcode, parts):
        """Send one message whose payload is the buffers in `parts`, one after the other.

            await ws.send_parts(ws.BINARY, (header, frame_view))

        The header is written once and each buffer as it is, e.g. a small metadata header
        followed by a camera frame's memoryview.
        """
        # (send and send_parts are plain functions that hand over the write's coroutine: one
        # generator per message sent. A closed connection gets a coroutine that raises.)
        p = self.protocol
        if p.close_sent or self.closed:
            return _raise(WebSocketError('connection closed'))
        h, parts = p.frame(opcode, parts)
        return self._write(h, parts)

    async def _write(self, head, parts=()):
        # Write `head`, then each of `parts`, as one piece on the wire (one writer at a time).
        global _unyielded
        while self._writer is not None:
            await self._wait_turn()
            if self.closed:
                raise WebSocketError('connection closed')
        w = self._w
        s = self._sock
        self._writer = asyncio.current_task()
        partial = False
        try:
            i = -1
            while i < len(parts):            # the head, then each part (no tuple per send)
                b = parts[i] if i >= 0 else head
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
        except asyncio.CancelledError:
            if self._aborted:
                raise WebSocketError('connection aborted')
            if partial:                      # cut off mid-frame: the stream can't go on
                self.abort()
            raise
        except OSError:
            self.protocol.receive_eof()
            self.closed = True
            raise WebSocketError('connection lost')
        finally:
            self._writer = None
            if self._turn_ended is not None:
                self._end_turn()

    # ---- turns: one reader and one writer at a time ----

    async def _wait_turn(self):
        # Until the task reading or writing now ends its turn.
        ev = self._turn_ended
        if ev is None:
            ev = self._turn_ended = asyncio.Event()
        await ev.wait()

    def _end_turn(self):
        ev = self._turn_ended
        self._turn_ended = None
        ev.set()

    # ---- closing ----

    async def close(self, code=CLOSE_NORMAL, reason=''):
        """Send a close frame (code, reason), wait up to close_timeout for the peer's, end.
        Messages not received yet are dropped. ValueError for a code or reason that can't
        be sent (1005, 1006, 1015, < 1000, >= 5000; a reason over 123 bytes)."""
        if self.closed:
            await self._end()
            return
        self.protocol.send_close(code, reason)
        try:
            await asyncio.wait_for(self._closing(), self.close_timeout)
        except (asyncio.TimeoutError, WebSocketError, OSError):
            pass
        await self._end()

    async def _closing(self):
        # Send our close frame (a stalled send would delay it), then read until the peer's
        # close frame ends the connection.
        for frame in self.protocol.data_to_send():
            await self._write(frame)
        while not self.closed:
            await self._read_more()

    async def fail(self, code, reason=''):
        """Fail the connection (RFC 6455 7.1.7): send a close frame with `code` if the socket
        takes it within a second, then drop the connection without waiting for an answer."""
        self.protocol.fail(code, reason)
        try:
            for frame in self.protocol.data_to_send():
                await asyncio.wait_for(self._write(frame), 1)
        except Exception:
            pass
        self.abort()

    async def _end(self):
        # The connection is over (may run more than once): stop the keepalive now, so that a
        # dead connection's memory is not held until its next ping. (The server's socket is
        # microdot's: it closes it when the route returns.)
        self.closed = True
        self.protocol.connection_closed()
        t = self._ktask
        self._ktask = None
        if t is not None and t is not asyncio.current_task() and t is not self._reader:
            t.cancel()        # (a keepalive that is reading sees `closed` and ends on its own)

    def abort(self):
        """Drop the connection now, without a close handshake (e.g. a send was cut off)."""
        self._aborted = self.closed = True
        self.protocol.receive_eof()
        me = asyncio.current_task()
        for task in (self._reader, self._writer, self._ktask):
            if task is not None and task is not me:
                task.cancel()       # the tasks waiting on this peer get WebSocketError
        try:
            if self._sock is not None:
                self._sock.close()
            else:
                self._w.close()
        except Exception:
            pass
