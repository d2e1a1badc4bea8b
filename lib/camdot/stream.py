"""Live camera streaming: one capture loop fanned out through the hub to many viewers.

    from camdot import stream
    s = stream.install(app, hub, cam, config)     # routes /, /ws/stream, /stream, /capture
    s.stats                      # {'fps': 19.8, 'viewers': 2, 'state': 'streaming', ...}

The loop captures only while someone watches, paced at camera.fps (capped by camera.max_fps),
and publishes ONE reused `Frame` on 'camera/frame'; every viewer holds a latest-wins subscription,
so a slow viewer skips frames instead of queueing them. Joins and leaves go out on 'camera/viewers'
(the count), camera failures on 'camera/status' (a dict).

Zero-copy lifetime: a driver frame is valid only until the next capture(). A viewer sending
straight from it counts itself in `frame.users`; before capturing again the loop waits for that
count to drop to 0, for at most `camera.stall_ms` (default: two frame periods, >= 100 ms). A viewer
still sending after that is a straggler: a WebSocket viewer is cut off (its task is cancelled and
the connection dropped: the page reconnects), an MJPEG or /capture viewer gets a copy of the bytes
it has not sent yet (the only copy of a frame, a last resort) and carries on. Viewers whose last
send took longer than a frame period ('slow', and every new viewer for its first frame) are sent
a private copy instead, so they never hold the driver's buffer and never delay the others (no
room for the copy: it is sent from the driver's buffer after all). copy_of() is the only copy.
Capture failures (an exception, or NONE_LIMIT empty frames in a row) send viewers a status and
re-initialise the camera with backoff (BACKOFF_MIN doubling to BACKOFF_MAX). A camera that does
not start (at boot, or after a failure) is retried the same way even while nobody watches; until
it works, `stats['error']` says why in words a user can act on (camdot.camera.describe_error),
/capture and /stream answer 503 with that reason, and /ws/stream viewers get it as a status.
A viewer that takes no frame for camera.viewer_timeout_ms (a dead connection: the peer vanished
without closing it) is dropped, so it no longer counts against the viewer cap.

/ws/stream: each binary message is one complete JPEG the browser decodes as is: the frame with a
JPEG comment (COM) segment inserted after its SOI carrying "camdot seq=N t=EPOCH_MS v=VIEWERS".
That header goes out with ws.send_parts(BINARY, [header, frame[2:]]): the frame is never copied.
Text messages are JSON: {"type": "hello", ...} on connect, {"type": "status", "state": ...} when
the camera fails and recovers.
"""
import asyncio
import json
import os
import time

from camdot.compat import ticks_ms, ticks_diff, ticks_add
from camdot.hub import SubscriptionClosed

TOPIC_FRAME = 'camera/frame'
TOPIC_VIEWERS = 'camera/viewers'
TOPIC_STATUS = 'camera/status'
BOUNDARY = 'camdotframe'
CHUNK = 4096          # MJPEG body pieces: a full socket makes the stream copy at most this much
NONE_LIMIT = 5        # consecutive "no frame" captures that count as a failure
BACKOFF_MIN = 250     # ms, re-init backoff after a capture failure, doubling up to BACKOFF_MAX
BACKOFF_MAX = 16000
VIEWER_TIMEOUT_MS = 30000   # default camera.viewer_timeout_ms: no frame taken that long -> dropped
SNAPSHOT_TIMEOUT_S = 5      # /capture waits this long for a frame
NO_FRAMES = 'no frames from camera'


def copy_of(buf):
    """The only copies of a frame (slow and evicted viewers); MemoryError when no room."""
    return bytes(buf)


def epoch_ms():
    return time.time_ns() // 1000000


