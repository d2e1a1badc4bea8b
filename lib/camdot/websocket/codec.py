"""RFC 6455 frames, sans-IO: bytes in, events out; headers built apart from their payload.

    p = Parser(client=False, max_message=0)   # server role: incoming frames must be masked
    p.feed(data)                              # any chunking; raises ProtocolError (.code)
    ev = p.next()                             # None or (opcode, payload); or pop(0) p.events
    writer.write(header(OP_BINARY, len(payload))); writer.write(payload)

Events: OP_TEXT -> str, OP_BINARY -> bytearray (the whole message), OP_PING/OP_PONG -> bytes,
OP_CLOSE -> (code or None, reason). Zero-copy reading: `p.buffer()` is a memoryview where the
next bytes go (at most `p.wanted()`, which never runs past the current frame): fill it, `p.commit(n)`.
"""
from struct import pack

from camdot.compat import MICROPYTHON, const

OP_CONT = const(0)
OP_TEXT = const(1)
OP_BINARY = const(2)
OP_CLOSE = const(8)
OP_PING = const(9)
OP_PONG = const(10)

# Without max_message, a buffer grows as data arrives, doubling from this size, instead of
# allocating whatever length a peer announces.
_STEP = const(65536)

scan = None
if MICROPYTHON:
    try:  # the viper bodies straight away: camdot.websocket.mask and camdot.websocket.utf8 cost RAM to import
        from camdot.websocket._viper import mask_range, scan
    except Exception:
        pass
if scan is None:
    from camdot.websocket.mask import mask_range
    from camdot.websocket.utf8 import scan


class ProtocolError(Exception):
    """The peer broke the protocol: fail the connection with .code (1002, 1007 or 1009)."""

    def __init__(self, message, code=1002):
        super().__init__(message)
        self.code = code


def valid_close_code(code):
    """True for a close code a peer may send (RFC 6455 7.4.1, IANA 1012-1014, 3000-4999)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def header(opcode, length, fin=True, mask=None):
    """Frame header for a payload of `length` bytes (minimal length form, mask key appended)."""
    b0 = opcode | 0x80 if fin else opcode
    m = 0x80 if mask else 0
    if length < 126:
        h = bytes((b0, m | length))
    elif length < 65536:
        h = pack('!BBH', b0, m | 126, length)    # (one allocation)
    else:
        h = pack('!BBQ', b0, m | 127, length)
    return h + mask if mask else h


def close_payload(code=1000, reason=''):
    """Close frame payload (code None: empty). ValueError for a code or reason that can't be sent."""
    if code is None:
        return b''
    reason = reason.encode() if isinstance(reason, str) else bytes(reason)
    if not valid_close_code(code) or len(reason) > 123:
        raise ValueError('bad close code or reason')
    return code.to_bytes(2, 'big') + reason


