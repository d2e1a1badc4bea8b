"""The capture loop's fan-out through the hub, with fake sockets and the fake cnadler driver:
many viewers, a stalled one, a slow one, churn, no capture without viewers."""
import asyncio
import json

import fake_cnadler
from camtools import use_driver, FakeWS, body_count
from harness import until
from camdot.camera import open_camera
from camdot.compat import ticks_diff, ticks_ms
from camdot.hub import Hub
from camdot.device import stream as stream_mod
from camdot.device.senders import serve_ws
from camdot.device.stream import Stream, TOPIC_FRAME, TOPIC_VIEWERS

FPS = 50  # a 20 ms period keeps the tests short
# How long the loop waits for a viewer still sending from the driver's buffer before it cuts it off.
# Measured in wall time, so a pause of the whole process (a loaded machine) longer than this cuts
# off healthy viewers too: tests that are not about stalls leave a wide margin.
GRACE = 1000


def make(fps=FPS, stall_ms=GRACE, **cam):
    cfg = {'backend': 'cnadler', 'fps': fps, 'fps_cap': 100, 'stall_ms': stall_ms}
    cfg.update(cam)
    use_driver(fake_cnadler)
    c = open_camera(cfg)
    c.init()
    hub = Hub()
    return hub, c, Stream(hub, c, {'camera': cfg, 'hostname': 'test-cam'})


def driver():
    return fake_cnadler.Camera.instances[-1]


def untorn(ws):
    # Every message is the frame its header names: the driver numbers captures 1, 2, 3...
    # like the stream's seq, so a buffer overwritten mid-send would show a mismatch.
    for seq, data in ws.frames:
        assert body_count(data) == seq, (seq, data)
        assert data[-2:] == b'\xff\xd9'


def seqs(ws):
    return [seq for seq, _ in ws.frames]


def capture_times(ws):
    """(seq, capture time in ms) of each frame, from the header the stream put in front of it."""
    out = []
    for seq, data in ws.frames:
        n = (data[4] << 8) | data[5]
        meta = dict(kv.split('=') for kv in data[6:4 + n].decode().split()[1:])
        out.append((seq, int(meta['t'])))
    return out


def none_missed(s, wss):
    """Each viewer took every frame from its first one on (the newest may still be on its way):
    after publishing a frame the loop always lets the viewers run before it releases the frame,
    and these keep up."""
    newest = s.frame.seq
    for ws in wss:
        mine = seqs(ws)
        missed = [n for n in range(mine[0], newest) if n not in mine]
        assert not missed and mine == sorted(mine), (missed, mine)


def watch(s, wss):
    return [asyncio.create_task(serve_ws(s, ws)) for ws in wss]


def frames_each(wss, n):
    return lambda: all(len(ws.frames) >= n for ws in wss)


async def finish(s, wss, tasks):
    for ws in wss:
        ws.hang_up()
    await until(lambda: not s.viewers, what='the viewers to leave')
    for t in tasks:
        t.cancel()
    loop = s._task
    s.stop()
    # let the cancellations run: no task may outlive the test
    await until(lambda: all(t.done() for t in tasks) and (loop is None or loop.done()),
                what='the tasks to end')


async def test_many_viewers_each_get_the_frames_untorn():
    hub, cam, s = make()
    wss = [FakeWS() for _ in range(8)]
    tasks = watch(s, wss)
    await until(frames_each(wss, 10), what='10 frames for every viewer')
    for ws in wss:
        hello = json.loads(ws.texts[0])
        assert hello['type'] == 'hello' and hello['name'] == 'test-cam'
        untorn(ws)
    none_missed(s, wss)
    assert s.stats['viewers'] == 8
    assert s.stats['evicted'] == 0
    await finish(s, wss, tasks)
    assert s.stats['viewers'] == 0


