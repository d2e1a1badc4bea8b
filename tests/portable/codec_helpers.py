"""Helpers for the frame codec tests (no tests here): frames built by hand, independent of
camdot.websocket.codec.header, and a driver that feeds a stream in given chunk sizes and collects events and the close code."""
import struct

from camdot.websocket.codec import Parser, ProtocolError

KEY = b'\x37\xfa\x21\x3d'


def raw(op, payload=b'', fin=True, rsv=0, key=KEY, length=None, form=None):
    """A frame built by hand. length overrides the announced length; form forces 7/16/64."""
    if isinstance(payload, str):
        payload = payload.encode('utf-8')
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv << 4 | op
    m = 0x80 if key else 0
    if form is None:
        form = 7 if n < 126 else 16 if n < 65536 else 64
    if form == 7:
        h = bytes((b0, m | n))
    elif form == 16:
        h = bytes((b0, m | 126)) + struct.pack('!H', n)
    else:
        h = bytes((b0, m | 127)) + struct.pack('!Q', n)
    if not key:
        return h + payload
    out = bytearray(len(h) + 4 + len(payload))
    out[:len(h)] = h
    i = len(h)
    out[i:i + 4] = key
    i += 4
    out[i:] = payload
    for j in range(len(payload)):  # plain per-byte masking: the reference, not the code under test
        out[i + j] ^= key[j & 3]
    return out


def norm(ev):
    op, payload = ev
    if isinstance(payload, (bytes, bytearray, memoryview)):
        payload = bytes(payload)
    return op, payload


def drain(p, out):
    while True:
        ev = p.next()
        if ev is None:
            return
        out.append(norm(ev))


def run(stream, sizes=None, client=False, max_message=0):
    """Feed stream in chunks (sizes: an int, a list cycled, or None for one chunk).
    Returns (events, close code or None); checks a dead parser stays dead."""
    p = Parser(client=client, max_message=max_message)
    events = []
    code = None
    i = 0
    k = 0
    n = len(stream)
    while i < n:
        if sizes is None:
            size = n
        elif isinstance(sizes, int):
            size = sizes
        else:
            size = sizes[k % len(sizes)]
            k += 1
        try:
            p.feed(stream[i:i + size])
        except ProtocolError as exc:
            code = exc.code
            assert exc.args[0]
            drain(p, events)
            try:
                p.feed(b'\x81')
            except ProtocolError as again:
                assert again.code == code
            else:
                raise AssertionError('dead parser accepted data')
            return events, code
        i += size
        drain(p, events)
    return events, code


def run_into(stream, sizes, client=False, max_message=0):
    """Same as run() but through the zero-copy buffer()/commit() API, never over-reading."""
    p = Parser(client=client, max_message=max_message)
    events = []
    i = 0
    k = 0
    n = len(stream)
    while i < n:
        want = p.wanted()
        assert want > 0
        buf = p.buffer()
        assert 0 < len(buf) <= want
        size = min(len(buf), sizes[k % len(sizes)], n - i)
        k += 1
        buf[:size] = stream[i:i + size]
        i += size
        try:
            p.commit(size)
        except ProtocolError as exc:
            drain(p, events)
            assert p.wanted() == 0
            return events, exc.code
        drain(p, events)
    return events, None
