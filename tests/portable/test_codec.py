"""camdot.websocket.codec: events out of byte streams in every chunking, and every violation's close code."""
import struct

from camdot.compat import MICROPYTHON
from camdot.websocket.codec import Parser, ProtocolError, header, close_payload, \
    OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG
from camdot.websocket.mask import apply_mask
from harness import Allocated, raises
from codec_helpers import KEY, raw, run, run_into

EURO = '\u20ac'.encode('utf-8')  # e2 82 ac


def check_all_chunkings(stream, want_events, want_code=None, **kw):
    """Same events and code for one chunk, 1..7-byte chunks, odd cycles and the buffer() API."""
    for sizes in (None, 1, 2, 3, 7, [1, 5, 2], [13, 1], 1000):
        got = run(stream, sizes, **kw)
        assert got == (want_events, want_code), (sizes, got)
    for sizes in ([1], [3, 1], [100000]):
        got = run_into(stream, sizes, **kw)
        assert got == (want_events, want_code), ('into', sizes, got)


def check_every_split(stream, want_events, want_code=None, **kw):
    for cut in range(1, len(stream)):
        got = run(stream, [cut, len(stream)], **kw)
        assert got == (want_events, want_code), (cut, got)


# ---- valid streams ----

def test_text_and_binary_messages():
    stream = raw(OP_TEXT, 'h\u00e9llo ' + EURO.decode('utf-8')) + raw(OP_BINARY, b'\x00\xff\x10')
    want = [(OP_TEXT, 'h\u00e9llo \u20ac'), (OP_BINARY, b'\x00\xff\x10')]
    check_all_chunkings(stream, want)
    check_every_split(stream, want)


def test_payload_types():
    p = Parser()
    p.feed(raw(OP_TEXT, 'a') + raw(OP_BINARY, b'b') + raw(OP_PING, b'c') + raw(OP_PONG, b'd'))
    op, text = p.next()
    assert op == OP_TEXT and isinstance(text, str)
    op, data = p.next()
    assert op == OP_BINARY and isinstance(data, bytearray) and data == b'b'
    assert p.next() == (OP_PING, b'c')
    assert p.next() == (OP_PONG, b'd')
    assert p.next() is None
    p.feed(raw(OP_BINARY, b'') + raw(OP_BINARY, b'', fin=False) + raw(OP_CONT, b''))
    for _ in range(2):
        op, data = p.next()
        assert op == OP_BINARY and isinstance(data, bytearray) and data == b''


def test_events_is_the_queue_next_pops():
    p = Parser()
    assert p.events == []
    p.feed(raw(OP_TEXT, 'x') + raw(OP_PING, b'y'))
    assert p.events == [(OP_TEXT, 'x'), (OP_PING, b'y')]
    assert p.next() == (OP_TEXT, 'x') and p.events == [(OP_PING, b'y')]
    assert p.events.pop(0) == (OP_PING, b'y') and p.next() is None


def test_many_frames_in_one_chunk():
    stream = b''.join(raw(OP_BINARY, bytes([i]) * i) for i in range(40))
    events, code = run(stream)
    assert code is None
    assert events == [(OP_BINARY, bytes([i]) * i) for i in range(40)]


def test_empty_messages_are_events():
    stream = raw(OP_TEXT, b'') + raw(OP_BINARY, b'') + raw(OP_PING) + raw(OP_CLOSE)
    want = [(OP_TEXT, ''), (OP_BINARY, b''), (OP_PING, b''), (OP_CLOSE, (None, ''))]
    check_all_chunkings(stream, want)
    # Empty fragments too.
    stream = raw(OP_TEXT, b'', fin=False) + raw(OP_CONT, b'', fin=False) + raw(OP_CONT, b'')
    check_all_chunkings(stream, [(OP_TEXT, '')])


def test_fragmented_with_interleaved_control_frames():
    stream = (raw(OP_TEXT, 'frag', fin=False) + raw(OP_PING, b'p1') +
              raw(OP_CONT, 'men', fin=False) + raw(OP_PONG, b'') + raw(OP_PING, b'p2') +
              raw(OP_CONT, 'ted') + raw(OP_BINARY, b'x', fin=False) + raw(OP_CLOSE, close_payload(1000)) +
              raw(OP_CONT, b'yz'))
    want = [(OP_PING, b'p1'), (OP_PONG, b''), (OP_PING, b'p2'), (OP_TEXT, 'fragmented'),
            (OP_CLOSE, (1000, '')), (OP_BINARY, b'xyz')]
    check_all_chunkings(stream, want)
    check_every_split(stream, want)


