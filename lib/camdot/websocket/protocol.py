"""The RFC 6455 rules over the frame codec, sans-IO: bytes in; messages, and frames to send, out.

    p = Protocol(max_message=65536)       # the server side; ClientProtocol is the client's
    p.receive_data(data)                  # or p.buffer() / p.receive_into(n): no copy
    op, message = p.next_message()        # or None; (OP_TEXT, str) or (OP_BINARY, bytearray)
    for frame in p.data_to_send():        # what the rules answered: pongs, the close echo, ...
        writer.write(frame)
    header, parts = p.frame(OP_BINARY, (payload,))   # a message of ours, ready for the wire

The rules: a ping is answered with a pong carrying its payload (RFC 6455 5.5.2); a pong is counted
(`pongs`); a close frame is answered with a close frame echoing its code (5.5.1), and nothing of
ours follows a close frame; a frame that breaks the protocol fails the connection (7.1.7): a close
frame with the violation's code (1002, 1007, 1009), and whatever the peer sends after it is
ignored; the messages completed before the violation are still delivered first (the failure
takes effect once next_message() has handed them out). The I/O layer (camdot.websocket.connection) writes what data_to_send() gives, and ends
the TCP connection once `close_received` or `failed` says the exchange is over.
"""
import os

from camdot.compat import const
from camdot.websocket.codec import (CLOSE_ABNORMAL, CLOSE_NO_STATUS, OP_CLOSE, OP_PING, OP_PONG,
                                    Parser, close_payload, header, mask_range)

# Below this size a header and its payload go out as one joined write (one small copy is cheaper
# than a second write); above it the payload is written as it is, never copied.
_JOIN = const(1024)


class Protocol(Parser):
    """The server side of one connection: frames from the client must be masked, ours are not.

    State lives in class-level defaults until it changes (a smaller instance on MicroPython).
    """
    close_code = None     # the peer's close code (1005: its frame had none); ours if it never
    close_reason = ''     # answered; 1006: the connection ended without a close frame
    close_sent = False    # our close frame is out: nothing may follow it
    close_received = False
    failed = False        # we failed the connection: what the peer sends now is ignored
    closing = False       # any of those three: data messages no longer count
    pongs = 0             # pongs received so far (a keepalive waits for this to change)
    _sent_code = None     # the code in our close frame
    outgoing = None       # frames to send (a list of bytes, oldest first): see data_to_send()

    def __init__(self, max_message=0):
        Parser.__init__(self, False, max_message)

    # ---- incoming ----

    #: Bytes from the peer (bytes, bytearray or memoryview, any chunking).
    receive_data = Parser.feed
    #: The peer's next n bytes were read into buffer() (the codec's zero-copy read).
    receive_into = Parser.commit

    def reading(self):
        """True while what the peer sends still counts: not after its close frame, a
        violation, or our failing the connection."""
        return not (self.failed or self.close_received or self.error)

    def next_message(self):
        """The oldest message not yet taken, (opcode, payload), or None. When the messages
        before a violation are all taken, the violation fails the connection."""
        if self.events:
            return self.events.pop(0)
        if self.error is not None and not self.failed:
            self.fail(self.error.code, str(self.error))
        return None

    def receive_eof(self):
        """The peer closed the TCP connection (or it was lost): 1006 unless a close code is known."""
        if self.close_code is None:
            self.close_code = CLOSE_ABNORMAL

    def emit(self, opcode, payload):
        # The codec completed a message (data) or a frame (control): apply the rules.
        if opcode < OP_CLOSE:
            if not self.closing:     # (after a close frame either way, data in flight is dropped)
                self.events.append((opcode, payload))
        elif not (self.close_received or self.failed):   # (nothing counts after those)
            self._control(opcode, payload)

    def _control(self, opcode, payload):
        if opcode == OP_PING:
            if not self.close_sent:
                self._queue(OP_PONG, payload)
        elif opcode == OP_PONG:
            self.pongs += 1
        else:                        # OP_CLOSE
            code, self.close_reason = payload
            self.close_code = CLOSE_NO_STATUS if code is None else code
            self.close_received = self.closing = True
            if not self.close_sent:
                self._queue(OP_CLOSE, close_payload(code))    # the echo

    def violation(self, exc):
        # The codec found a violation (it stays dead: more data comes here again). The messages
        # completed before it still count: fail once they are taken (next_message), at once if
        # there are none.
        if not (self.events or self.failed or self.close_received):
            self.fail(exc.code, str(exc))

    # ---- outgoing ----

    def data_to_send(self):
        """The frames the rules produced since the last call (bytes each), oldest first."""
        out = self.outgoing
        if out is None:
            return ()
        self.outgoing = None
        return out

    def frame(self, opcode, parts):
        """(header, parts) carrying one message whose payload is the buffers in `parts`: write
        the header, then each part. Server side: the parts themselves (never copied); a small
        payload comes joined to its header. A close frame marks close_sent."""
        n = 0
        for p in parts:
            n += len(p)
        h = header(opcode, n)
        if n < _JOIN:
            for p in parts:
                h += p
            parts = ()
        if opcode == OP_CLOSE:
            self.close_sent = self.closing = True
        return h, parts

    def send_close(self, code=1000, reason=''):
        """Queue our close frame (ValueError for a code or reason that can't be sent). Messages
        received and not yet taken from `events` are dropped: the connection is ending."""
        payload = close_payload(code, reason)
        if not self.close_sent:
            self._sent_code = code
            self._queue(OP_CLOSE, payload)
        self.events.clear()
        if self.error is not None:       # a violation waited for those messages: it fails now
            self.failed = self.closing = True

    def fail(self, code, reason=''):
        """Fail the connection (RFC 6455 7.1.7): a close frame with `code` unless ours went out
        already, and whatever the peer sends from now on is ignored."""
        if self.close_code is None:
            self.close_code = code
        if not self.close_sent:
            self._queue(OP_CLOSE, close_payload(code, reason[:100]))
        self.failed = self.closing = True

    def connection_closed(self):
        """The connection is over. A peer that never answered our close frame leaves our code
        as close_code; without any close frame it is 1006."""
        if self.close_code is None:
            self.close_code = self._sent_code or CLOSE_ABNORMAL

    def _queue(self, opcode, payload):
        h, parts = self.frame(opcode, (payload,))
        for p in parts:
            h += p
        if self.outgoing is None:
            self.outgoing = []
        self.outgoing.append(h)


class ClientProtocol(Protocol):
    """The client side: frames from the server arrive unmasked; ours are masked with a fresh
    random key each (RFC 6455 5.3), which costs a masked copy of the payload."""

    def __init__(self, max_message=0):
        Parser.__init__(self, True, max_message)

    def frame(self, opcode, parts):
        n = 0
        for p in parts:
            n += len(p)
        key = os.urandom(4)
        buf = bytearray(n)
        i = 0
        for p in parts:
            buf[i:i + len(p)] = p
            i += len(p)
        mask_range(buf, 0, n, key, 0)
        if opcode == OP_CLOSE:
            self.close_sent = self.closing = True
        return header(opcode, n, mask=key), (buf,)
