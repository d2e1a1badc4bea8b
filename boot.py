"""Board boot script: safe mode, Wi-Fi (station, else the camdot-XXXX setup access point), hostname.

The work is camdot.board.boot() (bounded in time, never raises). Safe mode (a /safemode file, or
IO0 held low within a second of reset) leaves Wi-Fi off and makes main.py stop before the app.
It runs on the board and on the simulated board run with --on-board (no radio there: Wi-Fi is
skipped); on the unix port and CPython this file does nothing.
"""
import sys

if sys.platform == 'esp32':
    try:
        import micropython
        micropython.alloc_emergency_exception_buf(100)
        import esp
        esp.osdebug(None)  # keep the console for camdot's own log lines
    except Exception as exc:
        print('camdot boot:', repr(exc))
try:
    from camdot import board
except Exception as exc:  # a board without camdot yet: keep the REPL reachable
    if sys.platform == 'esp32':
        print('camdot boot: cannot import camdot.board:', repr(exc))
else:
    if board.ON_BOARD:
        board.boot()
