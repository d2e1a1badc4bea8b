"""RFC 6455 frames, sans-IO: bytes in, events out; headers built apart from their payload.

    p = Parser(client=False, max_message=0)   # server role: incoming frames must be masked
    p.feed(data)                              # any chunking; raises ProtocolError (.code)
    ev = p.next()                             # None or (opcode, payload)
    sock.write(header(OP_BINARY, len(payload))); sock.write(payload)

Events: OP_TEXT -> str, OP_BINARY -> bytearray (the whole message), OP_PING/OP_PONG -> bytes,
OP_CLOSE -> (code or None, reason). Zero-copy reads: `buf = p.buffer()` is where the next
`p.wanted()` bytes belong; read into it, then `p.commit(n)`.
"""
import struct

from camdot.compat import const
from camdot.mask import mask_range
from camdot.utf8 import Utf8Validator, valid

OP_CONT = const(0)
OP_TEXT = const(1)
OP_BINARY = const(2)
OP_CLOSE = const(8)
OP_PING = const(9)
OP_PONG = const(10)

# Without a max_message limit, buffers grow as the data arrives (doubling from this size) rather
# than trusting an announced length outright.
_STEP = const(65536)


class ProtocolError(Exception):
    """A peer broke the protocol: close the connection with .code (1002, 1007 or 1009)."""

    def __init__(self, message, code=1002):
        super().__init__(message)
        self.code = code


def valid_close_code(code):
    """True for a close code a peer may send (RFC 6455 7.4 plus IANA 1012-1014, 3000-4999)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def header(opcode, length, fin=True, mask=None):
    """Frame header for a payload of `length` bytes (minimal length form, mask key appended)."""
    b0 = opcode | 0x80 if fin else opcode
    m = 0x80 if mask else 0
    if length < 126:
        h = bytes((b0, m | length))
    elif length < 65536:
        h = struct.pack('!BBH', b0, m | 126, length)
    else:
        h = struct.pack('!BBQ', b0, m | 127, length)
    return h + bytes(mask) if mask else h


def frame(opcode, payload=b'', fin=True, mask=None):
    """A whole frame as bytes (copies and masks the payload: for small frames and clients)."""
    if isinstance(payload, str):
        payload = payload.encode()
    if mask:
        payload = bytearray(payload)
        mask_range(payload, 0, len(payload), mask, 0)
    return header(opcode, len(payload), fin, mask) + payload


def close_payload(code=1000, reason=''):
    """Close frame payload; code None gives the empty payload. ValueError for what can't be sent."""
    if code is None:
        return b''
    if not valid_close_code(code) or code in (1004, 1005, 1006):
        raise ValueError('bad close code %d' % code)
    reason = reason.encode() if isinstance(reason, str) else bytes(reason)
    if len(reason) > 123:
        raise ValueError('close reason over 123 bytes')
    return struct.pack('!H', code) + reason


def parse_close(data):
    """(code or None, reason) from a received close payload; ProtocolError if invalid."""
    n = len(data)
    if n == 0:
        return None, ''
    if n == 1:
        raise ProtocolError('close payload of 1 byte')
    code = data[0] << 8 | data[1]
    if not valid_close_code(code):
        raise ProtocolError('invalid close code %d' % code)
    if not valid(memoryview(data)[2:]):
        raise ProtocolError('close reason not UTF-8', 1007)
    return code, str(memoryview(data)[2:], 'utf-8')


