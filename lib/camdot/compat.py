"""The one place where MicroPython and CPython differ. Keep it small.

    from camdot.compat import MICROPYTHON, ON_BOARD, const, ticks_ms, ticks_diff, mem_free

On MicroPython these are the runtime's own functions; on CPython camdot._cpython supplies them.
(Two files so that a board never loads the CPython side: every function in a .mpy file costs
RAM when it is imported, called or not.)
"""
import sys

MICROPYTHON = sys.implementation.name == 'micropython'

if MICROPYTHON:
    from gc import mem_alloc, mem_free
    from micropython import const
    from time import sleep_ms, ticks_add, ticks_diff, ticks_ms

    def print_exception(exc, file=sys.stderr):
        """Print a traceback on either runtime."""
        sys.print_exception(exc, file)
else:
    from camdot._cpython import (  # noqa: F401
        const, mem_alloc, mem_free, print_exception, sleep_ms, ticks_add, ticks_diff, ticks_ms)


def getenv(name, default=None):
    """Environment variable on the unix port and CPython; the board has none."""
    try:
        import os
        value = os.getenv(name)
    except (ImportError, AttributeError):
        return default
    return default if value is None or value == '' else value


# On an ESP32, or on the simulated board run with --on-board (tools/sim_board.py sets it).
ON_BOARD = sys.platform == 'esp32' or getenv('CAMDOT_BOARD') == 'sim'
