"""CPython's side of camdot.compat: what MicroPython has built in. Import camdot.compat instead.

    from camdot.compat import ticks_ms   # camdot._cpython.ticks_ms on CPython
"""
import sys
import time


def const(value):
    return value


def ticks_ms():
    return int(time.monotonic() * 1000)


def ticks_diff(end, start):
    return end - start


def ticks_add(ticks, delta):
    return ticks + delta


def sleep_ms(ms):
    time.sleep(ms / 1000)


def mem_free():
    """Free GC heap in bytes: None, CPython does not say."""
    return None


def mem_alloc():
    """Allocated GC heap in bytes: None on CPython."""
    return None


def print_exception(exc, file=sys.stderr):
    """Print a traceback on either runtime."""
    import traceback
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=file)