class Parser:
    """Incremental frame parser for the incoming direction of one connection."""

    def __init__(self, client=False, max_message=0):
        self.client = bool(client)
        self.max_message = max_message
        self.error = None    # the ProtocolError that killed this parser
        self._h = bytearray(14)
        self._hn = 0         # header bytes received
        self._need = 2       # header bytes needed (2 until the length form is known)
        self._left = -1      # payload bytes due for the current frame; -1 while in a header
        self._mop = 0        # opcode of the message in progress (0: none)
        self._msg = None     # the message buffer (may have room beyond _mlen)
        self._mlen = 0       # message bytes received in finished frames
        self._u = 0          # UTF-8 state of the text message in progress
        self.events = []     # completed (opcode, payload) events, oldest first: see next()

    def next(self):
        """The next event (opcode, payload) or None. Events completed before an error are kept."""
        return self.events.pop(0) if self.events else None

    def wanted(self):
        """Bytes needed now, never past the current header or payload (0 once dead)."""
        if self.error:
            return 0
        return self._need - self._hn if self._left < 0 else self._left

    def buffer(self):
        """Writable memoryview for the next bytes (1..wanted() long): fill it, then commit(n).
        Valid until that commit: a frame's payload is read straight into the message buffer."""
        if self.error:
            raise self.error
        if self._left < 0:
            return memoryview(self._h)[self._hn:self._need]
        p = self._pos
        return memoryview(self._dst)[p:p + self._left]

    def commit(self, n):
        """n bytes were written at the start of buffer(): parse them."""
        # (One method for header and payload: each method is one more code object in RAM. Fields
        # are read into locals once: on MicroPython an attribute costs ten times a local.)
        if self.error:
            raise self.error
        try:
            left = self._left
            if left < 0:
                hn = self._hn + n
                need = self._need
                if hn < need:
                    self._hn = hn
                    return
                h = self._h
                b0 = h[0]
                op = b0 & 15
                ln = h[1] & 127
                if need == 2:
                    # Everything but the extended length and the key can be checked on two bytes.
                    client = self.client
                    if b0 & 0x70:
                        raise ProtocolError('reserved bits set')
                    if 2 < op < 8 or op > 10:
                        raise ProtocolError('unknown opcode')
                    if (h[1] > 127) == client:
                        raise ProtocolError('bad masking')
                    if op > 7:
                        if ln > 125 or b0 < 128:
                            raise ProtocolError('bad control frame')
                    elif (op == 0) != (self._mop > 0):
                        raise ProtocolError('bad continuation')
                    need = 2 + (2 if ln == 126 else 8 if ln == 127 else 0) + (0 if client else 4)
                    if hn < need:
                        self._hn = hn
                        self._need = need
                        return
                if ln == 126:
                    ln = h[2] << 8 | h[3]
                elif ln == 127:
                    if h[2] > 127:
                        raise ProtocolError('bad length')
                    ln = int.from_bytes(h[2:10], 'big')
                if op < 8:
                    if op:
                        self._mop = op
                        self._msg = b''
                        self._mlen = 0
                        self._u = 0
                    p = self._mlen
                    if 0 < self.max_message < p + ln:
                        raise ProtocolError('message too big', 1009)
                    self._frag = b0 < 128 or not op
                    op = self._mop
                    dst = self._msg
                else:
                    dst = bytearray(ln)
                    p = 0
                self._key = None if self.client else h[need - 4:need]
                self._hn = 0
                self._need = 2
                self._op = op        # for data frames, the message's opcode
                self._fin = b0 > 127
                self._phase = 0      # payload bytes of this frame so far (mask phase)
                self._dst = dst
                left = ln
            else:
                # n more payload bytes are at _dst[_pos:]: unmask and check them.
                dst = self._dst
                p = self._pos
                key = self._key
                if key:
                    mask_range(dst, p, p + n, key, self._phase)
                    self._phase += n
                if self._op == OP_TEXT:
                    u = self._u = scan(dst, p, p + n, self._u)
                    if u < 0:
                        raise ProtocolError('invalid UTF-8', 1007)
                p += n
                left -= n
            if left:
                self._left = left
                self._pos = p
                if p == len(dst):
                    # Room in the message buffer for (some of) the rest of the frame. A fragmented
                    # message grows by doubling, so a stream of tiny fragments costs linear time.
                    need = p + left
                    if self._frag:
                        need = max(need, p + p)
                    need = min(need, self.max_message or p + max(p, _STEP))
                    try:
                        msg = bytearray(need)
                    except (MemoryError, OverflowError):
                        raise ProtocolError('message too big', 1009)
                    # A new buffer rather than extend(): CPython can't resize a buffer that a
                    # memoryview from buffer() may still export.
                    msg[:p] = dst
                    self._msg = self._dst = msg
                return
            # The frame is complete.
            self._left = -1
            self._dst = None
            op = self._op
            if op > 7:
                ev = bytes(dst)
                if op == OP_CLOSE:
                    n = len(ev)
                    code = None
                    if n:
                        code = ev[0] << 8 | ev[1] if n > 1 else 0
                        if not valid_close_code(code):
                            raise ProtocolError('bad close code')
                        if scan(ev, 2, n, 0):
                            raise ProtocolError('invalid UTF-8', 1007)
                    ev = (code, str(ev[2:], 'utf-8'))
            else:
                self._mlen = p
                if not self._fin:
                    return
                ev = self._msg or bytearray()
                if len(ev) > p:  # the room left over by doubling
                    if MICROPYTHON:
                        ev[p:] = b''  # shrinks in place
                    else:
                        ev = ev[:p]
                self._msg = None
                self._mop = 0
                if op == OP_TEXT:
                    if self._u:
                        raise ProtocolError('invalid UTF-8', 1007)
                    ev = str(ev, 'utf-8')
            self.events.append((op, ev))
        except ProtocolError as exc:
            self.error = exc
            raise

    def feed(self, data):
        """Parse bytes (bytes/bytearray/memoryview, any chunking); raises ProtocolError."""
        if self.error:
            raise self.error
        mv = memoryview(data)
        i = 0
        n = len(mv)
        while i < n:
            k = n - i        # (conditions rather than min(): a builtin costs two lookups)
            left = self._left
            if left < 0:
                hn = self._hn
                if hn == 0 and k > 1:
                    # A header starts here: take all of it that is here at once (its size as
                    # commit() works it out from the second byte).
                    ln = mv[i + 1] & 127
                    ln = 2 + (2 if ln == 126 else 8 if ln == 127 else 0) + \
                        (0 if self.client else 4)
                else:
                    ln = self._need - hn
                if k > ln:
                    k = ln
                self._h[hn:hn + k] = mv[i:i + k]
            else:
                # Straight into the message buffer, within its room (commit() makes more).
                dst = self._dst
                p = self._pos
                if k > left:
                    k = left
                if k > len(dst) - p:
                    k = len(dst) - p
                dst[p:p + k] = mv[i:i + k]
            i += k
            self.commit(k)
