"""Deterministic pseudo-random frame streams (issue 8.5, runs on both runtimes): valid traffic with
fragmentation and interleaved control frames, ending in a random violation, fed in random chunkings;
and random garbage, whose outcome must not depend on the chunking."""
import struct

from camdot.websocket.codec import OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG
from codec_helpers import raw, run, run_into

CHARS = ('a', 'Z', ' ', '\x7f', '\u00e9', '\u07ff', '\u0800', '\u20ac', '\uffff', '\U0001f600', '\U0010ffff')


class Rand:
    """A small LCG: the same sequence on every runtime."""

    def __init__(self, seed):
        self.x = seed

    def below(self, n):
        self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.x >> 8) % n

    def data(self, n):
        return bytes(self.below(256) for _ in range(n))

    def text(self, n):
        return ''.join(CHARS[self.below(len(CHARS))] for _ in range(n))

    def key(self):
        return self.data(4)


def size(r):
    pick = r.below(10)
    return 0 if pick == 0 else r.below(20) if pick < 7 else r.below(300) if pick < 9 else 125


def control(r, frames, events):
    op = (OP_PING, OP_PONG, OP_CLOSE)[r.below(3)]
    if op == OP_CLOSE:
        code = (1000, 1001, 1003, 1011, 3000, 4999)[r.below(6)]
        reason = r.text(r.below(30))
        payload = struct.pack('!H', code) + reason.encode('utf-8')
        events.append((OP_CLOSE, (code, reason)))
    else:
        payload = r.data(r.below(126))
        events.append((op, payload))
    frames.append(raw(op, payload, key=r.key()))


def message(r, frames, events, opened=False, text=None):
    """A whole message, maybe fragmented, maybe with control frames between fragments.
    With opened=True the last fragment is left out (a message is still in progress)."""
    if text is None:
        text = r.below(2)
    if text:
        value = r.text(size(r))
        data = value.encode('utf-8')
    else:
        data = value = r.data(size(r))
    cuts = sorted(r.below(len(data) + 1) for _ in range(r.below(4)))
    parts = []
    last = 0
    for c in cuts + [len(data)]:
        parts.append(data[last:c])
        last = c
    if opened and len(parts) == 1:
        parts.insert(0, b'')
    for i, part in enumerate(parts):
        fin = i == len(parts) - 1
        if opened and fin:
            return
        form = (None, None, None, 16, 64)[r.below(5)]
        frames.append(raw(OP_CONT if i else (OP_TEXT if text else OP_BINARY), part, fin=fin,
                          key=r.key(), form=form))
        if not fin and r.below(3) == 0:
            control(r, frames, events)
    events.append((OP_TEXT if text else OP_BINARY, value))


def violation(r, frames, events):
    """Appends one broken frame (sometimes in the middle of a message): returns the close code."""
    kind = r.below(12)
    key = r.key()
    if kind in (3, 4, 9):
        # These break a message in progress (a text one for the UTF-8 case).
        message(r, frames, events, opened=True, text=True if kind == 9 else None)
    if kind == 0:
        frames.append(raw(OP_TEXT, b'x', rsv=1 + r.below(7), key=key))
    elif kind == 1:
        frames.append(raw((3, 4, 5, 6, 7, 11, 12, 13, 14, 15)[r.below(10)], b'', key=key))
    elif kind == 2:
        frames.append(raw(OP_BINARY, b'abc', key=None))
    elif kind == 3:
        frames.append(raw((OP_TEXT, OP_BINARY)[r.below(2)], b'new', key=key))
    elif kind == 4:
        frames.append(raw(OP_PING, b'', fin=False, key=key))
    elif kind == 5:
        frames.append(raw(OP_CONT, b'orphan', key=key))
    elif kind == 6:
        frames.append(raw(OP_PONG, r.data(126 + r.below(50)), key=key))
    elif kind == 7:
        payload = struct.pack('!H', (0, 999, 1004, 1005, 1006, 1015, 2000, 5000)[r.below(8)])
        frames.append(raw(OP_CLOSE, payload if r.below(4) else b'\x03', key=key))
    elif kind == 8:
        frames.append(raw(OP_BINARY, b'', form=64, length=(1 << 63) + r.below(1000), key=key))
    elif kind == 9:
        frames.append(raw(OP_CONT, b'ok \xed\xa0\x80 and then more', key=key))
        return 1007
    elif kind == 10:
        frames.append(raw(OP_TEXT, r.text(3).encode('utf-8') + b'\xc0\xaf' + r.data(5), key=key))
        return 1007
    else:
        frames.append(raw(OP_BINARY, b'', length=5000 + r.below(5000), form=(16, 64)[r.below(2)], key=key))
        return 1009
    return 1002


def chunks(r, n):
    return [1 + r.below((1, 3, 17, 200, n + 1)[r.below(5)]) for _ in range(7)]


def test_random_valid_streams_in_random_chunkings():
    r = Rand(20261121)
    for _ in range(60):
        frames, events = [], []
        for _ in range(1 + r.below(6)):
            (message if r.below(3) else control)(r, frames, events)
        stream = b''.join(frames)
        assert run(stream) == (events, None)
        assert run(stream, chunks(r, len(stream))) == (events, None)
        assert run_into(stream, chunks(r, len(stream))) == (events, None)


def test_random_streams_ending_in_a_violation():
    r = Rand(8)
    seen = set()
    for _ in range(90):
        frames, events = [], []
        for _ in range(r.below(4)):
            (message if r.below(3) else control)(r, frames, events)
        code = violation(r, frames, events)
        seen.add(code)
        frames.append(r.data(r.below(40)))  # garbage after the violation is never parsed
        stream = b''.join(frames)
        want = (events, code)
        assert run(stream, max_message=4000) == want
        assert run(stream, chunks(r, len(stream)), max_message=4000) == want
        assert run_into(stream, chunks(r, len(stream)), max_message=4000) == want
    assert seen == {1002, 1007, 1009}


def test_random_garbage_outcome_does_not_depend_on_chunking():
    r = Rand(99)
    for i in range(120):
        # Mostly masked-looking headers so that some garbage gets past the first checks.
        head = bytes(((0x80 | r.below(3)) if r.below(2) else r.below(256), 0x80 | r.below(128)))
        stream = head + r.data(r.below(60))
        mm = (0, 30)[i & 1]
        whole = run(stream, max_message=mm)
        assert whole[1] in (None, 1002, 1007, 1009)
        assert run(stream, 1, max_message=mm) == whole
        assert run(stream, chunks(r, len(stream)), max_message=mm) == whole
        assert run_into(stream, chunks(r, len(stream)), max_message=mm) == whole
