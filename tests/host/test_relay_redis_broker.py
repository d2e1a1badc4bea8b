"""camdot.hub across processes through a real Redis (tests/host/redisd.py): plain and retained
items, payload kinds, late joiners, slow subscribers, a Redis restart, bad input."""
import asyncio
import os
import sys
import time

import pytest

from harness import pending
from servers import ROOT
from redisd import RedisServer

sys.path.insert(0, os.path.join(ROOT, 'tools'))
from camdot.hub import Hub  # noqa: E402
from camdot_relay.redis_broker import RedisBroker, filters_overlap, globs  # noqa: E402


@pytest.fixture(scope='module')
def redis_server():
    with RedisServer() as r:
        yield r


async def until(cond, timeout=10.0, what='condition'):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError('timed out waiting for ' + what)
        await asyncio.sleep(0.01)


def drain(sub):
    """What waits in `sub`, without the probes."""
    return [item for item in pending(sub) if item[1] != PROBE]


PROBE = 'probe'


async def linked(pub, sub, topic):
    """Publish probes on `topic` from hub `pub` until `sub` (another hub's) gets one: from then
    on its PSUBSCRIBE is in force at Redis. (Probes still on their way come later; drain() leaves
    them out.)"""
    end = time.monotonic() + 10
    while not sub.pending:
        assert time.monotonic() < end, 'the subscription to %s never took effect' % topic
        pub.publish(topic, PROBE)
        await asyncio.sleep(0.05)


async def hubs(url, n=2, **kw):
    """n hubs as if in n processes, sharing a key prefix no other test uses."""
    prefix = 'test-%d-%s' % (os.getpid(), os.urandom(4).hex())
    out = []
    for _ in range(n):
        hub = Hub(RedisBroker(url, prefix=prefix, **kw))
        await hub.broker.start()
        out.append(hub)
    return out


async def close(*hs):
    for h in hs:
        await h.broker.close()


def test_globs_and_overlap():
    assert globs('a/+/c') == ['a/*/c']
    assert globs('a/#') == ['a', 'a/*']
    assert globs('#') == ['*']
    assert globs('we*rd/[x]') == ['we\\*rd/\\[x\\]']
    assert filters_overlap('relay/#', 'relay/a/frame')
    assert filters_overlap('relay/+/frame', 'relay/a/+')
    assert not filters_overlap('relay/+/frame', 'relay/a/state')
    assert not filters_overlap('a/b', 'a')
    assert filters_overlap('a/#', 'a')


async def test_close_ends_a_loop_that_swallowed_its_cancellation():
    # What Python 3.11's wait_for() does when the cancel lands as its event is set (the writer's
    # wake-up, a publish): the loop goes on. close() must still end it, not hang.
    broker = RedisBroker('redis://127.0.0.1:1/0')
    turns = []

    async def stubborn():
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                turns.append(1)
                if len(turns) > 1:
                    raise
    loop = broker._spawn(stubborn())
    await asyncio.sleep(0)
    closing = asyncio.ensure_future(broker.close())
    done, _ = await asyncio.wait([closing], timeout=10)  # (wait() cancels nothing)
    if not done:
        closing.cancel()
        loop.cancel()
    assert done and turns == [1, 1], turns


async def test_plain_items_cross_processes_as_they_are(redis_server):
    a, b = await hubs(redis_server.url)
    try:
        sub = a.subscribe('ev/#', maxlen=16)
        own = b.subscribe('ev/#', maxlen=16)
        await linked(b, sub, 'ev/probe')  # the PSUBSCRIBE goes out on the listener's next turn
        drain(sub), drain(own)
        jpeg = b'\xff\xd8' + os.urandom(40000) + b'\xff\xd9'
        for topic, payload in (('ev/json', {'v': [1, 2.5, None]}), ('ev/bin', jpeg),
                               ('ev/text', 'h\u00e9llo'), ('ev/none', None), ('other', 1)):
            b.publish(topic, payload)
        got = []
        await until(lambda: got.extend(drain(sub)) or len(got) >= 4, what='4 items')
        assert got == [('ev/json', {'v': [1, 2.5, None]}), ('ev/bin', jpeg),
                       ('ev/text', 'h\u00e9llo'), ('ev/none', None)]
        assert type(got[1][1]) is bytes and type(got[2][1]) is str
        await asyncio.sleep(0.3)
        assert len(drain(own)) == 4  # the publisher's own subscription: once, not twice
        assert a.broker.dropped == b.broker.dropped == 0
    finally:
        await close(a, b)