def test_utf8_character_split_across_fragments():
    text = 'a' + '\U0001f600' + '\u20ac'
    data = text.encode('utf-8')
    for cut in range(len(data) + 1):
        stream = raw(OP_TEXT, data[:cut], fin=False) + raw(OP_PING, b'') + raw(OP_CONT, data[cut:])
        check_all_chunkings(stream, [(OP_PING, b''), (OP_TEXT, text)])


def test_16_and_64_bit_lengths():
    for n in (125, 126, 127, 1000, 4001):
        payload = (bytes(range(251)) * (n // 251 + 1))[:n]
        stream = raw(OP_BINARY, payload)
        assert stream[1] & 0x7F == (n if n < 126 else 126)
        events, code = run(stream, [4093, 1, 2])
        assert code is None and events == [(OP_BINARY, payload)], n
        stream = events = None


def test_longest_16_bit_and_shortest_64_bit_lengths_streamed():
    # The stream is generated block by block so that only the parser's message buffer is big
    # (the small-heap run has room for little else).
    block = bytes(range(256)) * 4
    masked = raw(OP_BINARY, block)[-len(block):]  # the KEY phase restarts every 4 bytes
    for n, head in ((65535, struct.pack('!BBH', 0x82, 0xFE, 65535)),
                    (65536 + 8, struct.pack('!BBQ', 0x82, 0xFF, 65536 + 8))):
        p = Parser(max_message=n)
        p.feed(head + KEY)
        assert p.wanted() == n
        full = n - n % len(block)
        for i in range(0, full, len(block)):
            p.feed(masked[:7])
            p.feed(memoryview(masked)[7:])
        assert p.next() is None
        p.feed(masked[:n - full])
        op, data = p.next()
        assert op == OP_BINARY and len(data) == n
        for i in range(0, full, len(block)):
            assert data[i:i + len(block)] == block
        assert data[full:] == block[:n - full]
        data = p = None


def test_non_minimal_length_forms_are_accepted():
    stream = raw(OP_BINARY, b'abc', form=16) + raw(OP_TEXT, 'xyz', form=64) + raw(OP_PING, b'', form=7)
    check_all_chunkings(stream, [(OP_BINARY, b'abc'), (OP_TEXT, 'xyz'), (OP_PING, b'')])


def test_close_payloads():
    for code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
                 4000, 4999):
        events, err = run(raw(OP_CLOSE, struct.pack('!H', code) + 'r\u00e9ason'.encode('utf-8')))
        assert err is None and events == [(OP_CLOSE, (code, 'r\u00e9ason'))], code
    assert run(raw(OP_CLOSE, b'\x03\xe8'))[0] == [(OP_CLOSE, (1000, ''))]


def test_client_role_accepts_unmasked():
    stream = raw(OP_TEXT, 'hi', key=None) + raw(OP_BINARY, bytes(300), key=None)
    check_all_chunkings(stream, [(OP_TEXT, 'hi'), (OP_BINARY, bytes(300))], client=True)


def test_max_message_exact_limit_is_allowed_and_control_frames_do_not_count():
    stream = raw(OP_TEXT, 'abc', fin=False) + raw(OP_PING, b'x' * 100) + raw(OP_CONT, 'de')
    check_all_chunkings(stream, [(OP_PING, b'x' * 100), (OP_TEXT, 'abcde')], max_message=5)


# ---- violations ----

def test_reserved_bits_1002():
    for rsv in range(1, 8):
        check_every_split(raw(OP_TEXT, 'ok') + raw(OP_TEXT, 'x', rsv=rsv), [(OP_TEXT, 'ok')], 1002)


def test_unknown_opcodes_1002():
    for op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
        check_all_chunkings(raw(OP_BINARY, b'ok') + raw(op, b'x') + raw(OP_PING), [(OP_BINARY, b'ok')], 1002)


def test_unmasked_frame_to_server_and_masked_to_client_1002():
    check_all_chunkings(raw(OP_TEXT, 'x', key=None), [], 1002)
    check_all_chunkings(raw(OP_TEXT, 'x'), [], 1002, client=True)


def test_control_frame_rules_1002():
    check_all_chunkings(raw(OP_PING, b'x' * 126), [], 1002)
    check_all_chunkings(raw(OP_PING, b'x' * 125), [(OP_PING, b'x' * 125)])
    check_all_chunkings(raw(OP_PONG, b'x' * 2, form=16, length=126), [], 1002)
    for op in (OP_CLOSE, OP_PING, OP_PONG):
        check_all_chunkings(raw(op, b'', fin=False), [], 1002)


def test_continuation_sequencing_1002():
    check_all_chunkings(raw(OP_CONT, b'x'), [], 1002)
    check_all_chunkings(raw(OP_TEXT, 'a') + raw(OP_CONT, 'b'), [(OP_TEXT, 'a')], 1002)
    check_all_chunkings(raw(OP_TEXT, 'a', fin=False) + raw(OP_TEXT, 'b'), [], 1002)
    check_all_chunkings(raw(OP_BINARY, b'a', fin=False) + raw(OP_PING) + raw(OP_BINARY, b'b'),
                        [(OP_PING, b'')], 1002)


def test_64_bit_length_top_bit_1002():
    stream = raw(OP_BINARY, b'', form=64, length=1 << 63)
    check_all_chunkings(stream, [], 1002)
    check_all_chunkings(stream, [], 1002, max_message=10)


def test_close_payload_violations():
    check_all_chunkings(raw(OP_CLOSE, b'\x03'), [], 1002)
    for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535):
        check_all_chunkings(raw(OP_CLOSE, struct.pack('!H', code)), [], 1002)
    check_all_chunkings(raw(OP_CLOSE, b'\x03\xe8' + b'ok\xff'), [], 1007)
    check_all_chunkings(raw(OP_CLOSE, b'\x03\xe8\xe2\x82'), [], 1007)


