"""main.py's watchdog: machine.WDT fed by the running app, parked on a timer when the app stops.

    from camdot import watchdog
    wdt = watchdog.arm(config)         # main.py, before anything that can hang (None: watchdog_ms 0)
    asyncio.create_task(wdt.run())     # fed every quarter of its timeout by the event loop
    wdt.park()                         # the app stopped on purpose (Ctrl-C): fed from a timer
    watchdog.after_reset(soft)         # boot: a soft reset keeps it running: feed it from a timer

The ESP32's watchdog can't be stopped and survives a soft reset; RTC memory (WDT_MARK) says
whether main.py armed it since the last hard reset.
"""
WATCHDOG_MS = 30000         # main.py's watchdog timeout (config 'watchdog_ms')
WATCHDOG_MIN_MS = 1000      # shorter ones are raised to this (the app could never feed them)
FEEDS_PER_TIMEOUT = 4       # the watchdog is fed this often per timeout (a quarter of it)
WDT_MARK = b'camdot-wdt'    # in RTC memory while main.py's watchdog may be armed

_parked = []  # type: list  # the machine.Timer feeding the watchdog while the app does not


def log(msg):
    print('camdot watchdog:', msg)


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


def after_reset(soft):
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


def arm(config):
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
