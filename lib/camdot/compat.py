"""The one place where MicroPython and CPython differ. Keep it small.

    from camdot.compat import MICROPYTHON, const, ticks_ms, ticks_diff, mem_free
"""
import gc
import sys
import time

MICROPYTHON = sys.implementation.name == 'micropython'

try:
    from micropython import const
except ImportError:
    def const(value):
        return value

try:
    from time import ticks_ms, ticks_diff, ticks_add
except ImportError:
    def ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_diff(end, start):
        return end - start

    def ticks_add(ticks, delta):
        return ticks + delta


def mem_free():
    """Free GC heap in bytes, or None where the runtime does not say (CPython)."""
    f = getattr(gc, 'mem_free', None)
    return f() if f else None


def mem_alloc():
    """Allocated GC heap in bytes, or None on CPython."""
    f = getattr(gc, 'mem_alloc', None)
    return f() if f else None


def print_exception(exc, file=sys.stderr):
    """Print a traceback on either runtime."""
    if hasattr(sys, 'print_exception'):
        sys.print_exception(exc, file)
    else:
        import traceback
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=file)


def getenv(name, default=None):
    """Environment variable on the unix port and CPython; the board has none."""
    try:
        import os
        value = os.getenv(name)
    except (ImportError, AttributeError):
        return default
    return default if value is None or value == '' else value