def test_invalid_utf8_1007():
    for bad in (b'\xff', b'\xc0\x80', b'\xe0\x80\x80', b'\xed\xa0\x80', b'\xf4\x90\x80\x80',
                b'\xf5\x80\x80\x80', b'\x80', b'a\xe2\x82', b'\xe2\x28\xa1'):
        check_all_chunkings(raw(OP_TEXT, 'ok') + raw(OP_TEXT, bad), [(OP_TEXT, 'ok')], 1007)
        check_all_chunkings(raw(OP_TEXT, bad[:1], fin=False) + raw(OP_CONT, bad[1:]), [], 1007)
    # Binary is not checked.
    check_all_chunkings(raw(OP_BINARY, b'\xff\xed\xa0\x80'), [(OP_BINARY, b'\xff\xed\xa0\x80')])


def test_invalid_utf8_fails_fast_before_the_frame_completes():
    for bad, good in ((b'\xff', 0), (b'\xed\xa0', 1), (b'\xf4\x90', 1), (b'\xe0\x9f', 1), (b'\xce\xba\xf5', 2)):
        stream = raw(OP_TEXT, b'abc' + bad + b'more text follows')
        head = len(stream) - len(b'more text follows')
        p = Parser()
        p.feed(stream[:head - 1])  # everything up to the bad byte
        exc = raises(ProtocolError, p.feed, stream[head - 1:head])
        assert exc.code == 1007, bad
    # Across fragments: the first fragment opens a character the second can't continue.
    p = Parser()
    p.feed(raw(OP_TEXT, b'\xf4', fin=False))
    second = raw(OP_CONT, b'\x90\x80\x80 and more')
    p.feed(second[:6])  # header and key
    assert raises(ProtocolError, p.feed, second[6:7]).code == 1007


def test_truncated_utf8_at_message_end_1007():
    check_all_chunkings(raw(OP_TEXT, b'ab\xf0\x9f\x98', fin=False) + raw(OP_CONT, b''), [], 1007)


def test_max_message_1009_from_the_header_alone():
    p = Parser(max_message=1000)
    exc = raises(ProtocolError, p.feed, raw(OP_BINARY, b'', form=64, length=1 << 40))
    assert exc.code == 1009
    p = Parser(max_message=1000)
    p.feed(raw(OP_BINARY, bytes(1000)))
    assert len(p.next()[1]) == 1000
    exc = raises(ProtocolError, p.feed, raw(OP_TEXT, b'', length=1001))
    assert exc.code == 1009
    # The sum of fragments so far plus the announced fragment.
    stream = raw(OP_TEXT, 'a' * 600, fin=False) + raw(OP_PING) + raw(OP_CONT, 'b' * 401)
    check_all_chunkings(stream, [(OP_PING, b'')], 1009, max_message=1000)


