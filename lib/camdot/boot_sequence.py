"""The board's boot sequence (boot.py, through camdot.board.boot()): safe mode, Wi-Fi or the setup
access point. Bounded in time; never raises (but KeyboardInterrupt).

    from camdot import boot_sequence
    boot_sequence.run(state, path, setup_timeout_ms, '/safemode', 1000)   # what board.boot() does

It records what it finds in `state` (camdot.board.state). camdot.board.boot() imports this module
and drops it again afterwards, with the Wi-Fi setup page: the app's heap carries neither.
"""
import sys

from camdot.atomic import exists
from camdot.compat import print_exception, sleep_ms, ticks_diff, ticks_ms

SAFE_PIN = 0                # IO0 (the BOOT button of the ESP32-CAM-MB), held low just after reset
STATUS_LED = 33             # AI-Thinker red LED, active low
PIN_POLL_MS = 20            # how often the safe-mode pin is read in its window
SOFT_RESET_WIFI = (5000, 1) # after a soft reset: one 5 s try to join the network


def log(msg):
    print('camdot boot:', msg)


def pin_held(pin_id, window_ms, led_id=STATUS_LED):
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


def check_safe_mode(flag, pin_id, window_ms):
    """The reason for safe mode: the file `flag` exists, or the pin `pin_id` is held low within
    `window_ms` (0: not watched); None. Errors count as 'no'."""
    if exists(flag):
        return 'flag file ' + flag
    if pin_id is not None and window_ms > 0:
        try:
            if pin_held(pin_id, window_ms):
                return 'pin %d held low' % pin_id
        except Exception as exc:
            log('cannot read the safe-mode pin: %r' % exc)
    return None


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


def run(state, path, setup_timeout_ms, safe_flag, safe_window_ms):
    """boot.py's whole job, recorded in `state` as it goes (see camdot.board.state); returns it.
    Bounded in time; logs and swallows every error but KeyboardInterrupt.

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
        from camdot import watchdog
        watchdog.after_reset(soft)
        reason = check_safe_mode(safe_flag, SAFE_PIN, 0 if soft else safe_window_ms)
        state['safe'] = reason or ''
        if reason:
            log('SAFE MODE (%s): the app will not start. Leave it: remove %s and reset.'
                % (reason, safe_flag))
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
        from camdot import wifi_setup
        timeout_ms = setup_timeout_ms or wifi_setup.SETUP_TIMEOUT_MS
        if wifi_setup.run_setup(name, cfg, path, timeout_ms=timeout_ms) or ssid:
            log('restarting')
            import machine
            machine.reset()
        log('setup page timed out; starting the app on access point %r' % name)
    except Exception as exc:
        log('boot error (continuing): %r' % exc)
        print_exception(exc)
    return state

