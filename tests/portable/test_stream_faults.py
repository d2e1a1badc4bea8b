"""Camera faults: a failing capture makes the loop tell viewers and re-init the camera with
backoff; the stream resumes when the camera recovers; a camera that does not start is retried
while nobody watches; a dead viewer is dropped. Also the MJPEG body. (The fake driver fails
as the real one does: capture() gives None, a start raises OSError.)"""
import asyncio
import json

import fake_cnadler
from camtools import use_driver, FakeWS, body_count
from camdot.camera import open_camera
from camdot.hub import Hub
from camdot.device import senders
from camdot.device.senders import MjpegBody, serve_ws, snapshot
from camdot.device.stream import Stream, TOPIC_STATUS, TOPIC_VIEWERS, NONE_LIMIT
from harness import araises, until


def make(fps=50, **extra):
    cfg = {'backend': 'cnadler', 'fps': fps, 'fps_cap': 100}
    cfg.update(extra)
    use_driver(fake_cnadler)
    cam = open_camera(cfg)
    cam.init()
    hub = Hub()
    s = Stream(hub, cam, {'camera': cfg})
    s._backoff = 20  # ms: keep the test short (the default starts at 250 ms)
    return hub, cam, s, fake_cnadler.Camera.instances[-1]


async def stop(s):
    # Cancel the loop and let the cancellation run: a task left in the queue would keep the
    # whole test's objects alive into the next test module (the small-heap run).
    loop = s._task
    s.stop()
    await until(lambda: loop is None or loop.done(), what='the loop to end')


def statuses(ws):
    return [d for d in (json.loads(t) for t in ws.texts) if d['type'] == 'status']


async def test_capture_errors_reinit_with_backoff_and_viewers_see_status():
    hub, cam, s, drv = make()
    seen = []
    hub.subscribe(TOPIC_STATUS, callback=lambda t, d: seen.append(d))
    ws = FakeWS()
    task = asyncio.create_task(serve_ws(s, ws))
    await until(lambda: len(ws.frames) >= 3)
    fake_cnadler.none_capture = NONE_LIMIT   # the camera stops sending frames ...
    fake_cnadler.fail_init = 2               # ... and the first two re-inits fail: the delay doubles
    await until(lambda: s.stats['reinits'] >= 3 and len(ws.frames) >= 6)
    st = statuses(ws)
    assert st and st[0]['state'] == 'error' and st[0]['message'] == 'no frames from camera'
    assert st[0]['retry_ms'] == 20
    errors = [d for d in seen if d['state'] == 'error']
    assert [d['retry_ms'] for d in errors[:3]] == [20, 40, 80], errors
    # the failed re-inits are described in words a user can act on, with the driver's own
    assert errors[1]['message'].startswith('camera not detected: check the ribbon cable')
    assert 'ESP_ERR_NOT_SUPPORTED' in errors[1]['message']
    assert seen[-1]['state'] == 'streaming'
    assert s.stats['state'] == 'streaming' and s.stats['error'] is None
    assert ('deinit',) in drv.calls
    # Frames after the recovery are whole and numbered on.
    for seq, data in ws.frames[-2:]:
        assert data[-2:] == b'\xff\xd9'
    assert not task.done()
    ws.hang_up()
    await until(lambda: not s.viewers, what='the viewers to leave')
    await stop(s)


async def test_repeated_empty_captures_count_as_a_failure():
    hub, cam, s, drv = make()
    ws = FakeWS()
    task = asyncio.create_task(serve_ws(s, ws))
    await until(lambda: len(ws.frames) >= 2)
    fake_cnadler.none_capture = NONE_LIMIT - 1  # a few missed frames are normal: no status
    await until(lambda: s.stats['errors'] >= NONE_LIMIT - 1)
    n = len(ws.frames)
    await until(lambda: len(ws.frames) > n + 1, what='frames after the missed ones')
    assert statuses(ws) == [] and s.stats['reinits'] == 0
    fake_cnadler.none_capture = NONE_LIMIT  # a run of them is a dead camera
    await until(lambda: s.stats['reinits'] >= 1)
    await until(lambda: s.stats['state'] == 'streaming')
    st = statuses(ws)
    assert st and st[0]['message'] == 'no frames from camera'
    n = len(ws.frames)
    await until(lambda: len(ws.frames) > n)
    ws.hang_up()
    await until(lambda: not s.viewers, what='the viewers to leave')
    await stop(s)


async def test_a_viewer_joining_a_failing_camera_gets_the_status_at_once():
    hub, cam, s, drv = make()
    fake_cnadler.none_capture = 1000
    fake_cnadler.fail_init = 1000
    first = FakeWS()
    t1 = asyncio.create_task(serve_ws(s, first))
    await until(lambda: s.stats['state'] == 'error')
    late = FakeWS()
    t2 = asyncio.create_task(serve_ws(s, late))
    await until(lambda: statuses(late))
    assert statuses(late)[0]['state'] == 'error'
    assert late.frames == []
    first.hang_up()
    late.hang_up()
    await until(lambda: not s.viewers, what='the viewers to leave')
    await stop(s)


async def parts(body, count):
    # Read `count` MJPEG parts from the body iterator: (headers dict, jpeg bytes).
    out = []
    buf = b''
    it = body.__aiter__()
    while len(out) < count:
        buf += bytes(await it.__anext__())
        while True:
            i = buf.find(b'\r\n\r\n')
            if i < 0:
                break
            head = buf[:i].decode().split('\r\n')
            assert head[0] == '--camdotframe', head
            h = dict(line.split(': ', 1) for line in head[1:])
            n = int(h['Content-Length'])
            if len(buf) < i + 4 + n + 2:
                break
            out.append((h, buf[i + 4:i + 4 + n]))
            assert buf[i + 4 + n:i + 6 + n] == b'\r\n'
            buf = buf[i + 6 + n:]
    return out


