"""How a frame of the Stream leaves for each kind of viewer, straight from the driver's buffer.

    await senders.serve_ws(stream, ws)      # a /ws/stream viewer, until it goes
    body = senders.MjpegBody(stream)        # the /stream response body
    body = await senders.snapshot(stream)   # the /capture response body: one frame

/ws/stream: each binary message is one complete JPEG the browser decodes as is: the frame with a
JPEG comment (COM) segment inserted after its SOI carrying "camdot seq=N t=EPOCH_MS v=VIEWERS".
That header goes out with ws.send_parts(BINARY, [header, frame[2:]]): the frame is never copied.
Text messages are JSON: {"type": "hello", ...} on connect, {"type": "status", "state": ...} when
the camera fails and recovers.

/stream (MJPEG) and /capture send a held frame in CHUNK-sized memoryview pieces. A viewer counts
itself in frame.users while it sends from the driver's buffer; a slow one gets a copy instead,
and a straggler the capture loop evicts gets the unsent tail copied (camdot.device.stream says
when). MicroPython has no async generators: the bodies are async iterators.
"""
import asyncio
import json

from camdot.compat import ticks_ms
from camdot.websocket.codec import OP_BINARY

CHUNK = 4096          # MJPEG and /capture body pieces: a full socket makes a copy at most this big
SNAPSHOT_TIMEOUT_S = 5      # /capture waits this long for a frame


# ---- /ws/stream ----

async def serve_ws(stream, ws):
    """Run one /ws/stream viewer until it goes away."""
    v = stream.join('ws')
    reader = asyncio.create_task(_read(ws, v))
    try:
        cam = stream.cam
        await ws.send(json.dumps({'type': 'hello', 'name': stream.name,
                                  'framesize': cam.framesize, 'fps': stream.stats['target_fps'],
                                  'backend': cam.name, 'viewers': stream.stats['viewers']}))
        if stream.frame.status is not None:
            v.status = stream.frame.status
            await ws.send(v.status)
        while True:
            item = await v.next()
            if item is None:
                break
            if isinstance(item, str):
                await ws.send(item)
            else:
                await send_ws(stream, ws, v, item)
    except asyncio.CancelledError:
        if not v.evicted:
            raise
        # Cut off mid-message by the loop: the connection can't continue; drop it.
        abort = getattr(ws, 'abort', None)
        if abort is not None:
            abort()
        ws.closed = True
    finally:
        reader.cancel()
        stream.leave(v)


async def send_ws(stream, ws, v, frame):
    """Send one frame to a WebSocket viewer (zero-copy unless it is slow)."""
    head = frame.com()
    body = frame.body
    copy = None
    if v.slow:
        try:
            copy = stream.copy(body)
        except MemoryError:
            pass  # no room for a copy: send from the driver's buffer after all
    if copy is None:
        stream.hold(v)
    else:
        body = copy
    t0 = ticks_ms()
    try:
        await ws.send_parts(OP_BINARY, (head, body))  # one message: header + frame, no join
    finally:
        stream.release(v)
    stream.sent(v, t0)


async def _read(ws, v):
    # Viewers send nothing we need; reading notices their close (and answers pings).
    try:
        while True:
            await ws.receive()
    except BaseException:  # closed, failed or cancelled: either way this viewer is done
        pass
    v.sub.close()


def _piece(v, mv, n):
    # The next CHUNK of the held frame `mv` (n bytes) that `v` has not handed out yet.
    end = min(v.off + CHUNK, n)
    piece = mv[v.off:end]
    v.off = end
    return piece


# ---- /capture ----

async def snapshot(stream, timeout=SNAPSHOT_TIMEOUT_S):
    """The next frame for /capture, held for sending: a CaptureBody (its .seq, .t, .n).

    Raises OSError when no frame comes within `timeout` seconds.
    """
    v = stream.join('capture')
    try:
        return CaptureBody(stream, v, await asyncio.wait_for(_grab(stream, v), timeout))
    except asyncio.TimeoutError:
        stream.leave(v)
        raise OSError('no frame from the camera in %d s (%s)' % (timeout, stream.stats['state']))
    except BaseException:
        stream.leave(v)
        raise


async def _grab(stream, v):
    while True:
        item = await v.next()
        if item is None:
            raise OSError('stream stopped')
        if not isinstance(item, str) and item.buf is not None:
            stream.hold(v)   # at once, before the loop can capture again
            return item


class CaptureBody:
    """The /capture response body: one held frame in CHUNK-sized pieces (no copy)."""

    def __init__(self, stream, v, frame):
        self.s = stream
        self.v = v
        self.seq = frame.seq
        self.t = frame.t
        self.n = len(frame.buf)
        self.mv = frame.view
        self.done = False

    def __aiter__(self):
        return self

    async def __anext__(self):
        v = self.v
        if v.rest is not None and not self.done:  # evicted: the unsent tail was copied for us
            self.done = True
            rest = v.rest
            v.rest = None
            return rest
        if not self.done and not v.evicted and v.off < self.n:
            return _piece(v, self.mv, self.n)
        await self.aclose()
        raise StopAsyncIteration

    async def aclose(self):
        self.done = True
        self.s.leave(self.v)


# ---- /stream ----

class MjpegBody:
    """The /stream response body: an async iterator of multipart pieces. Each frame goes out as
    its part head, then CHUNK-sized memoryview pieces of the driver's buffer (or one copy when the
    viewer is slow), then CRLF.
    """

    def __init__(self, stream):
        self.s = stream
        self.v = None
        self.mv = None      # the held frame (zero-copy) being sent
        self.n = 0
        self.todo = None    # pieces still to send for a copied frame
        self.t0 = ticks_ms()

    def __aiter__(self):
        return self

    async def __anext__(self):
        s = self.s
        v = self.v
        if v is None:
            v = self.v = s.join('mjpeg')
        if self.mv is not None:
            if v.rest is not None:          # evicted: the unsent tail was copied for us
                rest = v.rest
                v.rest = None
                self.mv = None
                self.todo = [b'\r\n']
                return rest
            if v.evicted:
                await self.aclose()
                raise StopAsyncIteration
            if v.off < self.n:
                return _piece(v, self.mv, self.n)
            self.mv = None
            s.release(v)
            s.sent(v, self.t0)
            return b'\r\n'
        if self.todo:
            piece = self.todo.pop(0)
            if not self.todo:
                s.sent(v, self.t0)
            return piece
        while True:
            item = await v.next()
            if item is None:
                await self.aclose()
                raise StopAsyncIteration
            if not isinstance(item, str):
                break
            # A status: MJPEG has no place for it; keep the connection, frames resume later.
        frame = item
        self.t0 = ticks_ms()
        if v.slow:
            try:
                self.todo = [s.copy(frame.buf), b'\r\n']
                return frame.part()
            except MemoryError:
                self.todo = None  # no room for a copy: send from the driver's buffer after all
        s.hold(v)
        self.mv = frame.view
        self.n = len(frame.buf)
        return frame.part()

    async def aclose(self):
        if self.v is not None:
            self.mv = None
            self.s.leave(self.v)
