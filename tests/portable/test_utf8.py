"""camdot.websocket.utf8: every body (viper on MicroPython, CPython's decoder, the portable fallback) agrees
with an independent code-point reference, fails at the first bad byte across chunk boundaries,
and final() rejects a truncated last character."""
import sys

import camdot.websocket.utf8 as utf8
from camdot.websocket.utf8 import Utf8Validator, valid, scan_py, step

VALID = ['', 'abc', '\x00\x7f', '\x80', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '\U00010000',
         '\U0010ffff', 'h\u00e9llo w\u00f6rld \u20ac \U0001f600!' * 7]
# (bytes, index of the first byte that makes the input invalid)
INVALID = [
    (b'\x80', 0), (b'\xbf', 0), (b'ab\xff', 2), (b'\xfe', 0), (b'\xc0\x80', 0), (b'\xc1\xbf', 0),
    (b'\xe0\x80\x80', 1), (b'\xe0\x9f\xbf', 1), (b'\xf0\x80\x80\x80', 1), (b'\xf0\x8f\xbf\xbf', 1),
    (b'\xed\xa0\x80', 1), (b'\xed\xbf\xbf', 1), (b'\xf4\x90\x80\x80', 1), (b'\xf5\x80\x80\x80', 0),
    (b'\xf8\x88\x80\x80\x80', 0), (b'\xc2\x41', 1), (b'\xe2\x82\x41', 2), (b'\xf0\x9f\x98\x41', 3),
    (b'\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited', 12), (b'a\xc3\xa9\xc3', -1),
]


def reference(data):
    """Validity by decoding code points (independent of the state machine under test)."""
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c < 0x80:
            i += 1
            continue
        if 0xC0 <= c < 0xE0:
            k, cp, low = 1, c & 0x1F, 0x80
        elif 0xE0 <= c < 0xF0:
            k, cp, low = 2, c & 0x0F, 0x800
        elif 0xF0 <= c < 0xF8:
            k, cp, low = 3, c & 0x07, 0x10000
        else:
            return False
        for j in range(1, k + 1):
            if i + j >= n or data[i + j] & 0xC0 != 0x80:
                return False
            cp = cp << 6 | data[i + j] & 0x3F
        if cp < low or 0xD800 <= cp <= 0xDFFF or cp > 0x10FFFF:
            return False
        i += k + 1
    return True


def step_scan(buf, start, end, s):
    for i in range(start, end):
        s = step(s, buf[i])
    return s


BODIES = [('scan', utf8.scan), ('scan_py', scan_py), ('step', step_scan)]


def first_failure(body, data):
    """Index of the byte at which byte-by-byte feeding first reports invalid, or None."""
    s = 0
    for i in range(len(data)):
        s = body(data, i, i + 1, s)
        if s < 0:
            return i
    return None


def test_fast_body_is_selected():
    if sys.implementation.name == 'micropython':
        import camdot.websocket._viper as _viper
        assert utf8.scan is _viper.scan
    else:
        assert utf8.scan is not scan_py


def test_valid_strings_in_every_split():
    for text in VALID:
        data = text.encode('utf-8')
        assert reference(data) and valid(data)
        for name, body in BODIES:
            assert body(data, 0, len(data), 0) == 0, (name, text)
            for cut in range(len(data) + 1):
                s = body(data, 0, cut, 0)
                assert s >= 0
                assert body(data, cut, len(data), s) == 0, (name, data, cut)


def test_invalid_fail_at_the_first_bad_byte():
    for data, bad in INVALID:
        assert not reference(data) and not valid(data), data
        for name, body in BODIES:
            assert body(data, 0, len(data), 0) != 0, (name, data)
            assert first_failure(body, data) == (None if bad < 0 else bad), (name, data)
            for cut in range(len(data) + 1):
                s = body(data, 0, cut, 0)
                if s >= 0:
                    s = body(data, cut, len(data), s)
                assert s != 0, (name, data, cut)


def test_validator_object():
    v = Utf8Validator()
    assert v.feed(b'caf\xc3') and not v.final()
    assert v.feed(bytearray(b'xx\xa9 ok'), 2, 5) and v.final()
    assert v.feed(memoryview(b'\xf0\x9f'))
    assert not v.feed(b'\x41')  # can't continue the 4-byte character
    assert not v.feed(b'abc') and not v.final()  # stays invalid
    v.reset()
    assert v.feed(b'') and v.final()
    assert v.feed(b'abc', 3, 3)


TAILS = (0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF)


def viable(prefix, more=3):
    """True if adding at most `more` bytes can make prefix valid (the reference for failing fast)."""
    if reference(prefix):
        return True
    if more:
        for x in TAILS:
            if viable(prefix + bytes((x,)), more - 1):
                return True
    return False


def test_all_two_byte_sequences_agree_with_reference():
    for a in range(0x80, 0x100):
        for b in range(0x100):
            data = bytes((a, b))
            want = reference(data)
            for name, body in BODIES:
                assert (body(data, 0, 2, 0) == 0) == want, (name, data)


def test_fail_fast_matches_prefix_viability():
    seconds = (0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xFF)
    for a in range(0x80, 0x100):
        one = viable(bytes((a,)))
        for b in seconds:
            data = bytes((a, b))
            two = one and viable(data, 2)
            for name, body in BODIES:
                s = body(data, 0, 1, 0)
                assert (s >= 0) == one, (name, data)
                if s >= 0:
                    assert (body(data, 1, 2, s) >= 0) == two, (name, data)


def test_three_and_four_byte_boundaries_agree_with_reference():
    edges = (0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF)
    for a in range(0xC0, 0x100):
        for b in edges:
            for c in edges:
                for d in (0x41, 0x80, 0xBF, 0xC0):
                    data = bytes((a, b, c, d))
                    for n in (3, 4):
                        want = reference(data[:n])
                        assert (utf8.scan(data, 0, n, 0) == 0) == want, data[:n]
                        assert (scan_py(data, 0, n, 0) == 0) == want, data[:n]
                        s = utf8.scan(data, 0, 1, 0)
                        if s >= 0:
                            s = utf8.scan(data, 1, n, s)
                        assert (s == 0) == want, data[:n]


def test_long_ascii_runs_with_unaligned_starts():
    data = bytearray(b'a' * 200)
    for pos in range(0, 20):
        for start in range(0, 5):
            buf = bytearray(data)
            buf[start + pos] = 0xFF
            for name, body in BODIES:
                assert body(buf, start, len(buf), 0) < 0, (name, pos, start)
                assert body(buf, start, start + pos, 0) == 0, (name, pos, start)
                assert body(memoryview(buf)[start:], 0, len(buf) - start, 0) < 0