def test_dead_after_error_and_earlier_events_kept():
    stream = raw(OP_TEXT, 'one') + raw(OP_BINARY, b'two') + raw(OP_TEXT, 'x', rsv=4)
    p = Parser()
    exc = raises(ProtocolError, p.feed, stream)
    assert exc.code == 1002 and p.error is exc
    assert p.next() == (OP_TEXT, 'one')
    assert bytes(p.next()[1]) == b'two'
    assert p.next() is None
    assert raises(ProtocolError, p.feed, raw(OP_TEXT, 'ok')) is exc
    assert raises(ProtocolError, p.feed, b'') is exc
    assert raises(ProtocolError, p.buffer) is exc
    assert raises(ProtocolError, p.commit, 1) is exc
    assert p.wanted() == 0


# ---- the zero-copy read API ----

def test_wanted_never_crosses_a_frame_boundary():
    stream = raw(OP_TEXT, 'hello') + raw(OP_BINARY, bytes(200)) + raw(OP_PING, b'p') + raw(OP_BINARY, bytes(300), form=64)
    p = Parser()
    i = 0
    events = []
    while i < len(stream):
        n = p.wanted()
        p.feed(stream[i:i + n])
        i += n
        ev = p.next()
        if ev:
            events.append(ev[0])
            assert p.wanted() == 2  # a new header: nothing of the next frame was read
    assert events == [OP_TEXT, OP_BINARY, OP_PING, OP_BINARY]


def test_buffer_is_the_message_storage():
    p = Parser(max_message=100000)
    stream = raw(OP_BINARY, bytes(range(256)) * 40)
    head = 2 + 2 + 4
    p.feed(stream[:head])
    buf = p.buffer()
    assert len(buf) == p.wanted() == 10240
    buf[:] = stream[head:]
    p.commit(len(buf))
    op, data = p.next()
    assert op == OP_BINARY and data == bytes(range(256)) * 40


def test_a_big_masked_message_costs_its_buffer_and_little_more():
    # 32 KiB (room in the 256K-heap run), masked, read as the socket layer reads it: unmasked in
    # place, in big steps (no per-byte loop, whose garbage would be megabytes), into one buffer
    # of the announced size.
    payload = bytes(range(256)) * 128
    stream = memoryview(raw(OP_BINARY, payload))
    p = Parser(max_message=1 << 20)

    def parse():
        i = 0
        while i < len(stream):
            buf = p.buffer()
            n = min(len(buf), 4096, len(stream) - i)
            buf[:n] = stream[i:i + n]
            p.commit(n)
            i += n
    with Allocated() as a:
        parse()
    assert p.next() == (OP_BINARY, payload)
    assert a.bytes < 32768 + (4096 if MICROPYTHON else 24576), a.bytes


# ---- building ----

def test_header_minimal_forms():
    assert header(OP_TEXT, 0) == b'\x81\x00'
    assert header(OP_BINARY, 125) == b'\x82\x7d'
    assert header(OP_BINARY, 126) == b'\x82\x7e\x00\x7e'
    assert header(OP_BINARY, 65535) == b'\x82\x7e\xff\xff'
    assert header(OP_BINARY, 65536) == b'\x82\x7f' + struct.pack('!Q', 65536)
    assert header(OP_TEXT, 3, fin=False) == b'\x01\x03'
    assert header(OP_CONT, 3, mask=KEY) == b'\x80\x83' + KEY
    assert header(OP_CLOSE, 300, mask=KEY) == b'\x88\xfe\x01\x2c' + KEY


def test_header_and_apply_mask_build_what_the_parser_reads():
    for client in (False, True):
        key = None if client else KEY
        stream = b''
        for op, payload in ((OP_TEXT, 'h\u00e9'.encode('utf-8')), (OP_BINARY, bytes(300)), (OP_PING, b'p')):
            data = bytearray(payload)
            if key:
                apply_mask(data, key)
            stream += header(op, len(data), mask=key) + data
        assert run(stream, 1, client=client) == (
            [(OP_TEXT, 'h\u00e9'), (OP_BINARY, bytes(300)), (OP_PING, b'p')], None)