async def test_a_stalled_viewer_is_cut_off_and_costs_the_others_little():
    hub, cam, s = make(stall_ms=300)
    good = [FakeWS() for _ in range(3)]
    stuck = FakeWS(stall_after=2)  # takes 2 frames, then stops reading mid-frame
    tasks = watch(s, good + [stuck])
    await until(lambda: tasks[-1].done(), what='the stalled viewer to be cut off')
    assert stuck.stalled
    assert s.stats['evicted'] == 1  # its handler ended because the loop cancelled it
    assert s.stats['viewers'] == 3
    before = [len(ws.frames) for ws in good]
    # and the others go on
    await until(lambda: all(len(ws.frames) >= n + 5 for ws, n in zip(good, before)),
                what='5 more frames for each of the others')
    for ws in good:
        untorn(ws)
    none_missed(s, good)  # the stall cost them time (the grace period, once), not frames
    assert s.stats['evicted'] == 1
    await finish(s, good, tasks)
    assert s.frame.users == 0  # no hold outlives its viewer (the stalled one's included)


async def test_a_slow_viewer_skips_frames_without_delaying_others():
    hub, cam, s = make()
    fast = [FakeWS() for _ in range(2)]
    slow = FakeWS(delay=0.1)  # 5 frame periods per frame
    tasks = watch(s, fast + [slow])
    # If the slow viewer held the others back they would get its few frames, not 10 more.
    await until(lambda: len(slow.frames) >= 2 and
                all(len(ws.frames) >= len(slow.frames) + 10 for ws in fast),
                timeout=20, what='the fast viewers 10 frames ahead of the slow one')
    assert s.stats['evicted'] == 0
    assert s.stats['copies'] >= len(slow.frames) - 1  # slow viewers get private copies
    for ws in fast:
        untorn(ws)
    none_missed(s, fast)
    untorn(slow)
    await finish(s, fast + [slow], tasks)


async def test_viewer_churn_leaves_nothing_behind():
    hub, cam, s = make(stall_ms=300)  # the stalling ones are cut off after this
    counts = []
    hub.subscribe(TOPIC_VIEWERS, callback=lambda t, n: counts.append(n))
    steady = FakeWS()
    tasks = watch(s, [steady])
    await until(lambda: steady.frames, what="the steady viewer's first frame")
    for i in range(30):
        ws = FakeWS(stall_after=3) if i % 5 == 4 else FakeWS()
        t = asyncio.create_task(serve_ws(s, ws))
        await asyncio.sleep(0.01 * (i % 4))  # lifetimes of 0 to 3 frame periods
        ws.hang_up()
        if i % 3 == 0:
            t.cancel()  # the connection task dies outright (a reset mid-frame)
        await asyncio.sleep(0)
    await until(lambda: s.stats['viewers'] == 1 and len(s.viewers) == 1 and
                len(hub._lookup(TOPIC_FRAME)) == 1, what='only the steady viewer left')
    assert max(counts) >= 2 and counts[-1] == 1
    n = len(steady.frames)
    await until(lambda: len(steady.frames) > n + 2, what='the steady viewer still streaming')
    untorn(steady)
    await finish(s, [steady], tasks)
    assert not hub._lookup(TOPIC_FRAME)
    assert s.frame.users == 0


async def test_no_capture_while_nobody_watches():
    hub, cam, s = make()
    await asyncio.sleep(0.1)  # five frame periods for a loop that should not be running
    assert driver().count == 0  # nothing started the loop
    ws = FakeWS()
    tasks = watch(s, [ws])
    await until(lambda: driver().count > 3, what='captures for a viewer')
    ws.hang_up()
    await until(lambda: s.stats['state'] == 'idle' and s.stats['viewers'] == 0, what='idle')
    n = driver().count
    await asyncio.sleep(0.2)  # ten frame periods: an idle loop must not capture
    assert driver().count == n
    assert s.stats['state'] == 'idle'
    # A new viewer wakes the loop.
    ws2 = FakeWS()
    tasks += watch(s, [ws2])
    await until(lambda: len(ws2.frames) >= 2, what='frames for the new viewer')
    await finish(s, [ws2], tasks)


