"""Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).

    v = Utf8Validator()
    ok = v.feed(chunk) and v.feed(more, start, end)   # False from the first invalid byte on
    ok = v.final()                                    # False also for a truncated last character

A chunk may end mid-character: the state carries over, and a byte that can't continue the
sequence fails at once (fail fast). `scan(buf, start, end, state) -> state` is the fastest body
here: MicroPython's decoder accepts overlongs and surrogates, so there it is a viper state machine;
on CPython the strict C decoder does the bulk. States: 0 between characters, -1 invalid, else
need | lo << 2 | hi << 10 (continuation bytes still due, and the range allowed for the next one).
"""
from camdot.compat import MICROPYTHON

_CONT = 1 | 0x80 << 2 | 0xBF << 10  # one continuation byte 80..BF due


def step(s, b):
    """The state after byte b (the whole state machine, one byte at a time)."""
    if s == 0:
        if b < 0x80:
            return 0
        if b < 0xC2 or b > 0xF4:
            return -1
        if b < 0xE0:
            return _CONT
        if b < 0xF0:
            return 2 | (0xA0 if b == 0xE0 else 0x80) << 2 | (0x9F if b == 0xED else 0xBF) << 10
        return 3 | (0x90 if b == 0xF0 else 0x80) << 2 | (0x8F if b == 0xF4 else 0xBF) << 10
    if s < 0 or b < (s >> 2) & 0xFF or b > s >> 10:
        return -1
    return 0 if s & 3 == 1 else _CONT + (s & 3) - 2


def scan_py(buf, start, end, s):
    """Portable body; an all-ASCII chunk is recognised by the decoder without a Python loop."""
    if s == 0:
        try:
            if len(str(memoryview(buf)[start:end], 'utf-8')) == end - start:
                return 0
        except UnicodeError:
            pass
    while start < end and s >= 0:
        s = step(s, buf[start])
        start += 1
    return s


scan = scan_py
if MICROPYTHON:
    try:
        from camdot.websocket._viper import scan
    except Exception:  # no viper emitter in this firmware
        pass
else:
    from codecs import utf_8_decode

    def scan(buf, start, end, s):
        # Finish a character left open by the previous chunk (<= 3 bytes), let the strict C decoder
        # check the bulk, then step through the incomplete tail it leaves (it accepts ED A0 there).
        while s > 0 and start < end:
            s = step(s, buf[start])
            start += 1
        if s == 0 and start < end:
            try:
                start += utf_8_decode(memoryview(buf)[start:end], 'strict', False)[1]
            except UnicodeDecodeError:
                return -1
            while start < end and s >= 0:
                s = step(s, buf[start])
                start += 1
        return s


class Utf8Validator:
    """Validates UTF-8 fed in chunks of any size."""

    def __init__(self):
        self.state = 0

    def reset(self):
        self.state = 0

    def feed(self, data, start=0, end=None):
        """Check data[start:end]; False once anything fed so far is invalid."""
        if end is None:
            end = len(data)
        if self.state >= 0 and start < end:
            self.state = scan(data, start, end, self.state)
        return self.state >= 0

    def final(self):
        """True if everything fed is valid and ends on a character boundary."""
        return self.state == 0


def valid(data):
    """True if data (bytes-like) is complete, valid UTF-8."""
    return scan(data, 0, len(data), 0) == 0