def test_close_payload_builder():
    assert close_payload() == b'\x03\xe8'
    assert close_payload(4000, 'bye') == b'\x0f\xa0bye'
    assert close_payload(None) == b''
    assert close_payload(1001, 'x' * 123)[2:] == b'x' * 123
    for code in (0, 999, 1004, 1005, 1006, 1015, 2000, 2999, 5000):
        raises(ValueError, close_payload, code)
    raises(ValueError, close_payload, 1000, 'x' * 124)
    raises(ValueError, close_payload, 1000, '\u20ac' * 42)


def fragmented(op, data):
    """data in 1-byte fragments (an empty last one), built in place to spare the small heap."""
    stream = bytearray(raw(op, data[:1], fin=False))
    for i in range(1, len(data)):
        stream += raw(OP_CONT, data[i:i + 1], fin=False)
    return stream + raw(OP_CONT, b'')


def test_many_tiny_fragments():
    # Over a thousand 1-byte fragments (the message buffer grows by doubling, then is trimmed).
    data = bytes(range(256)) * 5
    stream = fragmented(OP_BINARY, data)
    for mm in (0, len(data)):
        events, code = run(stream, 4096, max_message=mm)
        assert code is None and events == [(OP_BINARY, data)]
        assert len(events[0][1]) == len(data)
    assert run(stream, 4096, max_message=len(data) - 1)[1] == 1009
    text = '\u20ac' * 300
    assert run(fragmented(OP_TEXT, text.encode('utf-8')), 999) == ([(OP_TEXT, text)], None)


def test_events_do_not_alias_the_fed_buffer():
    # The I/O layer reuses one read buffer: what the parser keeps must be its own copy.
    stream = raw(OP_TEXT, 'one', fin=False) + raw(OP_PING, b'ping') + raw(OP_CONT, 'two') + raw(OP_BINARY, b'bin')
    p = Parser()
    buf = bytearray(5)
    events = []
    for i in range(0, len(stream), 5):
        chunk = stream[i:i + 5]
        buf[:len(chunk)] = chunk
        p.feed(memoryview(buf)[:len(chunk)])
        buf[:] = b'\xee' * 5
        ev = p.next()
        while ev:
            events.append(ev)
            ev = p.next()
    assert events == [(OP_PING, b'ping'), (OP_TEXT, 'onetwo'), (OP_BINARY, bytearray(b'bin'))]


def test_binary_payload_is_a_fresh_buffer_per_message():
    p = Parser()
    p.feed(raw(OP_BINARY, b'first') + raw(OP_BINARY, b'second'))
    a = p.next()[1]
    b = p.next()[1]
    a[0] = 0
    assert b == b'second' and a == b'\x00irst'


def test_small_whole_messages_read_in_one_go_match_the_steps():
    # A whole small message in one chunk is read in one go (Parser._small_message), byte by
    # byte it goes through the steps: the same events and the same close code either way, at
    # the edges of what the one-go path takes.
    bad_utf8 = b'ok \xed\xa0\x80'
    cases = [
        (raw(OP_TEXT, 'x' * 125), {}, [(OP_TEXT, 'x' * 125)], None),
        (raw(OP_BINARY, b''), {}, [(OP_BINARY, b'')], None),
        (raw(OP_TEXT, ''), {}, [(OP_TEXT, '')], None),
        (raw(OP_BINARY, b'abc', key=None), {'client': True}, [(OP_BINARY, b'abc')], None),
        (raw(OP_BINARY, b'abc'), {'client': True}, [], 1002),                # masked to a client
        (raw(OP_BINARY, b'abc', key=None), {}, [], 1002),                    # unmasked to a server
        (raw(OP_TEXT, bad_utf8), {}, [], 1007),
        (raw(OP_TEXT, 'h\u00e9', rsv=4), {}, [], 1002),
        (raw(OP_BINARY, b'12345'), {'max_message': 5}, [(OP_BINARY, b'12345')], None),
        (raw(OP_BINARY, b'123456'), {'max_message': 5}, [], 1009),
        (raw(OP_TEXT, 'a', fin=False) + raw(OP_TEXT, 'b'), {}, [], 1002),   # not a continuation
        (raw(OP_TEXT, 'a', fin=False) + raw(OP_CONT, 'b'), {}, [(OP_TEXT, 'ab')], None),
    ]
    for stream, kw, events, code in cases:
        assert run(stream, None, **kw) == (events, code), (stream, kw)
        assert run(stream, 1, **kw) == (events, code), (stream, kw)
