"""camdot.websocket.protocol, sans-IO: bytes in; messages and the frames the rules answer, out.
(No sockets, no tasks: every rule is checked on byte strings, on both runtimes.)"""
import struct

from camdot.websocket.codec import (OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, Parser,
                                    header)
from camdot.websocket.protocol import ClientProtocol, Protocol
from codec_helpers import raw
from harness import raises


def close(code=None, reason=b''):
    return raw(OP_CLOSE, b'' if code is None else struct.pack('!H', code) + reason)


def sent(p):
    """What the protocol wants to send, as (opcode, payload) frames (read as a client would)."""
    reader = Parser(client=not isinstance(p, ClientProtocol))
    for frame in p.data_to_send():
        reader.feed(frame)
    out = []
    while reader.events:
        op, payload = reader.events.pop(0)
        out.append((op, payload if op == OP_CLOSE else bytes(payload)))
    return out


def messages(p):
    out = []
    while True:
        ev = p.next_message()
        if ev is None:
            return out
        out.append((ev[0], bytes(ev[1]) if ev[0] == OP_BINARY else ev[1]))


def test_messages_come_out_in_order_and_nothing_is_sent():
    p = Protocol()
    p.receive_data(raw(OP_TEXT, 'hi') + raw(OP_BINARY, b'\x00\x01'))
    assert messages(p) == [(OP_TEXT, 'hi'), (OP_BINARY, b'\x00\x01')]
    assert p.data_to_send() == () and not p.close_sent and p.reading()


def test_a_ping_is_answered_with_its_payload_and_a_pong_is_counted():
    p = Protocol()
    p.receive_data(raw(OP_PING, b'are you there') + raw(OP_PONG, b'x') + raw(OP_PONG))
    assert sent(p) == [(OP_PONG, b'are you there')]
    assert p.pongs == 2 and messages(p) == []
    assert p.data_to_send() == ()                   # each frame handed out once


def test_a_close_is_echoed_with_its_code_and_ends_what_counts():
    p = Protocol()
    p.receive_data(raw(OP_TEXT, 'last') + close(4001, b'bye') + raw(OP_TEXT, 'after') +
                   raw(OP_PING, b'late'))
    assert sent(p) == [(OP_CLOSE, (4001, ''))]      # the code echoed (not the reason)
    assert p.close_received and p.close_code == 4001 and p.close_reason == 'bye'
    assert messages(p) == [(OP_TEXT, 'last')]       # what came before the close still counts
    assert not p.reading()
    p.receive_data(b'\xff\xff garbage after the close')
    assert sent(p) == [] and not p.failed and p.close_code == 4001


def test_a_close_without_a_code_is_1005_and_echoed_empty():
    p = Protocol()
    p.receive_data(close())
    assert sent(p) == [(OP_CLOSE, (None, ''))] and p.close_code == 1005


def test_our_close_then_the_peers():
    p = Protocol()
    p.receive_data(raw(OP_TEXT, 'unread'))
    p.send_close(4002, 'done')
    assert sent(p) == [(OP_CLOSE, (4002, 'done'))] and p.close_sent
    assert messages(p) == []                         # the connection is ending: dropped
    p.receive_data(raw(OP_TEXT, 'in flight') + raw(OP_PING) + close(4002))
    assert sent(p) == []                             # no pong and no echo after our close
    assert messages(p) == [] and p.close_code == 4002
    raises(ValueError, Protocol().send_close, 1005)  # codes that can't be sent
    raises(ValueError, Protocol().send_close, 1000, 'x' * 124)


def test_a_peer_that_never_answers_leaves_our_code_and_a_lost_one_1006():
    p = Protocol()
    p.send_close(4003)
    p.connection_closed()
    assert p.close_code == 4003
    p = Protocol()
    p.receive_eof()
    p.connection_closed()
    assert p.close_code == 1006


def test_a_violation_fails_the_connection_with_its_code():
    for stream, code in ((raw(OP_TEXT, 'x', key=None), 1002),            # unmasked
                         (raw(OP_TEXT, b'\xc3\x28'), 1007),              # not UTF-8
                         (raw(OP_BINARY, bytes(11)), 1009),              # over the limit
                         (close(1004), 1002)):                           # a reserved code
        p = Protocol(max_message=10)
        p.receive_data(stream)
        assert p.failed and p.close_code == code, (stream, code)
        (frame,) = sent(p)
        assert frame[0] == OP_CLOSE and frame[1][0] == code
        p.receive_data(raw(OP_PING))                 # ignored from now on
        assert sent(p) == [] and messages(p) == []


def test_messages_before_a_violation_are_delivered_first():
    p = Protocol()
    p.receive_data(raw(OP_TEXT, 'ok') + raw(OP_PING, b'p') + raw(0x3))
    assert sent(p) == [(OP_PONG, b'p')]              # the ping before it is still answered
    assert not p.failed                              # ... and 'ok' waits to be taken
    assert p.next_message() == (OP_TEXT, 'ok')
    assert p.next_message() is None                  # now the violation fails the connection
    assert p.failed and sent(p) == [(OP_CLOSE, (1002, 'unknown opcode'))]


def test_the_server_sends_unmasked_frames_and_joins_small_payloads():
    p = Protocol()
    h, parts = p.frame(OP_BINARY, (b'ab', memoryview(b'cd')))
    assert h == b'\x82\x04abcd' and parts == ()
    big = bytearray(2000)
    h, parts = p.frame(OP_BINARY, (b'meta', big))
    assert h == header(OP_BINARY, 2004) and parts[1] is big     # never copied


def test_the_client_masks_every_frame_with_a_fresh_key():
    p = ClientProtocol()
    h1, (body1,) = p.frame(OP_TEXT, (b'hello',))
    h2, (body2,) = p.frame(OP_TEXT, (b'hello',))
    assert h1[1] == 0x85 and h1[2:6] != h2[2:6]      # the mask bit, and two keys
    server = Protocol()
    server.receive_data(h1 + body1 + h2 + body2)
    assert messages(server) == [(OP_TEXT, 'hello'), (OP_TEXT, 'hello')]
    p.receive_data(b'\x89\x01p')                      # an unmasked ping from the server
    frames = p.data_to_send()
    server.receive_data(frames[0])                   # the pong, masked
    assert server.pongs == 1
    p.receive_data(raw(OP_TEXT, 'masked by the server'))
    assert p.failed and p.close_code == 1002