async def test_retained_late_joiner_gets_the_newest_and_a_slow_one_skips(redis_server):
    a, b = await hubs(redis_server.url)
    try:
        for i in range(5):
            b.publish('relay/cam/frame', b'frame%d' % i, retain=True)
        await until(lambda: not b.broker._retained_out and b.broker.connected, what='flush')
        late = a.subscribe('relay/cam/frame', policy='latest')
        await until(lambda: late.pending == 1, what='the retained frame')
        assert drain(late) == [('relay/cam/frame', b'frame4')]
        # followed from now on; a subscriber that does not read keeps only the newest
        slow = a.subscribe('relay/cam/frame', policy='latest')
        assert drain(slow) == [('relay/cam/frame', b'frame4')]  # from the cache, at once
        for i in range(5, 40):
            b.publish('relay/cam/frame', b'frame%d' % i, retain=True)
            await asyncio.sleep(0.005)
        await until(lambda: late.pending and late.get_nowait()[1] == b'frame39', what='newest')
        assert drain(slow)[-1] == ('relay/cam/frame', b'frame39') and slow.dropped > 0
        # wildcard subscriptions find retained topics by scanning
        b.publish('relay/x/state', {'state': 'online'}, retain=True)
        b.publish('relay/y/state', {'state': 'error'}, retain=True)
        await until(lambda: not b.broker._retained_out, what='flush')
        states = a.subscribe('relay/+/state', maxlen=8)
        await until(lambda: states.pending == 2, what='scanned states')
        assert sorted(t for t, _ in drain(states)) == ['relay/x/state', 'relay/y/state']
    finally:
        await close(a, b)


async def test_unshared_topics_and_bad_payloads(redis_server):
    a, b = await hubs(redis_server.url, shared=('relay/#',))
    try:
        sub = a.subscribe('#', maxlen=8)
        await linked(b, sub, 'relay/probe')
        drain(sub)
        local = b.subscribe('local/x')
        assert b.publish('local/x', object()) == 1  # stays in this process: anything goes
        assert local.pending == 1
        with pytest.raises(ValueError):
            b.publish('relay/x', object())
        b.publish('relay/x', 'ok')
        got = []
        await until(lambda: got.extend(drain(sub)) or got, what='relay/x')
        assert got == [('relay/x', 'ok')]
        # garbage from a foreign writer on a channel is ignored, the rest goes on
        prefix = a.broker.prefix
        await a.broker.redis.publish(prefix + ':p:relay/y', b'short')
        await a.broker.redis.publish(prefix + ':p:relay/y', b'12345678j{not json')
        b.publish('relay/z', 1)
        got = []
        await until(lambda: got.extend(drain(sub)) or got, what='relay/z')
        assert got == [('relay/z', 1)] and a.broker.errors >= 1
    finally:
        await close(a, b)


async def test_every_loop_recovers_after_a_redis_restart():
    with RedisServer() as server:
        a, b = await hubs(server.url)
        try:
            ev = a.subscribe('ev', maxlen=8)
            frames = a.subscribe('relay/c/frame', policy='latest')
            await until(lambda: a.broker.connected and b.broker.connected, what='connect')
            await linked(b, ev, 'ev')
            drain(ev)
            b.publish('ev', 1)
            b.publish('relay/c/frame', b'f1', retain=True)
            await until(lambda: ev.pending and frames.pending, what='before the restart')
            drain(ev), drain(frames)
            server.stop()
            b.publish('ev', 'lost')  # at most once: Redis is away
            await until(lambda: not b.broker.connected, what='the writer notices')
            server.start()
            end = time.monotonic() + 15
            got_ev = got_frame = None
            i = 0
            while (got_ev is None or got_frame is None) and time.monotonic() < end:
                i += 1
                b.publish('ev', i)
                b.publish('relay/c/frame', b'f-after-%d' % i, retain=True)
                await asyncio.sleep(0.1)
                for _, p in drain(ev):
                    if isinstance(p, int) and p >= 1:
                        got_ev = p
                for _, p in drain(frames):
                    if p.startswith(b'f-after'):
                        got_frame = p
            assert got_ev is not None and got_frame is not None, (got_ev, got_frame)
            assert a.broker.connected and b.broker.connected
        finally:
            await close(a, b)


async def test_a_process_that_stalls_skips_to_the_newest_frame_and_stays_connected(redis_server):
    """An edge whose loop is stuck (here: blocked for 2 s) while 30 KB frames keep coming at
    50 fps: Redis keeps one frame, so there is no backlog to cut it off for; it goes on with the
    newest."""
    import threading
    import redis as sync_redis
    (a,) = await hubs(redis_server.url, n=1)
    try:
        frames = a.subscribe('relay/c/frame', policy='latest')
        await until(lambda: a.broker.connected, what='connect')
        key = a.broker.prefix + ':r:relay/c/frame'
        writer = sync_redis.Redis.from_url(redis_server.url)
        payload = os.urandom(30000)

        def publish(n):
            for i in range(n):
                writer.xadd(key, {'o': b'otherpro', 'k': b'b', 'd': b'%06d' % i + payload},
                            maxlen=1, approximate=False)
                time.sleep(0.02)
        t = threading.Thread(target=publish, args=(100,))
        t.start()
        await asyncio.sleep(0.3)
        time.sleep(2.0)  # the stuck edge: nothing runs in this loop
        await asyncio.to_thread(t.join)
        # it goes on with the newest: the last one written
        got = [None]

        def newest():
            items = drain(frames)
            if items:
                got[0] = items[-1][1]
            return got[0] is not None and got[0][:6] == b'000099'
        await until(newest, what='the newest frame, 000099')
        assert got[0][6:] == payload  # whole
        assert a.broker.connected and a.broker.errors == 0
        assert writer.xlen(key) == 1  # Redis held one frame, whatever the reader did
        writer.close()
    finally:
        await close(a)
