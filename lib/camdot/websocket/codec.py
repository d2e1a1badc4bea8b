"""RFC 6455 frames, sans-IO: bytes in, frame events out; headers built apart from their payload.

    p = Parser(client=False, max_message=0)   # server role: incoming frames must be masked
    p.feed(data)                              # any chunking; raises ProtocolError (.code)
    ev = p.next()                             # None or (opcode, payload); or pop(0) p.events
    writer.write(header(OP_BINARY, len(payload))); writer.write(payload)

Events: OP_TEXT -> str, OP_BINARY -> bytearray (the whole message), OP_PING/OP_PONG -> bytes,
OP_CLOSE -> (code or None, reason). Zero-copy reading: `p.buffer()` is a memoryview where the
next bytes go (at most `p.wanted()`, which never runs past the current frame): fill it, `p.commit(n)`.

This layer checks frames (RFC 6455 section 5) and nothing else: what to do about a ping, a close or
a violation is camdot.websocket.protocol's business.
"""
from struct import pack

from camdot.compat import MICROPYTHON, const

# Opcodes (RFC 6455 5.2).
OP_CONT = const(0)
OP_TEXT = const(1)
OP_BINARY = const(2)
OP_CLOSE = const(8)
OP_PING = const(9)
OP_PONG = const(10)

# Close codes (RFC 6455 7.4.1). NO_STATUS and ABNORMAL are never sent: they report a close frame
# without a code, and a connection lost without any close frame.
CLOSE_NORMAL = const(1000)
CLOSE_GOING_AWAY = const(1001)
CLOSE_PROTOCOL_ERROR = const(1002)
CLOSE_NO_STATUS = const(1005)
CLOSE_ABNORMAL = const(1006)
CLOSE_INVALID_DATA = const(1007)
CLOSE_TOO_BIG = const(1009)
CLOSE_INTERNAL_ERROR = const(1011)
CLOSE_TRY_AGAIN_LATER = const(1013)

# The two bytes every header starts with.
_FIN = const(0x80)
_RSV = const(0x70)           # reserved bits: no extension is implemented, so they must be 0
_OPCODE = const(0x0F)
_MASKED = const(0x80)
_LENGTH = const(0x7F)        # the 7-bit length, or one of these two markers:
_LENGTH_16 = const(126)      # a 16-bit length follows
_LENGTH_64 = const(127)      # a 64-bit length follows
_MAX_CONTROL = const(125)    # longest control frame payload
_MAX_CLOSE_REASON = const(123)   # _MAX_CONTROL but the close code's two bytes
# A header's size: these two bytes, the extended length if any, the mask key if masked.
_BASE = const(2)
_KEY = const(4)
_MAX_HEADER = const(14)      # _BASE + 8 (64-bit length) + _KEY
_LENGTH_16_END = const(65536)    # lengths below this fit the 16-bit form

# Without max_message, a buffer grows as data arrives, doubling from this size, instead of
# allocating whatever length a peer announces.
_STEP = const(65536)

scan = None
if MICROPYTHON:
    try:  # the viper bodies straight away: camdot.websocket.mask and .utf8 cost RAM to import
        from camdot.websocket._viper import mask_range, scan
    except Exception:
        pass
if scan is None:
    from camdot.websocket.mask import mask_range
    from camdot.websocket.utf8 import scan


class ProtocolError(Exception):
    """The peer broke the protocol: fail the connection with .code (1002, 1007 or 1009)."""

    def __init__(self, message, code=CLOSE_PROTOCOL_ERROR):
        super().__init__(message)
        self.code = code


def valid_close_code(code):
    """True for a close code a peer may send (RFC 6455 7.4.1, IANA 1012-1014, 3000-4999)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def header(opcode, length, fin=True, mask=None):
    """Frame header for a payload of `length` bytes (minimal length form, mask key appended)."""
    b0 = opcode | _FIN if fin else opcode
    m = _MASKED if mask else 0
    if length < _LENGTH_16:
        h = bytes((b0, m | length))
    elif length < _LENGTH_16_END:
        h = pack('!BBH', b0, m | _LENGTH_16, length)    # (one allocation)
    else:
        h = pack('!BBQ', b0, m | _LENGTH_64, length)
    return h + mask if mask else h


def close_payload(code=CLOSE_NORMAL, reason=''):
    """Close frame payload (code None: empty). ValueError for a code or reason that can't be sent."""
    if code is None:
        return b''
    reason = reason.encode() if isinstance(reason, str) else bytes(reason)
    if not valid_close_code(code) or len(reason) > _MAX_CLOSE_REASON:
        raise ValueError('bad close code or reason')
    return code.to_bytes(2, 'big') + reason


