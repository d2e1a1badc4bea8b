"""Board helpers shared by boot.py and main.py: the boot sequence, safe mode and the watchdog.

    from camdot import board
    board.boot()                  # boot.py: safe mode check, then Wi-Fi or the setup AP; never raises
    if board.safe_mode(): ...     # main.py: don't start the app

Wi-Fi and the setup page live in camdot.wifi, which boot() imports and then drops again, so the
app's heap doesn't carry them. Importing either module is harmless anywhere: `network` and
`machine` are imported only when a function needs them (tests put fakes in sys.modules).

ON_BOARD: an ESP32, or the simulated board run with --on-board (tools/sim_board.py sets
CAMDOT_BOARD=sim), where main.py takes the board's path: /config.json, the watchdog, a reset
after a crash.
"""
import sys

from camdot.atomic import exists
from camdot.compat import getenv, print_exception, sleep_ms, ticks_diff, ticks_ms

ON_BOARD = sys.platform == 'esp32' or getenv('CAMDOT_BOARD') == 'sim'
SAFE_FLAG = '/safemode'     # exists -> safe mode (delete it to leave)
SAFE_PIN = 0                # IO0 (the BOOT button of the ESP32-CAM-MB), held low just after reset
SAFE_WINDOW_MS = 1000       # how long boot watches SAFE_PIN; the red LED is lit meanwhile
STATUS_LED = 33             # AI-Thinker red LED, active low
PIN_POLL_MS = 20            # how often the safe-mode pin is read in its window
SOFT_RESET_WIFI = (5000, 1) # after a soft reset: one 5 s try to join the network
WATCHDOG_MS = 30000         # main.py's watchdog timeout (config 'watchdog_ms')
WATCHDOG_MIN_MS = 1000      # shorter ones are raised to this (the app could never feed them)
FEEDS_PER_TIMEOUT = 4       # the watchdog is fed this often per timeout (a quarter of it)
WDT_MARK = b'camdot-wdt'    # in RTC memory while main.py's watchdog may be armed (see boot())

# What boot() found; main.py reads it (the interpreter keeps modules from boot.py to main.py).
# safe: the reason or ''; mode: 'station' / 'ap' / ''; ip: the board's address or ''.
state = {'booted': False, 'safe': '', 'mode': '', 'ip': ''}


def log(msg):
    print('camdot board:', msg)


# ---- safe mode ----

def pin_held(pin_id=SAFE_PIN, window_ms=SAFE_WINDOW_MS, led_id=STATUS_LED):
    """True when `pin_id` reads low (button pressed) during the window. The LED is lit meanwhile."""
    from machine import Pin
    pin = Pin(pin_id, Pin.IN, Pin.PULL_UP)
    led = Pin(led_id, Pin.OUT, value=0)
    try:
        start = ticks_ms()
        while ticks_diff(ticks_ms(), start) < window_ms:
            if pin.value() == 0:
                return True
            sleep_ms(PIN_POLL_MS)
        return False
    finally:
        led.value(1)


def check_safe_mode(flag=None, pin_id=SAFE_PIN, window_ms=None):
    """The reason for safe mode ('flag file' / 'pin'), or None. Errors count as 'no'."""
    flag = flag or SAFE_FLAG
    window_ms = SAFE_WINDOW_MS if window_ms is None else window_ms
    if exists(flag):
        return 'flag file ' + flag
    if pin_id is not None and window_ms > 0:
        try:
            if pin_held(pin_id, window_ms):
                return 'pin %d held low' % pin_id
        except Exception as exc:
            log('cannot read the safe-mode pin: %r' % exc)
    return None


def safe_mode(flag=None):
    """main.py's question: what boot() decided, or (if boot did not run) whether the flag exists."""
    flag = flag or SAFE_FLAG
    if state['booted']:
        return state['safe'] or None
    return ('flag file ' + flag) if exists(flag) else None


# ---- boot ----

def _lib_first():
    # A camdot deployed to /lib wins over one frozen into the firmware (.frozen comes first by
    # default). Only a real package counts: /lib/camdot/www alone must not shadow the frozen one.
    if '/lib' in sys.path and (exists('/lib/camdot/__init__.mpy') or exists('/lib/camdot/__init__.py')):
        sys.path.remove('/lib')
        sys.path.insert(1 if sys.path and sys.path[0] == '' else 0, '/lib')


def soft_reset():
    """True after a soft reset (Ctrl-D, and mpremote before each command)."""
    try:
        import machine
        return machine.reset_cause() == machine.SOFT_RESET
    except Exception:
        return False