class Parser:
    """Incremental frame parser for one direction of one connection."""

    def __init__(self, client=False, max_message=0):
        self.client = bool(client)
        self.max_message = max_message
        self._hdr = bytearray(14)
        self._hn = 0             # header bytes collected
        self._need = 2           # header bytes needed (2 until the length form and mask are known)
        self._left = -1          # payload bytes still due for this frame; -1 while in the header
        self._op = 0             # opcode of the current frame
        self._fin = True
        self._key = bytearray(4)
        self._masked = False
        self._phase = 0          # payload bytes of this frame already seen (mask phase)
        self._dst = None         # buffer the payload goes to: the message or a control payload
        self._pos = 0            # write position in _dst
        self._mop = 0            # opcode of the message in progress (0: none)
        self._msg = None
        self._utf8 = Utf8Validator()
        self._events = []
        self.error = None        # the ProtocolError that killed this parser

    def next(self):
        """The next complete event (opcode, payload), or None. Events completed before an error
        stay available."""
        ev = self._events
        return ev.pop(0) if ev else None

    def wanted(self):
        """Bytes the parser needs now, never past the end of the current frame's header or payload
        (0 once dead). Reading exactly this much never over-reads into the next frame."""
        if self.error:
            return 0
        if self._left < 0:
            return self._need - self._hn
        return self._left

    def buffer(self):
        """Writable memoryview for the next bytes (at most wanted()); fill it and call commit(n)."""
        if self.error:
            raise self.error
        if self._left < 0:
            return memoryview(self._hdr)[self._hn:self._need]
        p = self._pos
        return memoryview(self._dst)[p:p + min(self._left, len(self._dst) - p)]

    def commit(self, n):
        """n bytes were written at the start of buffer(): parse them."""
        try:
            if self._left < 0:
                self._hn += n
                if self._hn == self._need:
                    self._header()
            elif n:
                self._got(n)
        except ProtocolError as exc:
            self.error = exc
            raise

    def feed(self, data):
        """Parse bytes (bytes/bytearray/memoryview, any chunking); raises ProtocolError."""
        if self.error:
            raise self.error
        mv = memoryview(data)
        n = len(mv)
        i = 0
        try:
            while i < n:
                if self._left < 0:
                    hn = self._hn
                    k = min(self._need - hn, n - i)
                    self._hdr[hn:hn + k] = mv[i:i + k]
                    i += k
                    self._hn = hn + k
                    if hn + k == self._need:
                        self._header()
                else:
                    p = self._pos
                    k = min(self._left, n - i, len(self._dst) - p)
                    self._dst[p:p + k] = mv[i:i + k]
                    i += k
                    self._got(k)
        except ProtocolError as exc:
            self.error = exc
            raise

    def _header(self):
        h = self._hdr
        b0 = h[0]
        b1 = h[1]
        ln = b1 & 0x7F
        if self._need == 2:
            # First two bytes: everything but the extended length and the key can be checked.
            op = b0 & 0x0F
            if b0 & 0x70:
                raise ProtocolError('reserved bits set')
            if 2 < op < 8 or op > 10:
                raise ProtocolError('unknown opcode %d' % op)
            if bool(b1 & 0x80) == self.client:
                raise ProtocolError('masked frame from server' if self.client else 'unmasked frame from client')
            if op >= 8:
                if not b0 & 0x80:
                    raise ProtocolError('fragmented control frame')
                if ln > 125:
                    raise ProtocolError('control frame over 125 bytes')
            elif op == OP_CONT:
                if not self._mop:
                    raise ProtocolError('continuation without a message')
            elif self._mop:
                raise ProtocolError('new message before the last one ended')
            need = 2 + (2 if ln == 126 else 8 if ln == 127 else 0) + (0 if self.client else 4)
            if need > 2:
                self._need = need
                return
        op = b0 & 0x0F
        i = 2
        if ln == 126:
            ln = h[2] << 8 | h[3]
            i = 4
        elif ln == 127:
            if h[2] & 0x80:
                raise ProtocolError('64-bit length with the top bit set')
            ln = int.from_bytes(h[2:10], 'big')
            i = 10
        if op < 8:
            total = ln + (len(self._msg) if op == OP_CONT else 0)
            if 0 < self.max_message < total:
                raise ProtocolError('message over %d bytes' % self.max_message, 1009)
        self._masked = not self.client
        if self._masked:
            k = self._key
            k[0] = h[i]
            k[1] = h[i + 1]
            k[2] = h[i + 2]
            k[3] = h[i + 3]
        self._hn = 0
        self._need = 2
        self._op = op
        self._fin = b0 & 0x80
        self._phase = 0
        self._left = ln
        if op >= 8:
            self._dst = bytearray(ln)
            self._pos = 0
        else:
            if op:
                self._mop = op
                self._msg = b''
                self._utf8.reset()
            self._pos = len(self._msg)
            self._grow()
        if not ln:
            self._done()

    def _grow(self):
        # Make room in the message buffer for (some of) the rest of this frame.
        msg = self._msg
        have = len(msg)
        need = self._pos + self._left
        if not self.max_message and need - have > max(have, _STEP):
            need = have + max(have, _STEP)
        try:
            if not have:
                msg = self._msg = bytearray(need)
            elif need > have:
                msg.extend(bytes(need - have))
        except (MemoryError, OverflowError):
            raise ProtocolError('message too big for memory', 1009)
        self._dst = msg

    def _got(self, k):
        # k payload bytes were stored at _dst[_pos:]: unmask, check, account for them.
        dst = self._dst
        p = self._pos
        if self._masked:
            mask_range(dst, p, p + k, self._key, self._phase)
        if self._mop == OP_TEXT and self._op < 8 and not self._utf8.feed(dst, p, p + k):
            raise ProtocolError('invalid UTF-8 in text', 1007)
        self._phase += k
        self._pos = p + k
        self._left -= k
        if not self._left:
            self._done()
        elif self._pos == len(dst):
            self._grow()

    def _done(self):
        # The current frame is complete.
        op = self._op
        self._left = -1
        if op >= 8:
            data = bytes(self._dst)
            self._dst = None
            self._events.append((op, parse_close(data) if op == OP_CLOSE else data))
        elif self._fin:
            msg = self._msg
            op = self._mop
            self._dst = self._msg = None
            self._mop = 0
            if op == OP_TEXT:
                if not self._utf8.final():
                    raise ProtocolError('truncated UTF-8 in text', 1007)
                msg = str(msg, 'utf-8')
            self._events.append((op, msg))