async def test_mjpeg_parts_are_whole_jpegs_with_camerawebserver_headers():
    hub, cam, s, drv = make()
    body = MjpegBody(s)
    got = await parts(body, 5)
    assert s.stats['viewers'] == 1
    for h, data in got:
        assert h['Content-Type'] == 'image/jpeg'
        assert 'X-Timestamp' in h and '.' in h['X-Timestamp']
        assert body_count(data) == int(h['X-Frame'])
        assert data[:2] == b'\xff\xd8' and data[-2:] == b'\xff\xd9'
    await body.aclose()
    assert s.stats['viewers'] == 0 and s.frame.users == 0
    await stop(s)


async def test_a_stalled_mjpeg_viewer_gets_a_copy_of_its_rest_and_goes_on():
    hub, cam, s, drv = make()
    s.grace = 30
    saved = senders.CHUNK
    senders.CHUNK = 8  # several pieces per (small fake) frame
    try:
        body = MjpegBody(s)
        await parts(body, 1)  # a new viewer's first frame is a copy; the next ones are not
        it = body.__aiter__()
        head = bytes(await it.__anext__())   # the part head: the frame is now held
        first = bytes(await it.__anext__())  # one piece handed to the socket, then it stalls
        assert s.frame.users == 1
        await until(lambda: s.stats['evicted'] == 1, what='the stalled viewer cut off')
        assert s.frame.users == 0
        n = s.stats['frames']
        await until(lambda: s.stats['frames'] >= n + 2, what='the loop going on without us')
        rest = b''
        while True:
            piece = bytes(await it.__anext__())
            if piece == b'\r\n':
                break
            rest += piece
        n = int(head.split(b'Content-Length: ')[1].split(b'\r\n')[0])
        data = first + rest
        assert len(data) == n
        seq = int(head.split(b'X-Frame: ')[1].split(b'\r\n')[0])
        assert body_count(data) == seq  # the frame we started, not the one captured since
        more = await parts(body, 2)     # and it carries on with newer frames
        assert int(more[0][0]['X-Frame']) > seq
        await body.aclose()
    finally:
        senders.CHUNK = saved
    await stop(s)


async def test_capture_body_sends_one_held_frame_without_copying():
    hub, cam, s, drv = make()
    body = await snapshot(s)
    assert s.frame.users == 1  # held from the moment it was taken
    data = b''
    async for piece in body:
        assert isinstance(piece, memoryview)  # straight from the driver's buffer
        data += bytes(piece)
    assert len(data) == body.n and body_count(data) == body.seq
    assert data[:2] == b'\xff\xd8' and data[-2:] == b'\xff\xd9'
    assert s.frame.users == 0 and not s.viewers
    assert s.stats['viewers'] == 0  # a snapshot is not a viewer
    fake_cnadler.none_capture = 1000
    fake_cnadler.fail_init = 1000
    s._backoff = 5000
    exc = await araises(OSError, snapshot(s, timeout=0.3))
    assert 'no frame' in str(exc)
    assert not s.viewers
    await stop(s)


async def test_a_camera_that_does_not_start_is_retried_while_nobody_watches():
    use_driver(fake_cnadler)
    fake_cnadler.sensor_present = False          # the ribbon cable is loose at boot
    cam = open_camera({'backend': 'cnadler'})
    hub = Hub()
    seen = []
    hub.subscribe(TOPIC_STATUS, callback=lambda t, d: seen.append(d))
    s = Stream(hub, cam, {'camera': {}})
    s._backoff = 20
    try:
        cam.init()
    except OSError as exc:
        s.start_failed(exc)
    assert s.failing and s.stats['state'] == 'error'
    assert s.stats['error'].startswith('camera not detected: check the ribbon cable')
    assert seen[0]['message'] == s.stats['error']
    await until(lambda: s.stats['reinits'] >= 2)    # retried, no viewer needed
    assert s.failing and not s.viewers
    fake_cnadler.sensor_present = True            # reseated
    await until(lambda: not s.failing)
    assert cam.ready and s.stats['error'] is None and s.stats['state'] == 'idle'
    assert seen[-1]['state'] == 'streaming'       # 'camera recovered'
    body = await snapshot(s, timeout=2)            # and it gives frames
    await body.aclose()
    await stop(s)


async def test_a_viewer_that_takes_no_frames_is_dropped_after_the_viewer_timeout():
    # A dead connection: the peer vanished without closing, its sends never finish. It was slow
    # (its frames go out as copies), so it holds no frame and only the timeout notices it.
    hub, cam, s, drv = make(viewer_timeout_ms=300)
    assert s.viewer_timeout == 300
    counts = []
    hub.subscribe(TOPIC_VIEWERS, callback=lambda t, n: counts.append(n))
    dead = FakeWS(stall_after=1, delay=0.05)      # slower than a frame period, then silent
    live = FakeWS()
    t1 = asyncio.create_task(serve_ws(s, dead))
    t2 = asyncio.create_task(serve_ws(s, live))
    await until(lambda: dead.stalled)
    await until(lambda: s.stats['viewers'] == 1)
    assert dead not in [v for v in s.viewers] and counts[-2:] == [2, 1], counts
    assert s.stats['evicted'] == 0  # it held no frame: the timeout dropped it, not the grace
    n = len(live.frames)
    await until(lambda: len(live.frames) > n + 3)   # the live one is undisturbed
    live.hang_up()
    t1.cancel()
    await until(lambda: not s.viewers, what='the viewers to leave')
    await stop(s)
