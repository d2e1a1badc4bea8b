"""What the board is and what its boot decided, for boot.py, main.py and the app.

    from camdot import board
    board.ON_BOARD                # an ESP32 (or the simulated board run with --on-board)
    board.boot()                  # boot.py: safe mode check, then Wi-Fi or the setup AP; never raises
    if board.safe_mode(): ...     # main.py: don't start the app
    board.state                   # what boot found: {'safe', 'mode', 'ip', ...}

The boot sequence itself is camdot.boot_sequence, imported by boot() and dropped again with the
rest of BOOT_ONLY, so the app's heap carries neither it nor Wi-Fi's setup page. The watchdog is
camdot.watchdog. Importing this module is harmless anywhere: `network` and `machine` are imported
only when a function needs them (tests put fakes in sys.modules).

ON_BOARD: an ESP32, or the simulated board run with --on-board (tools/sim_board.py sets
CAMDOT_BOARD=sim), where main.py takes the board's path: /config.json, the watchdog, a reset
after a crash.
"""
import sys

from camdot.atomic import exists
from camdot.compat import ON_BOARD  # noqa: F401 (the board's question, answered in compat)

SAFE_FLAG = '/safemode'     # exists -> safe mode (delete it to leave)
SAFE_WINDOW_MS = 1000       # how long boot watches the safe-mode pin; the red LED is lit meanwhile
# What only boot uses: dropped once it is done.
BOOT_ONLY = ('camdot.boot_sequence', 'camdot.wifi_setup', 'camdot.wifi', 'camdot.html')

# What boot() found; main.py reads it (the interpreter keeps modules from boot.py to main.py).
# safe: the reason or ''; mode: 'station' / 'ap' / ''; ip: the board's address or ''.
state = {'booted': False, 'safe': '', 'mode': '', 'ip': ''}


def safe_mode(flag=None):
    """main.py's question: what boot() decided, or (if boot did not run) whether the flag exists."""
    flag = flag or SAFE_FLAG
    if state['booted']:
        return state['safe'] or None
    return ('flag file ' + flag) if exists(flag) else None


def boot(path=None, setup_timeout_ms=None):
    """boot.py's whole job: camdot.boot_sequence.run(), which records what it finds in `state`;
    then the boot-only modules are dropped again. Never raises (but KeyboardInterrupt)."""
    from camdot import boot_sequence
    try:
        return boot_sequence.run(state, path, setup_timeout_ms, SAFE_FLAG, SAFE_WINDOW_MS)
    finally:
        for name in BOOT_ONLY:
            drop(name)


def drop(name):
    """Forget a module so the GC can take it back (boot's code is not needed by the app)."""
    sys.modules.pop(name, None)
    package, _, attr = name.rpartition('.')
    parent = sys.modules.get(package)
    if parent is not None and attr in dir(parent):
        delattr(parent, attr)
