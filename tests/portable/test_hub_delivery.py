"""Delivery policies of camdot.hub: latest, FIFO drop-oldest, callbacks, close semantics (portable)."""
import asyncio

from camdot.hub import Hub, Subscription, SubscriptionClosed
from harness import araises, pending as drain, raises, until


def test_latest_keeps_only_the_newest_and_counts_the_rest():
    hub = Hub()
    sub = hub.subscribe('camera/frame', policy='latest')
    assert sub.policy == 'latest' and sub.maxlen == 1
    frames = [bytearray(b'f%d' % i) for i in range(5)]
    for f in frames:
        hub.publish('camera/frame', f)
    item = sub.get_nowait()
    assert item[0] == 'camera/frame'
    assert item[1] is frames[4]  # the very object: never copied
    assert sub.dropped == 4
    assert sub.get_nowait() is None


def test_fifo_drops_oldest_and_counts():
    hub = Hub()
    sub = hub.subscribe('ev/#', maxlen=3)
    assert sub.policy == 'fifo'
    for i in range(10):
        hub.publish('ev/%d' % (i % 2), i)
    assert sub.pending == 3
    assert [p for _, p in drain(sub)] == [7, 8, 9]
    assert sub.dropped == 7
    # the ring buffer wraps around correctly after partial reads
    for i in range(4):
        hub.publish('ev/x', i)
    assert sub.get_nowait() == ('ev/x', 1)
    hub.publish('ev/x', 4)
    hub.publish('ev/x', 5)
    assert [p for _, p in drain(sub)] == [3, 4, 5]
    assert sub.dropped == 7 + 1 + 1


def test_default_policy_and_bad_arguments():
    hub = Hub()
    sub = hub.subscribe('a')
    assert sub.policy == 'fifo' and sub.maxlen == Hub.default_maxlen
    raises(ValueError, hub.subscribe, 'a', maxlen=0)
    raises(ValueError, hub.subscribe, 'a', policy='newest')
    raises(ValueError, hub.subscribe, 'a', policy='latest', maxlen=4)
    assert hub.subscriptions() == [sub]


def test_payloads_are_not_validated_or_copied():
    hub = Hub()
    sub = hub.subscribe('x', maxlen=4)
    big = memoryview(bytearray(1000))
    odd = object()
    hub.publish('x', big)
    hub.publish('x', odd)
    hub.publish('x', None)
    items = drain(sub)
    assert items[0][1] is big and items[1][1] is odd and items[2] == ('x', None)


async def test_get_waits_for_publish():
    hub = Hub()
    sub = hub.subscribe('a/+')

    async def later():
        await asyncio.sleep(0.01)
        hub.publish('a/b', 42)

    task = asyncio.create_task(later())
    assert await sub.get() == ('a/b', 42)
    await task


async def test_close_wakes_a_pending_get_and_ends_async_for():
    hub = Hub()
    sub = hub.subscribe('t', maxlen=4)
    got = []

    async def reader():
        async for topic, payload in sub:
            got.append(payload)
        return 'ended'

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)
    hub.publish('t', 1)
    hub.publish('t', 2)
    await until(lambda: got == [1, 2], what='both items read')
    sub.close()
    assert await asyncio.wait_for(task, 1) == 'ended'
    assert sub.closed
    await araises(SubscriptionClosed, sub.get())
    assert hub.publish('t', 3) == 0
    sub.close()  # idempotent


async def test_close_wakes_a_waiting_get_with_subscription_closed():
    hub = Hub()
    sub = hub.subscribe('t')

    async def closer():
        await asyncio.sleep(0.01)
        hub.unsubscribe(sub)

    task = asyncio.create_task(closer())
    await asyncio.wait_for(araises(SubscriptionClosed, sub.get()), 1)
    await task


def test_close_discards_pending_items():
    hub = Hub()
    sub = hub.subscribe('t', maxlen=4)
    hub.publish('t', bytearray(10))
    sub.close()
    assert sub.pending == 0
    raises(SubscriptionClosed, sub.get_nowait)


def test_context_manager_closes():
    hub = Hub()
    with hub.subscribe('t') as sub:
        assert hub.subscriptions() == [sub]
    assert sub.closed and hub.subscriptions() == []


