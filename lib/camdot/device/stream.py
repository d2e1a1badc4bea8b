"""The camera's capture loop, fanned out through the hub to many viewers.

    from camdot.device.stream import Stream
    stream = Stream(hub, cam, config)    # camdot.app makes it; camdot.device.camera_routes serves it
    stream.stats                         # {'fps': 19.8, 'viewers': 2, 'state': 'streaming', ...}

The loop captures only while someone watches, paced at camera.fps (capped by camera.fps_cap),
and publishes ONE reused `Frame` on 'camera/frame'; every viewer holds a latest-wins subscription,
so a slow viewer skips frames instead of queueing them. Joins and leaves go out on 'camera/viewers'
(the count), camera failures on 'camera/status' (a dict). How a frame then leaves for each kind of
viewer (a WebSocket message, MJPEG parts, a /capture body) is camdot.device.senders'.

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
the camera's routes answer 503 with that reason, and WebSocket viewers get it as a status.
A viewer that takes no frame for camera.viewer_timeout_ms (a dead connection: the peer vanished
without closing it) is dropped, so it no longer counts against the viewer cap.
"""
import asyncio
import json
import time

from camdot.compat import ticks_ms, ticks_diff, ticks_add
from camdot.hub import SubscriptionClosed

TOPIC_FRAME = 'camera/frame'
TOPIC_VIEWERS = 'camera/viewers'
TOPIC_STATUS = 'camera/status'
NONE_LIMIT = 5        # consecutive "no frame" captures that count as a failure
BACKOFF_MIN = 250     # ms, re-init backoff after a capture failure, doubling up to BACKOFF_MAX
BACKOFF_MAX = 16000
VIEWER_TIMEOUT_MS = 30000   # default camera.viewer_timeout_ms: no frame taken that long -> dropped
NO_FRAMES = 'no frames from camera'
BOUNDARY = 'camdotframe'    # between the parts of an MJPEG stream (Frame.part)


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
        self.view = None    # a memoryview of buf, made once per frame for every viewer
        self.body = None    # the same after its SOI
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
        self.fps_cap = cfg.get('fps_cap', 30) or 30
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
        # the capture loop's pace and its rate: when the next frame is due, frames since `_window`
        self._due = self._window = ticks_ms()
        self._in_window = 0

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
        self.ensure_running()

    def ensure_running(self):
        """Start the capture loop if it is not running (it also retries a failing camera)."""
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
        self.ensure_running()
        self._wake.set()
        return v

    def leave(self, v):
        self.release(v)
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

    def hold(self, v):
        """`v` sends the current frame straight from the driver's buffer, from its first byte,
        until release(v): the capture loop waits for it (within the grace period) before the
        next capture."""
        if not v.holding:
            v.holding = True
            self.frame.users += 1
        v.off = 0
        v.rest = None

    def release(self, v):
        """`v` no longer sends from the driver's buffer (if it did)."""
        if v.holding:
            v.holding = False
            self.frame.users -= 1

    def _evict(self):
        # Stragglers past the grace period: let go of the driver's buffer on their behalf.
        buf = self.frame.buf
        for v in self.viewers:
            if not v.holding or buf is None:
                continue
            self.release(v)
            v.slow = True
            self.stats['evicted'] += 1
            if v.kind == 'ws':
                v.evicted = True
                if v.task is not None:
                    v.task.cancel()
            else:
                try:
                    v.rest = self.copy(buf[v.off:])
                except MemoryError:
                    v.evicted = True

    def copy(self, buf):
        """A private copy of (part of) a frame for one viewer (counted); MemoryError: no room."""
        out = copy_of(buf)
        self.stats['copies'] += 1
        return out

    def sent(self, v, t0):
        """A frame went out to `v`, sending since t0 (ticks_ms): slow if it took over a period."""
        self.stats['sent'] += 1
        v.slow = ticks_diff(ticks_ms(), t0) > self.period

    @property
    def retry_after_s(self):
        """While failing: seconds until the camera's next try (at least 1)."""
        return max(1, self._backoff // 1000)

    def set_fps(self, fps):
        """Pace the capture loop at `fps` (1..camera.fps_cap); returns the rate used."""
        fps = max(1, min(int(fps), self.fps_cap))
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
        """The capture loop: while someone watches, one frame per period, published to them."""
        self._due = self._window = ticks_ms()
        self._in_window = 0
        while True:
            if not self.viewers:
                await self._idle()
                continue
            now = await self._pace()
            if self.frame.users:
                await self._settle()
            self._prune(now)
            if not self.viewers:
                continue
            buf, err = await self._capture()
            if buf is None:
                await self._missed(err)
                continue
            self._publish(buf)
            self._measure(now)

    async def _idle(self):
        # No viewers. A camera that does not work is retried all the same (backoff), so that
        # /capture and a returning viewer find it working; else wait for a viewer.
        if self.failing:
            await self._recover(self._init_error)
            if self.cam.ready and not self._init_error:
                self._recovered()
            return
        self.stats['state'] = 'idle'
        self.stats['fps'] = 0.0
        self._wake.clear()
        await self._wake.wait()
        self._due = self._window = ticks_ms()
        self._in_window = 0

    async def _pace(self):
        # Wait for the next frame's time; returns now. Never bursts to catch up.
        now = ticks_ms()
        wait = ticks_diff(self._due, now)
        if wait > 0:
            await asyncio.sleep(wait / 1000)
            now = ticks_ms()
        else:
            # Behind (a camera slower than the pace): the viewers still get their turn to
            # take the last frame before it is released for the next capture. (1 ms, not 0:
            # MicroPython runs tasks due at the same tick in no set order.)
            await asyncio.sleep(0.001)
        self._due = ticks_add(self._due, self.period)
        if ticks_diff(now, self._due) > 0:
            self._due = ticks_add(now, self.period)
        return now

    async def _capture(self):
        # (the camera's buffer, None) or (None, why: an exception, or None for "no frame").
        self.frame.buf = self.frame.view = self.frame.body = None   # let go before the next
        cam = self.cam
        if not cam.ready and self._started:
            return None, self._init_error
        try:
            if not cam.ready:
                self._started = True  # the first viewer starts the camera
                cam.init()
            return await cam.acapture(), None
        except Exception as exc:
            return None, exc

    async def _missed(self, err):
        # No frame: an error, or NONE_LIMIT empty captures in a row, is a failure to recover.
        self.stats['errors'] += 1
        self._nones += 1
        if err is not None or self._nones >= NONE_LIMIT:
            await self._recover(err)
            self._due = ticks_ms()

    def _publish(self, buf):
        frame = self.frame
        self._nones = 0
        if frame.status is not None:
            self._recovered()
        frame.seq += 1
        frame.t = epoch_ms()
        frame.buf = buf
        frame.view = memoryview(buf)
        frame.body = frame.view[2:]
        self.hub.publish(TOPIC_FRAME, frame)
        self.stats['frames'] += 1
        self.stats['state'] = 'streaming'

    def _measure(self, now):
        # The delivered rate, over windows of a second or more.
        self._in_window += 1
        span = ticks_diff(now, self._window)
        if span >= 1000:
            self.stats['fps'] = round(self._in_window * 1000 / span, 1)
            self.stats['framesize'] = self.cam.framesize
            self._window = now
            self._in_window = 0

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