class Frame:
    """The one frame object the loop publishes (reused). `buf` is None while not valid."""

    def __init__(self):
        self.seq = 0
        self.t = 0          # capture time, ms since the epoch
        self.buf = None     # the driver's JPEG (memoryview or bytes)
        self.body = None    # memoryview of buf after its SOI
        self.users = 0      # viewers sending straight from buf right now
        self.status = None  # JSON text while the camera is failing
        self.viewers = 0
        self._com = self._part = None
        self._com_seq = self._part_seq = -1

    def com(self):
        """SOI + the COM segment the page reads; sent before `body` (cached per frame)."""
        if self._com_seq != self.seq:
            text = b'camdot seq=%d t=%d v=%d' % (self.seq, self.t, self.viewers)
            n = len(text) + 2
            self._com = b'\xff\xd8\xff\xfe' + bytes((n >> 8, n & 255)) + text
            self._com_seq = self.seq
        return self._com

    def part(self):
        """The MJPEG part head, shaped like CameraWebServer's (cached per frame)."""
        if self._part_seq != self.seq:
            self._part = ('--%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n'
                          'X-Timestamp: %d.%06d\r\nX-Frame: %d\r\n\r\n' % (
                              BOUNDARY, len(self.buf or b''), self.t // 1000, self.t % 1000 * 1000,
                              self.seq)).encode()
            self._part_seq = self.seq
        return self._part


class Viewer:
    """One watcher: a latest-wins subscription plus what the loop needs to know about it."""

    def __init__(self, stream, kind):
        self.kind = kind                  # 'ws' | 'mjpeg' | 'capture'
        self.sub = stream.hub.subscribe(TOPIC_FRAME, policy='latest')
        self.task = asyncio.current_task()
        self.seq = 0                      # last frame taken
        self.status = None                # last status text sent
        self.slow = True                  # new viewers get their first frame as a copy
        self.holding = False              # counted in frame.users
        self.off = 0                      # MJPEG: bytes of the held frame already handed out
        self.rest = None                  # MJPEG: the unsent tail, copied when evicted
        self.evicted = False
        self.last = ticks_ms()

    async def next(self):
        """The next new Frame, or a status text; None once the subscription is closed."""
        while True:
            try:
                _, frame = await self.sub.get()
            except SubscriptionClosed:
                return None
            self.last = ticks_ms()
            if frame.buf is not None:
                if frame.seq != self.seq:
                    self.seq = frame.seq
                    return frame
            elif frame.status is not None and frame.status is not self.status:
                self.status = frame.status
                return frame.status


