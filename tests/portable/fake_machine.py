"""A fake of MicroPython's ESP32 `machine` module (Pin, WDT, Timer, reset), for tests.

    import fake_machine
    fake_machine.install(levels={0: 0})   # GPIO 0 reads low (button held)
    ...
    fake_machine.uninstall()

machine.reset() never returns on a board; here it raises Reset (a BaseException, so the code under
test's `except Exception` cannot swallow it) and tests catch that.
"""
import sys

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

cause = [PWRON_RESET]   # what reset_cause() answers
rtc_memory = [b'']      # RTC().memory(): survives soft and hard resets on a board
levels = {}       # pin id -> level read by Pin.value() (default 1: pulled up)
written = {}      # pin id -> last level written
resets = []
watchdogs = []
timers = []


class Reset(BaseException):
    pass


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id, mode=-1, pull=-1, *, value=None):
        self.id = id
        self.mode = mode
        self.pull = pull
        if value is not None:
            written[id] = value

    def value(self, *args):
        if args:
            written[self.id] = args[0]
            return None
        if self.mode == Pin.OUT:
            return written.get(self.id, 0)
        return levels.get(self.id, 1 if self.pull == Pin.PULL_UP else 0)

    def __call__(self, *args):
        return self.value(*args)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class WDT:
    def __init__(self, id=0, timeout=5000):
        if timeout < 1:
            raise ValueError('WDT timeout too short')
        self.timeout = timeout
        self.feeds = 0
        watchdogs.append(self)

    def feed(self):
        self.feeds += 1


class Timer:
    PERIODIC = 1
    ONE_SHOT = 0

    def __init__(self, id, **kwargs):
        self.id = id
        self.callback = None
        self.period = None
        timers.append(self)

    def init(self, *, mode=PERIODIC, period=-1, callback=None, freq=-1):
        self.period = period
        self.callback = callback

    def deinit(self):
        self.callback = None

    def fire(self):
        if self.callback:
            self.callback(self)


class RTC:
    def __init__(self, id=0):
        pass

    def memory(self, *args):
        if args:
            if len(args[0]) > 2048:
                raise ValueError('buffer too long')
            rtc_memory[0] = bytes(args[0])
            return None
        return rtc_memory[0]


def reset():
    resets.append('reset')
    raise Reset()


def reset_cause():
    return cause[0]


def unique_id():
    return b'\x24\x6f\x28\xa1\xb2\xc3'


def install(levels_=None, cause_=PWRON_RESET, rtc_memory_=b''):
    cause[0] = cause_
    rtc_memory[0] = rtc_memory_
    levels.clear()
    levels.update(levels_ or {})
    written.clear()
    del resets[:]
    del watchdogs[:]
    del timers[:]
    sys.modules['machine'] = sys.modules[__name__]


def uninstall():
    sys.modules.pop('machine', None)
