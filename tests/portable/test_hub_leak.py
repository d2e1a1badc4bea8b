"""camdot.hub releases what it no longer needs (portable).

On MicroPython the heap is measured with gc.mem_free(); CPython has no mem_free, so there the live
objects of the classes involved are counted with gc.get_objects() instead.
"""
import asyncio
import gc

from camdot.compat import mem_free
from camdot.hub import Hub, Subscription, SubscriptionClosed


class Blob(bytearray):
    """A payload whose live instances can be counted on CPython."""


def live(cls):
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, cls))


def settle():
    gc.collect()
    gc.collect()
    return mem_free()


async def cycle(hub, i):
    kind = i % 4
    if kind == 0:
        sub = hub.subscribe('camera/frame', policy='latest')
    elif kind == 1:
        sub = hub.subscribe('thing/+/event/#', maxlen=8)
    elif kind == 2:
        async def cb(topic, payload):
            await asyncio.sleep(0)
        sub = hub.subscribe('thing/#', callback=cb)
    else:
        sub = hub.subscribe('#', maxlen=2)
    waiter = asyncio.create_task(sub.get()) if kind != 2 else None
    await asyncio.sleep(0)
    for t in ('camera/frame', 'thing/cam/event/motion', 'x'):
        hub.publish(t, Blob(64))
    await asyncio.sleep(0)
    sub.close()
    if waiter is not None:
        try:
            await waiter
        except SubscriptionClosed:
            pass
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_subscribe_close_cycles_do_not_leak():
    hub = Hub()
    keep = hub.subscribe('thing/#', maxlen=1)  # a long-lived subscriber alongside
    for i in range(8):  # warm up: first-use allocations (Event class, caches) are not leaks
        await cycle(hub, i)
    before = settle()
    subs_before = None if before is not None else live(Subscription)
    for i in range(400):
        await cycle(hub, i)
    after = settle()
    assert hub.subscriptions() == [keep]
    if before is not None:
        # 400 leaked subscriptions would be tens of KB; allow a little allocator noise
        assert before - after < 2048, (before, after)
    else:
        assert live(Subscription) == subs_before
        assert live(Blob) == 1  # only the one held by `keep`
    keep.close()
    assert hub.subscriptions() == [] and not hub.has_subscribers('thing/x')


def test_a_subscriber_that_never_reads_costs_at_most_its_bound():
    # Payloads sized to the heap keep the signal far above the conservative GC's noise (stale
    # pointers left by earlier tests can shift mem_free by tens of KB in a 2 MB heap).
    free = settle()
    size = max(8192, free // 40) if free is not None else 8192
    hub = Hub()
    stuck = hub.subscribe('data', maxlen=4)
    before = settle()
    for _ in range(200):
        hub.publish('data', Blob(size))
    after = settle()
    assert stuck.pending == 4 and stuck.dropped == 196
    if before is not None:
        # bounded: 4 payloads are held (200 would not even fit the heap). Stale pointers from
        # earlier tests can only make this difference smaller, never larger.
        assert before - after < 6 * size, (size, before, after)
    else:
        assert live(Blob) == 4
    while stuck.get_nowait() is not None:  # reading releases them: the ring keeps no stale refs
        pass
    if before is not None:
        # the held payloads come back (one may linger behind a stale pointer)
        end = settle()
        assert end - after >= 3 * size, (size, after, end)
    else:
        assert live(Blob) == 0
    stuck.close()
