"""camdot.hub figures on the running interpreter (make bench runs it on both runtimes).

    .venv/bin/micropython tools/bench_hub.py
    .venv/bin/python tools/bench_hub.py

Figures, never assertions: publish cost by fan-out, has_subscribers(), a producer/consumer round
trip through get(), and the heap allocated per publish (MicroPython only).
"""
import sys

import repo_paths  # noqa: E402,F401  (lib/ and .deps/ first)

import asyncio  # noqa: E402
import gc  # noqa: E402
import time  # noqa: E402

from camdot.compat import mem_alloc  # noqa: E402
from camdot.hub import Hub  # noqa: E402

try:
    from time import ticks_us, ticks_diff
except ImportError:
    def ticks_us():
        return int(time.perf_counter() * 1000000)

    def ticks_diff(a, b):
        return a - b

NAME = sys.implementation.name


def report(label, n, us, alloc=None):
    extra = '' if alloc is None else ', %.1f B allocated/op' % (alloc / n)
    print('%-11s %-44s %9.0f ops/s  %6.2f us/op%s' % (NAME, label, n * 1e6 / us, us / n, extra))


def timed(label, n, fn):
    gc.collect()
    a = mem_alloc()
    t = ticks_us()
    fn(n)
    us = ticks_diff(ticks_us(), t)
    b = mem_alloc()
    report(label, n, us, None if a is None else b - a)


def main():
    n = 20000
    frame = bytearray(20000)
    hub = Hub()

    def publish(count, topic='camera/frame'):
        p = hub.publish
        for _ in range(count):
            p(topic, frame)

    timed('publish, no subscriber', n, publish)
    hub.subscribe('camera/frame', policy='latest')
    publish(1)
    timed('publish to 1 latest subscriber', n, publish)
    hub.subscribe('camera/#', maxlen=8)
    hub.subscribe('+/frame', maxlen=8)
    for i in range(20):
        hub.subscribe('thing/%d/+' % i)
    timed('publish to 3 of 23 (wildcards, cached)', n, publish)

    def publish_new_topics(count):
        p = hub.publish
        for i in range(count):
            p('thing/%d/x' % (i % 64), frame)  # more topics than the cache keeps: misses

    timed('publish, cache misses (23 filters)', n // 4, publish_new_topics)

    def has(count):
        h = hub.has_subscribers
        for _ in range(count):
            h('camera/frame')

    timed('has_subscribers', n, has)

    async def round_trip(count):
        sub = hub.subscribe('rt', maxlen=8)

        async def consumer():
            for _ in range(count):
                await sub.get()

        task = asyncio.create_task(consumer())
        for _ in range(count):
            hub.publish('rt', frame)
            await asyncio.sleep(0)
        await task
        sub.close()

    gc.collect()
    t = ticks_us()
    asyncio.run(round_trip(n // 4))
    report('publish + await get() round trip', n // 4, ticks_diff(ticks_us(), t))


main()