def gaps(ws):
    """Capture-to-capture times (ms) of the frames this viewer got one after the other."""
    t = capture_times(ws)
    return [b[1] - a[1] for a, b in zip(t, t[1:]) if b[0] == a[0] + 1]


async def paced(s, fps, frames):
    """Watch until `frames` captures: the loop is never faster than `fps` (it does not burst to
    catch up), and not slower by design: some captures follow each other at about its period
    (a loaded machine delays many of them, but not all)."""
    ws = FakeWS()
    start = ticks_ms()
    tasks = watch(s, [ws])
    await until(lambda: s.stats['frames'] >= frames and s.stats['fps'] > 0, timeout=20,
                what='%d frames and a rate' % frames)
    elapsed = ticks_diff(ticks_ms(), start)
    n = s.stats['frames']
    assert n <= elapsed * fps // 1000 + 2, (n, elapsed, fps)
    assert 0 < s.stats['fps'] <= fps * 1.1, s.stats['fps']
    period = 1000 // fps
    await until(lambda: [g for g in gaps(ws) if g < period * 1.5], timeout=20,
                what='two captures about %d ms apart (gaps so far: %s)' % (period, gaps(ws)[-20:]))
    await finish(s, [ws], tasks)


async def test_paced_at_the_configured_fps():
    hub, cam, s = make(fps=20)
    await paced(s, 20, 22)  # 22: more than a second, so that stats['fps'] is measured


async def test_set_fps_changes_the_pace():
    hub, cam, s = make(fps=10)
    assert s.set_fps(500) == 100  # capped by fps_cap
    assert s.set_fps(0) == 1
    assert s.set_fps(40) == 40 and s.stats['target_fps'] == 40 and s.period == 25
    await paced(s, 40, 42)  # at 10 fps no two captures would be 37 ms apart


async def test_a_camera_slower_than_the_pace_still_reaches_the_viewers():
    # A sensor that takes 60 ms a frame (a big frame size) against a 20 ms pace: the loop is
    # always behind, and the camera lets other tasks run while it waits (as cnadler's does).
    hub, cam, s = make()
    capture = cam.acapture

    async def slow_sensor():
        await asyncio.sleep(0.06)
        return await capture()
    cam.acapture = slow_sensor
    ws = FakeWS()
    tasks = watch(s, [ws])
    await until(lambda: len(ws.frames) >= 5, what='5 frames for the viewer')
    untorn(ws)
    await finish(s, [ws], tasks)


async def test_no_room_for_a_copy_means_zero_copy_not_starvation():
    def no_memory(*args):
        raise MemoryError('test')
    hub, cam, s = make()
    saved = stream_mod.copy_of
    stream_mod.copy_of = no_memory  # every copy fails, as on a fragmented heap
    try:
        slow = FakeWS(delay=0.05)  # slow: it would get copies if there were room
        tasks = watch(s, [slow])
        await until(lambda: len(slow.frames) >= 3, what='3 frames for the slow viewer')
        assert s.stats['copies'] == 0
        untorn(slow)
        await finish(s, [slow], tasks)
    finally:
        stream_mod.copy_of = saved


def test_one_stream_serves_in_successive_event_loops():
    # An app made once and served by two asyncio.run() calls (tests do this; so could a restart).
    hub, cam, s = make()

    async def session():
        ws = FakeWS()
        tasks = watch(s, [ws])
        await until(lambda: len(ws.frames) >= 2, what='2 frames')
        ws.hang_up()
        await until(lambda: not s.viewers, what='the viewer to leave')
        for t in tasks:
            t.cancel()
        await until(lambda: all(t.done() for t in tasks), what='the viewer task to end')
        return len(ws.frames)

    async def stop():
        loop = s._task
        s.stop()
        await until(lambda: loop is None or loop.done(), what='the loop to end')
    assert asyncio.run(session()) >= 2
    assert asyncio.run(session()) >= 2
    asyncio.run(stop())