def test_sync_callback_runs_inside_publish():
    hub = Hub()
    seen = []
    sub = hub.subscribe('a/+', callback=lambda t, p: seen.append((t, p)))
    assert hub.publish('a/b', 1) == 1
    assert seen == [('a/b', 1)]
    assert sub.pending == 0
    sub.close()
    hub.publish('a/b', 2)
    assert seen == [('a/b', 1)]


def test_failing_callback_does_not_break_publish():
    hub = Hub()
    errors = []
    hub.on_error = lambda sub, exc: errors.append((sub, exc))

    def bad(topic, payload):
        raise RuntimeError('boom')

    s1 = hub.subscribe('t', callback=bad)
    s2 = hub.subscribe('t')
    assert hub.publish('t', 1) == 2
    assert s2.get_nowait() == ('t', 1)
    assert len(errors) == 1 and errors[0][0] is s1 and str(errors[0][1]) == 'boom'


def test_callback_may_unsubscribe_during_publish():
    hub = Hub()
    seen = []
    holder = []

    def once(topic, payload):
        seen.append(payload)
        holder[0].close()

    holder.append(hub.subscribe('t', callback=once))
    other = hub.subscribe('t')
    assert hub.publish('t', 1) == 2
    assert hub.publish('t', 2) == 1
    assert seen == [1]
    assert [p for _, p in drain(other)] == [1, 2]


async def test_coroutine_callback_runs_in_one_bounded_task():
    hub = Hub()
    seen = []
    gate = asyncio.Event()
    running = [0]
    peak = [0]

    async def slow(topic, payload):
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        await gate.wait()
        seen.append(payload)
        running[0] -= 1

    sub = hub.subscribe('t', maxlen=3, callback=slow)
    for i in range(10):  # the callback is stuck on item 0: the rest queue, bounded
        hub.publish('t', i)
        await asyncio.sleep(0)
    assert sub.pending == 3
    assert sub.dropped == 6
    gate.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert seen == [0, 7, 8, 9]
    assert peak[0] == 1  # never more than one call at a time
    sub.close()
    await asyncio.sleep(0)
    assert sub._task is None


async def test_closing_a_coroutine_callback_cancels_its_task():
    hub = Hub()
    started = []

    async def forever(topic, payload):
        started.append(payload)
        await asyncio.sleep(1000)

    sub = hub.subscribe('t', callback=forever)
    hub.publish('t', 1)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    task = sub._task
    assert started == [1] and task is not None
    sub.close()
    for _ in range(3):
        await asyncio.sleep(0)
    assert task.done()


async def test_detached_subscription_is_a_producer_consumer_queue():
    sub = Subscription(maxlen=2)
    sub.put('x', 1)
    sub.put('x', 2)
    sub.put('x', 3)
    assert await sub.get() == ('x', 2)
    assert sub.dropped == 1
    sub.close()
    n = 0
    async for _ in sub:
        n += 1
    assert n == 0
    await araises(SubscriptionClosed, sub.get())


async def test_many_waiters_each_get_their_own_items():
    hub = Hub()
    subs = [hub.subscribe('t', policy='latest') for _ in range(5)]
    results = []

    async def reader(s):
        results.append(await s.get())

    tasks = [asyncio.create_task(reader(s)) for s in subs]
    await asyncio.sleep(0)
    assert hub.publish('t', 'x') == 5
    for t in tasks:
        await asyncio.wait_for(t, 1)
    assert results == [('t', 'x')] * 5


async def test_end_delivers_pending_items_then_closes():
    sub = Subscription(maxlen=4)
    sub.put('t', 1)
    sub.put('t', 2)
    sub.end()
    sub.put('t', 3)  # ignored: nothing comes after the end
    assert not sub.closed
    got = []
    async for _, p in sub:
        got.append(p)
    assert got == [1, 2] and sub.closed
    empty = Subscription()
    empty.end()
    assert empty.closed


def test_publish_does_not_raise_for_a_coroutine_callback_outside_a_loop():
    hub = Hub()
    errors = []
    hub.on_error = lambda sub, exc: errors.append(exc)

    async def cb(topic, payload):
        pass

    sub = hub.subscribe('t', callback=cb)
    assert hub.publish('t', 1) == 1
    if sub._task is None:  # CPython: no task without a running loop; reported, not raised
        assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    else:  # MicroPython queues the task for the next loop
        assert errors == []
    sub.close()  # also outside a loop
    assert sub._task is None and hub.subscriptions() == []