class Parser:
    """Incremental frame parser for the incoming direction of one connection.

    It reads a header into `_h`, then the frame's payload straight into its destination: the
    message buffer for a data frame, a buffer of its own for a control frame. The steps:
    _header_bytes (checks the first two bytes) -> _start_frame (header complete) ->
    _payload_bytes (unmask, UTF-8 check; _grow for room) -> _end_frame (message complete) -> emit.
    (A method call costs ~2,000 machine instructions on MicroPython: the steps are per frame,
    not smaller.)
    (Fields are read into locals once: on MicroPython an attribute costs ten times a local.)
    """

    def __init__(self, client=False, max_message=0):
        self.client = bool(client)   # client role: frames from the server arrive unmasked
        self.max_message = max_message
        self.error = None    # the ProtocolError that killed this parser
        self.events = []     # completed (opcode, payload) events, oldest first: see next()
        # The header being read.
        self._h = bytearray(_MAX_HEADER)
        self._hn = 0         # header bytes received
        self._need = 2       # header bytes needed (2 until the length form is known)
        # The frame whose payload is being read (set by _start_frame).
        self._left = -1      # payload bytes due; -1 while a header is being read
        # The message being assembled, over one frame or several.
        self._mop = 0        # its opcode (0: none in progress)
        self._msg = None     # its buffer (may have room beyond _mlen)
        self._mlen = 0       # its bytes in finished frames
        self._u = 0          # UTF-8 state of a text message (camdot.websocket.utf8)

    def next(self):
        """The next event (opcode, payload) or None. Events completed before an error are kept."""
        return self.events.pop(0) if self.events else None

    def emit(self, opcode, payload):
        """A frame or message is complete: queue it as an event (a subclass may act on it)."""
        self.events.append((opcode, payload))

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

    def violation(self, exc):
        """The peer broke the protocol (`exc`, a ProtocolError): raise it. A subclass may act on
        it instead. The parser stays dead: anything fed to it after comes here again."""
        raise exc

    def commit(self, n):
        """n bytes were written at the start of buffer(): parse them."""
        if self.error:
            return self.violation(self.error)
        try:
            if self._left < 0:
                self._header_bytes(n)
            else:
                self._payload_bytes(n)
        except ProtocolError as exc:
            self.error = exc
            self.violation(exc)

    def feed(self, data):
        """Parse bytes (bytes/bytearray/memoryview, any chunking); raises ProtocolError."""
        if self.error:
            return self.violation(self.error)
        mv = memoryview(data)
        i = 0
        n = len(mv)
        try:
            while i < n:
                k = n - i        # (conditions rather than min(): a builtin costs two lookups)
                left = self._left
                if left < 0:
                    hn = self._hn
                    if hn == 0 and k > 1:
                        k = self._small_message(mv, i, n)
                        if k:
                            i += k
                            continue
                        k = n - i
                        # A header starts here: take all of it that is here at once.
                        size = _header_size(mv[i + 1], self.client)
                    else:
                        size = self._need - hn
                    if k > size:
                        k = size
                    self._h[hn:hn + k] = mv[i:i + k]
                    i += k
                    self._header_bytes(k)
                else:
                    # Straight into the frame's destination, within its room (_grow makes more).
                    dst = self._dst
                    p = self._pos
                    if k > left:
                        k = left
                    if k > len(dst) - p:
                        k = len(dst) - p
                    dst[p:p + k] = mv[i:i + k]
                    i += k
                    self._payload_bytes(k)
        except ProtocolError as exc:
            self.error = exc
            self.violation(exc)

    def _small_message(self, mv, i, n):
        # The common case in one go: a whole text or binary message in one frame with a 7-bit
        # length, all of it in mv[i:n], its first byte FIN and the opcode (no reserved bit), its
        # masking the role's, and no fragmented message in progress. Returns the bytes it took,
        # or 0: any other frame, and any that breaks a rule, goes through the steps, which check
        # it (only the frames that pass every check are taken here). It skips the steps' state:
        # half the cost of a 16 B message.
        b0 = mv[i]
        if b0 != _FIN | OP_TEXT and b0 != _FIN | OP_BINARY or self._mop:
            return 0
        b1 = mv[i + 1]
        length = b1 & _LENGTH
        masked = b1 >= _MASKED
        if masked == self.client or length >= _LENGTH_16:
            return 0
        start = i + _BASE + _KEY if masked else i + _BASE
        end = start + length
        if end > n or 0 < self.max_message < length:
            return 0
        msg = bytearray(mv[start:end])
        if masked:
            mask_range(msg, 0, length, mv[start - _KEY:start], 0)
        op = b0 & _OPCODE
        if op == OP_TEXT:
            if scan(msg, 0, length, 0):
                return 0             # invalid UTF-8: the steps fail the connection for it
            msg = str(msg, 'utf-8')
        self.emit(op, msg)
        return end - i

    # ---- the steps of a frame ----

    def _header_bytes(self, n):
        # n more header bytes are in _h. Everything but the extended length and the mask key
        # can be checked on the first two (RFC 6455 5.2, 5.4, 5.5), which also say how many
        # more bytes the header has.
        hn = self._hn = self._hn + n
        need = self._need
        if need == 2 and hn >= 2:
            b0 = self._h[0]
            b1 = self._h[1]
            op = b0 & _OPCODE
            if b0 & _RSV:
                raise ProtocolError('reserved bits set')
            if OP_BINARY < op < OP_CLOSE or op > OP_PONG:
                raise ProtocolError('unknown opcode')
            if (b1 & _MASKED != 0) == self.client:
                raise ProtocolError('bad masking')
            if op >= OP_CLOSE:
                if b1 & _LENGTH > _MAX_CONTROL or not b0 & _FIN:
                    raise ProtocolError('bad control frame')
            elif (op == OP_CONT) != (self._mop != 0):
                raise ProtocolError('bad continuation')
            need = self._need = _header_size(b1, self.client)
        if hn == need:
            self._start_frame()

    def _start_frame(self):
        # The header is complete: decode the length and choose where the payload goes.
        h = self._h
        need = self._need
        b0 = h[0]
        op = b0 & _OPCODE
        length = h[1] & _LENGTH
        if length == _LENGTH_16:
            length = h[2] << 8 | h[3]
        elif length == _LENGTH_64:
            if h[2] >= 0x80:         # (the top bit of a 64-bit length must be 0)
                raise ProtocolError('bad length')
            length = int.from_bytes(h[2:10], 'big')
        if op >= OP_CLOSE:           # a control frame: a buffer of its own (it may come mid-message)
            dst = self._dst = bytearray(length)
            pos = 0
        else:
            # (a message in fragments grows by doubling: see _grow)
            self._frag = b0 < _FIN or op == OP_CONT
            if op != OP_CONT:        # the first frame of a message
                self._mop = op
                self._msg = b''
                self._mlen = 0
                self._u = 0
            else:
                op = self._mop
            pos = self._mlen
            if 0 < self.max_message < pos + length:
                raise ProtocolError('message too big', CLOSE_TOO_BIG)  # from the header alone
            dst = self._dst = self._msg
        self._op = op                # (for a data frame, its message's opcode)
        self._pos = pos
        self._key = None if self.client else h[need - _KEY:need]
        self._fin = b0 >= _FIN
        self._phase = 0              # payload bytes of this frame so far (the mask's phase)
        self._hn = 0
        self._need = 2
        self._left = length
        if not length:
            self._end_frame(op, pos)
        elif pos == len(dst):
            self._grow(pos, length)

    def _payload_bytes(self, n):
        # n more payload bytes are at _dst[_pos:]: unmask and check them.
        dst = self._dst
        p = self._pos
        end = p + n
        key = self._key
        if key:
            mask_range(dst, p, end, key, self._phase)
            self._phase += n
        op = self._op
        if op == OP_TEXT:
            u = self._u = scan(dst, p, end, self._u)
            if u < 0:
                raise ProtocolError('invalid UTF-8', CLOSE_INVALID_DATA)   # as soon as seen
        left = self._left = self._left - n
        self._pos = end
        if not left:
            self._end_frame(op, end)
        elif end == len(dst):
            self._grow(end, left)

    def _grow(self, p, left):
        # Room in the message buffer, now full at p, for (some of) the `left` bytes still due.
        # A fragmented message grows by doubling, so a stream of tiny fragments costs linear time.
        need = p + left
        if self._frag:
            need = max(need, p + p)
        need = min(need, self.max_message or p + max(p, _STEP))
        try:
            msg = bytearray(need)
        except (MemoryError, OverflowError):
            raise ProtocolError('message too big', CLOSE_TOO_BIG)
        # A new buffer rather than extend(): CPython can't resize a buffer that a memoryview
        # from buffer() may still export.
        msg[:p] = self._dst
        self._msg = self._dst = msg

    def _end_frame(self, op, end):
        # The frame is complete (`end`: where its payload ends): a control frame is an event; a
        # data frame may end its message.
        self._left = -1
        payload = self._dst
        self._dst = None
        if op == OP_CLOSE:
            self.emit(op, _close_event(bytes(payload)))
            return
        if op > OP_CLOSE:
            self.emit(op, bytes(payload))
            return
        self._mlen = end
        if not self._fin:
            return                   # more fragments to come
        msg = self._msg or bytearray()
        if len(msg) > end:           # the room left over by doubling
            if MICROPYTHON:
                msg[end:] = b''      # shrinks in place
            else:
                msg = msg[:end]
        self._msg = None
        self._mop = 0
        if op == OP_TEXT:
            if self._u:
                raise ProtocolError('invalid UTF-8', CLOSE_INVALID_DATA)  # a character cut short
            msg = str(msg, 'utf-8')
        self.emit(op, msg)


def _header_size(b1, client):
    # A header's size from its second byte `b1`: the extended length and the mask key it has.
    n = b1 & _LENGTH
    return _BASE + (0 if n < _LENGTH_16 else 2 if n == _LENGTH_16 else 8) + (0 if client else _KEY)


def _close_event(payload):
    # A close frame's payload (RFC 6455 5.5.1, 7.4): (code or None, reason).
    n = len(payload)
    if not n:
        return None, ''
    code = payload[0] << 8 | payload[1] if n > 1 else 0
    if not valid_close_code(code):
        raise ProtocolError('bad close code')
    if scan(payload, 2, n, 0):
        raise ProtocolError('invalid UTF-8', CLOSE_INVALID_DATA)
    return code, str(payload[2:], 'utf-8')