class Stream:
    """The capture loop and the viewers. See the module docstring."""

    def __init__(self, hub, cam, config=None):
        cfg = (config or {}).get('camera', config or {})
        self.max_fps = cfg.get('max_fps', 30) or 30
        self._stall = cfg.get('stall_ms')
        self.viewer_timeout = cfg.get('viewer_timeout_ms') or VIEWER_TIMEOUT_MS
        self.hub = hub
        self.cam = cam
        self.name = (config or {}).get('hostname', 'camdot')
        self.frame = Frame()
        self.viewers = []
        self.stats = {'fps': 0.0, 'target_fps': 0, 'viewers': 0, 'frames': 0, 'sent': 0,
                      'copies': 0, 'evicted': 0, 'errors': 0, 'reinits': 0, 'state': 'idle',
                      'error': None, 'backend': cam.name, 'framesize': cam.framesize}
        self.set_fps(cfg.get('fps', 20) or 20)
        self._task = None
        self._wake = asyncio.Event()  # set when a viewer joins the idle loop
        self._backoff = BACKOFF_MIN
        self._nones = 0
        self._started = cam.ready
        self._init_error = None       # why the camera did not start (the last try)

    @property
    def failing(self):
        """True while the camera is known not to work (a status is out, retries go on)."""
        return self.frame.status is not None

    def start_camera(self):
        """Start the camera now (at boot: its frame buffers come before the heap fragments).
        True if it runs; a failure is kept for finish_start() to report and retry."""
        if self.cam.ready:
            return True
        self._started = True
        try:
            self.cam.init()
        except Exception as exc:
            self._init_error = exc
            return False
        self.stats['framesize'] = self.cam.framesize
        return True

    def finish_start(self):
        """Once the app is built (the saved settings are in): a camera that did not start is
        reported and retried in the background; a saved frame size is made now, while no frame
        is in use, so one the board can't take rolls back at boot."""
        cam = self.cam
        if self._init_error is not None and not cam.ready:
            self.start_failed(self._init_error)
            return
        if not cam.ready or self.viewers or self.frame.users or not hasattr(cam, 'apply_pending'):
            return
        try:
            cam.apply_pending()
        except Exception as exc:   # it rolled back and still does not start
            self.start_failed(exc)
        self.stats['framesize'] = cam.framesize

    def start_failed(self, exc):
        """The camera did not start (at install): say why, and retry it in the background."""
        self._started = True
        self._init_error = exc
        self._failed(exc)
        self._ensure_task()

    def _ensure_task(self):
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()  # a fresh one: this may be a new event loop (tests)
            try:
                self._task = asyncio.create_task(self.run())
            except RuntimeError:   # CPython without a running loop: the first viewer starts it
                self._task = None

    # ---- viewers ----

    def join(self, kind):
        v = Viewer(self, kind)
        self.viewers.append(v)
        self._count()
        self._ensure_task()
        self._wake.set()
        return v

    def leave(self, v):
        self._release(v)
        v.sub.close()
        if v in self.viewers:
            self.viewers.remove(v)
            self._count()

    def _count(self):
        n = 0
        for v in self.viewers:
            if v.kind != 'capture':
                n += 1
        self.stats['viewers'] = self.frame.viewers = n
        self.hub.publish(TOPIC_VIEWERS, n)

    def _release(self, v):
        if v.holding:
            v.holding = False
            self.frame.users -= 1

    def _evict(self):
        # Stragglers past the grace period: let go of the driver's buffer on their behalf.
        buf = self.frame.buf
        for v in self.viewers:
            if not v.holding or buf is None:
                continue
            self._release(v)
            v.slow = True
            self.stats['evicted'] += 1
            if v.kind == 'ws':
                v.evicted = True
                if v.task is not None:
                    v.task.cancel()
            else:
                try:
                    v.rest = copy_of(buf[v.off:])
                    self.stats['copies'] += 1
                except MemoryError:
                    v.evicted = True

    def set_fps(self, fps):
        """Pace the capture loop at `fps` (1..camera.max_fps); returns the rate used."""
        fps = max(1, min(int(fps), self.max_fps))
        self.period = max(1, 1000 // fps)
        self.grace = self._stall or max(2 * self.period, 100)
        self.stats['target_fps'] = fps
        return fps

    def stop(self):
        """Stop the capture loop (it restarts when a viewer joins)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    # ---- the capture loop ----

    async def run(self):
        cam = self.cam
        frame = self.frame
        stats = self.stats
        due = ticks_ms()
        window = ticks_ms()
        count = 0
        while True:
            if not self.viewers and self.failing:
                # Nobody watches a camera that does not work: retry it all the same (backoff),
                # so /capture and a returning viewer find it working.
                await self._recover(self._init_error)
                if cam.ready and not self._init_error:
                    self._recovered()
                continue
            if not self.viewers:
                stats['state'] = 'idle'
                stats['fps'] = 0.0
                self._wake.clear()
                await self._wake.wait()
                due = window = ticks_ms()
                count = 0
                continue
            now = ticks_ms()
            wait = ticks_diff(due, now)
            if wait > 0:
                await asyncio.sleep(wait / 1000)
                now = ticks_ms()
            else:
                # Behind (a camera slower than the pace): the viewers still get their turn to
                # take the last frame before it is released for the next capture. (1 ms, not 0:
                # MicroPython runs tasks due at the same tick in no set order.)
                await asyncio.sleep(0.001)
            due = ticks_add(due, self.period)
            if ticks_diff(now, due) > 0:
                due = ticks_add(now, self.period)  # behind: don't burst to catch up
            if frame.users:
                await self._settle()
            self._prune(now)
            if not self.viewers:
                continue
            frame.buf = frame.body = None
            err = self._init_error if not cam.ready and self._started else None
            buf = None
            if err is None:
                try:
                    if not cam.ready and not self._started:
                        self._started = True  # the first viewer starts the camera
                        cam.init()
                    buf = await cam.acapture()
                except Exception as exc:
                    err = exc
            if buf is None:
                stats['errors'] += 1
                self._nones += 1
                if err is not None or self._nones >= NONE_LIMIT:
                    await self._recover(err)
                    due = ticks_ms()
                continue
            self._nones = 0
            if frame.status is not None:
                self._recovered()
                stats['state'] = 'streaming'
            frame.seq += 1
            frame.t = epoch_ms()
            frame.buf = buf
            frame.body = memoryview(buf)[2:]
            self.hub.publish(TOPIC_FRAME, frame)
            stats['frames'] += 1
            stats['state'] = 'streaming'
            count += 1
            span = ticks_diff(now, window)
            if span >= 1000:
                stats['fps'] = round(count * 1000 / span, 1)
                stats['framesize'] = cam.framesize
                window = now
                count = 0

    async def _settle(self):
        # Wait (bounded) for the viewers sending from the current buffer to finish.
        frame = self.frame
        end = ticks_add(ticks_ms(), self.grace)
        while frame.users > 0 and ticks_diff(end, ticks_ms()) > 0:
            await asyncio.sleep(0.001)
        if frame.users > 0:
            self._evict()

    def _prune(self, now):
        for v in list(self.viewers):
            if not v.holding and ticks_diff(now, v.last) > self.viewer_timeout and v.sub.pending:
                self.leave(v)  # it stopped taking frames long ago: a dead or stalled client

    def _set_status(self, state, message, retry_ms=None):
        doc = {'type': 'status', 'state': state, 'message': message}
        if retry_ms is not None:
            doc['retry_ms'] = retry_ms
        self.stats['state'] = state
        self.hub.publish(TOPIC_STATUS, doc)
        return doc

    def _failed(self, err):
        # Tell everyone the camera failed and why; the retry delay doubles while it keeps failing.
        from camdot.camera import describe_error
        msg = describe_error(err) if err is not None else NO_FRAMES
        delay = self._backoff
        self._backoff = min(delay * 2, BACKOFF_MAX)
        doc = self._set_status('error', msg, delay)
        self.stats['error'] = msg
        self.frame.status = json.dumps(doc)
        self.hub.publish(TOPIC_FRAME, self.frame)
        print('camdot stream: camera failed (%s); re-init in %d ms' % (msg, delay))
        return delay

    def _recovered(self):
        self._set_status('streaming', 'camera recovered')
        self.frame.status = None
        self.stats['error'] = None
        self.stats['state'] = 'idle'
        self._backoff = BACKOFF_MIN

    async def _recover(self, err):
        # The camera failed (an exception or NONE_LIMIT empty captures, or it did not start):
        # tell everyone, wait, re-initialise.
        delay = self._failed(err)
        await asyncio.sleep(delay / 1000)
        self._nones = 0
        self.stats['reinits'] += 1
        try:
            self.cam.reinit()
            self._init_error = None
        except Exception as exc:
            self._init_error = exc
            print('camdot stream: re-init failed:', exc)

    # ---- senders ----

    async def send_ws(self, ws, v, frame):
        """Send one frame to a WebSocket viewer (zero-copy unless it is slow)."""
        head = frame.com()
        body = frame.body
        copy = None
        if v.slow:
            try:
                copy = copy_of(body)
                self.stats['copies'] += 1
            except MemoryError:
                pass  # no room for a copy: send from the driver's buffer after all
        if copy is None:
            v.holding = True
            frame.users += 1
        else:
            body = copy
        t0 = ticks_ms()
        try:
            await ws.send_parts(2, (head, body))  # one message: header + frame, no join
        finally:
            self._release(v)
        self.stats['sent'] += 1
        v.slow = ticks_diff(ticks_ms(), t0) > self.period

    async def serve_ws(self, ws):
        """Run one /ws/stream viewer until it goes away."""
        v = self.join('ws')
        reader = asyncio.create_task(self._read(ws, v))
        try:
            await ws.send(json.dumps({'type': 'hello', 'name': self.name,
                                      'framesize': self.cam.framesize,
                                      'fps': self.stats['target_fps'], 'backend': self.cam.name,
                                      'viewers': self.stats['viewers']}))
            if self.frame.status is not None:
                v.status = self.frame.status
                await ws.send(v.status)
            while True:
                item = await v.next()
                if item is None:
                    break
                if isinstance(item, str):
                    await ws.send(item)
                else:
                    await self.send_ws(ws, v, item)
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
            self.leave(v)

    async def _read(self, ws, v):
        # Viewers send nothing we need; reading notices their close (and answers pings).
        try:
            while True:
                await ws.receive()
        except BaseException:  # closed, failed or cancelled: either way this viewer is done
            pass
        v.sub.close()

    async def snapshot(self, timeout=SNAPSHOT_TIMEOUT_S):
        """The next frame for /capture, held for sending: a CaptureBody (its .seq, .t, .n).

        Raises OSError when no frame comes within `timeout` seconds.
        """
        v = self.join('capture')
        try:
            return CaptureBody(self, v, await asyncio.wait_for(self._grab(v), timeout))
        except asyncio.TimeoutError:
            self.leave(v)
            raise OSError('no frame from the camera in %d s (%s)' % (timeout, self.stats['state']))
        except BaseException:
            self.leave(v)
            raise

    async def _grab(self, v):
        while True:
            item = await v.next()
            if item is None:
                raise OSError('stream stopped')
            if not isinstance(item, str) and item.buf is not None:
                # Held at once, before the loop can capture again.
                v.holding = True
                item.users += 1
                v.off = 0
                return item


class CaptureBody:
    """The /capture response body: one held frame in CHUNK-sized pieces (no copy)."""

    def __init__(self, stream, v, frame):
        self.s = stream
        self.v = v
        self.seq = frame.seq
        self.t = frame.t
        self.n = len(frame.buf)
        self.mv = memoryview(frame.buf)
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
            end = min(v.off + CHUNK, self.n)
            piece = self.mv[v.off:end]
            v.off = end
            return piece
        await self.aclose()
        raise StopAsyncIteration

    async def aclose(self):
        self.done = True
        self.s.leave(self.v)


class MjpegBody:
    """The /stream response body: an async iterator of multipart pieces (MicroPython has no
    async generators). Each frame goes out as its part head, then CHUNK-sized memoryview
    pieces of the driver's buffer (or one copy when the viewer is slow), then CRLF.
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
                end = min(v.off + CHUNK, self.n)
                piece = self.mv[v.off:end]
                v.off = end
                return piece
            self.mv = None
            s._release(v)
            self._sent(v)
            return b'\r\n'
        if self.todo:
            piece = self.todo.pop(0)
            if not self.todo:
                self._sent(v)
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
                self.todo = [copy_of(frame.buf), b'\r\n']
                s.stats['copies'] += 1
                return frame.part()
            except MemoryError:
                self.todo = None  # no room for a copy: send from the driver's buffer after all
        v.holding = True
        frame.users += 1
        v.off = 0
        v.rest = None
        self.mv = memoryview(frame.buf)
        self.n = len(frame.buf)
        return frame.part()

    def _sent(self, v):
        self.s.stats['sent'] += 1
        v.slow = ticks_diff(ticks_ms(), self.t0) > self.s.period

    async def aclose(self):
        if self.v is not None:
            self.mv = None
            self.s.leave(self.v)


# ---- routes ----

def _asset(www, name, gzip_ok):
    # (path, gzipped, stat): NAME.gz when the client takes gzip, else NAME; the board has only the
    # .gz (deploy ships no raw copy), so that is served even then rather than nothing.
    tries = ((name + '.gz', True), (name, False)) if gzip_ok else ((name, False), (name + '.gz', True))
    for file, gz in tries:
        try:
            return www + '/' + file, gz, os.stat(www + '/' + file)
        except OSError:
            pass
    return None, False, None


class _Titled:
    """The raw page file, read in pieces, with the device name put in its <title>."""

    def __init__(self, f, name):
        self.f = f
        self.name = name

    def read(self, n):
        data = self.f.read(n)
        if self.name is not None:  # the title is in the first piece
            data = data.replace(b'<title>camdot', b'<title>%s - camdot' % self.name.encode(), 1)
            self.name = None
        return data

    def close(self):
        self.f.close()


def install(app, hub, cam, config=None):
    """Add /, /ws/stream, /stream and /capture to `app`; return the Stream (its `stats`).

    The camera is not started here: stream.start_camera() does (the app, right after), else the
    first viewer."""
    # Imported here: the capture loop and the viewers (and their tests) need no HTTP server.
    from microdot import Response
    from camdot.websocket import with_websocket

    config = config or {}
    stream = Stream(hub, cam, config)
    app.stream = stream
    # The page beside this module (/lib/camdot/www on the board); 'www_dir' for frozen firmware.
    www = config.get('www_dir') or (globals().get('__file__', '/lib/camdot/x').rsplit('/', 1)[0]
                                    + '/www')
    name = config.get('hostname', 'camdot')

    @app.get('/')
    async def index(request):
        gzip_ok = 'gzip' in request.headers.get('Accept-Encoding', '')
        path, gz, st = _asset(www, 'index.html', gzip_ok)
        if path is None:
            return 'device page missing (run `make setup`)', 500
        etag = '"%x-%x%s"' % (st[6], int(st[8]), '-gz' if gz else '')
        headers = {'Content-Type': 'text/html; charset=utf-8', 'ETag': etag,
                   'Cache-Control': 'no-cache', 'Vary': 'Accept-Encoding'}
        if request.headers.get('If-None-Match') == etag:
            return '', 304, headers
        if gz:
            headers['Content-Encoding'] = 'gzip'
            headers['Content-Length'] = str(st[6])
            return Response(body=open(path, 'rb'), headers=headers)
        # Uncompressed fallback (only off-board: deploy ships the .gz), streamed like the .gz.
        return Response(body=_Titled(open(path, 'rb'), name), headers=headers)

    @app.get('/ws/stream')
    @with_websocket
    async def ws_stream(request, ws):
        await stream.serve_ws(ws)

    def unavailable():
        # 503 with the reason while the camera does not work; Retry-After: its next try.
        stats = stream.stats
        retry_s = max(1, stream._backoff // 1000)
        return {'error': stats['error'] or NO_FRAMES, 'status': stats['state'],
                'retry_after': retry_s}, 503, {'Retry-After': str(retry_s),
                                               'Access-Control-Allow-Origin': '*'}

    @app.get('/stream')
    async def mjpeg(request):
        if stream.failing:
            stream._ensure_task()   # (CPython without a loop at install: retries start here)
            return unavailable()
        return Response(body=MjpegBody(stream), headers={
            'Content-Type': 'multipart/x-mixed-replace;boundary=' + BOUNDARY,
            'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store',
            'X-Framerate': str(stream.stats['target_fps'])})

    @app.get('/capture')
    async def capture(request):
        if stream.failing:
            stream._ensure_task()
            return unavailable()
        try:
            body = await stream.snapshot()
        except OSError as exc:
            if stream.failing:
                return unavailable()
            return {'error': str(exc), 'status': stream.stats['state']}, 503
        if request.method == 'HEAD':  # microdot won't read the body: let go of the frame now
            await body.aclose()
        return Response(body=body, headers={
            'Content-Type': 'image/jpeg', 'Content-Length': str(body.n),
            'Cache-Control': 'no-store',
            'Content-Disposition': 'inline; filename="camdot-%d.jpg"' % body.seq,
            'X-Timestamp': '%d.%06d' % (body.t // 1000, body.t % 1000 * 1000),
            'Access-Control-Allow-Origin': '*'})

    from camdot import limits
    limits.count_as_viewers(app, mjpeg, ws_stream)
    return stream