def boot(path=None, setup_timeout_ms=None):
    """boot.py's whole job. Bounded in time; logs and swallows every error but KeyboardInterrupt.

    1. safe mode (flag file or pin) -> nothing else; main.py will not start the app;
    2. hostname, then the configured Wi-Fi (bounded retries);
    3. no Wi-Fi -> access point camdot-XXXX with the setup page; saved -> reset; timeout -> reset
       when a network is configured (try it again), else go on to main.py with the AP up.
    After a soft reset (mpremote does one before each command) boot stays quick: no pin window,
    one short Wi-Fi attempt, no setup page; so tools always reach the REPL.
    """
    state['booted'] = True
    from camdot import config
    path = path or config.BOARD_PATH
    try:
        _lib_first()
        soft = soft_reset()
        _watchdog_after_reset(soft)
        reason = check_safe_mode(window_ms=0 if soft else None)
        state['safe'] = reason or ''
        if reason:
            log('SAFE MODE (%s): the app will not start. Leave it: remove %s and reset.'
                % (reason, SAFE_FLAG))
            return state
        cfg = config.load(path)
        try:
            import network  # noqa: F401 (the firmware's: without it there is no Wi-Fi to set up)
        except ImportError:
            log('no network module: Wi-Fi skipped')
            return state
        from camdot import wifi
        wifi.set_hostname(cfg['hostname'])
        ssid = cfg['wifi']['ssid']
        if ssid:
            ip = wifi.connect_station(ssid, cfg['wifi']['password'],
                                      *(SOFT_RESET_WIFI if soft else ()))
            if ip:
                state['mode'], state['ip'] = 'station', ip
                return state
        else:
            log('no Wi-Fi configured')
        if soft:
            log('soft reset: no setup page (press reset for it)')
            return state
        import network
        name = wifi.ap_name(network.WLAN(network.STA_IF).config('mac'))
        wifi.start_ap(name)
        state['mode'], state['ip'] = 'ap', wifi.AP_IP
        if wifi.run_setup(name, cfg, path, timeout_ms=setup_timeout_ms or wifi.SETUP_TIMEOUT_MS) \
                or ssid:
            log('restarting')
            import machine
            machine.reset()
        log('setup page timed out; starting the app on access point %r' % name)
    except Exception as exc:
        log('boot error (continuing): %r' % exc)
        print_exception(exc)
    finally:
        _drop('camdot.wifi')
    return state


def _drop(name):
    # Forget a module so the GC can take it back (boot's Wi-Fi code is not needed by the app).
    sys.modules.pop(name, None)
    package, _, attr = name.rpartition('.')
    parent = sys.modules.get(package)
    if parent is not None and attr in dir(parent):
        delattr(parent, attr)


# ---- watchdog ----

_parked = []  # type: list  # the machine.Timer feeding the watchdog while the app does not


def _rtc_memory(data=None):
    from machine import RTC
    if data is None:
        return RTC().memory()
    RTC().memory(data)
    return data


def unpark():
    """Stop a timer started by Watchdog.park(): the app feeds the watchdog again."""
    while _parked:
        _parked.pop().deinit()


def _watchdog_after_reset(soft):
    # The ESP32's watchdog can't be stopped and survives a soft reset, after which main.py does not
    # run in the raw REPL (mpremote): without this the board would reset under the tool 30 s later.
    # RTC memory says whether main.py armed it since the last hard reset (which disarms it).
    try:
        armed = _rtc_memory() == WDT_MARK
        if not soft:
            if armed:
                _rtc_memory(b'')
            return
        if armed:
            Watchdog(WATCHDOG_MS).park()
            log('watchdog armed before the soft reset: fed by a timer until main.py runs')
    except Exception as exc:
        log('watchdog check failed: %r' % exc)


def arm_watchdog(config):
    """main.py, before anything that can hang: the Watchdog for config['watchdog_ms'] (0: None)."""
    timeout = config.get('watchdog_ms', WATCHDOG_MS)
    if not timeout:
        log('no watchdog (watchdog_ms is 0)')
        return None
    return Watchdog(max(WATCHDOG_MIN_MS, timeout))


class Watchdog:
    """machine.WDT fed by an asyncio task of the running app: a blocked event loop resets the board.

        wdt = Watchdog(30000); asyncio.create_task(wdt.run())   # fed every quarter of the timeout
        wdt.park()    # the app stopped on purpose (Ctrl-C): keep feeding from a timer
    """

    def __init__(self, timeout_ms=WATCHDOG_MS):
        from machine import WDT
        unpark()   # a timer feeding it would hide a hung app
        self.timeout_ms = timeout_ms
        self.wdt = WDT(timeout=timeout_ms)   # re-arming just sets the timeout again
        try:
            _rtc_memory(WDT_MARK)
        except Exception as exc:
            log('no RTC memory: %r' % exc)

    def feed(self):
        self.wdt.feed()

    @property
    def interval_ms(self):
        """How often the app feeds it: a quarter of the timeout (a late loop still makes it)."""
        return self.timeout_ms // FEEDS_PER_TIMEOUT

    async def run(self, interval_ms=0):
        import asyncio
        interval = (interval_ms or self.interval_ms) / 1000
        while True:
            self.wdt.feed()
            await asyncio.sleep(interval)

    def park(self):
        """Feed from a hardware timer from now on (the REPL stays usable; the WDT can't be stopped)."""
        from machine import Timer
        unpark()
        timer = Timer(0)
        timer.init(period=self.interval_ms, callback=lambda t: self.wdt.feed())
        _parked.append(timer)
