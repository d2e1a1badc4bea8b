"""camdot.websocket.mask: every body (viper on MicroPython, CPython fast path, portable fallback) against a
byte-by-byte reference, with odd offsets, odd lengths and unaligned memoryview slices."""
import sys

import camdot.websocket.mask as mask
from camdot.websocket.mask import apply_mask, xor_blocks

KEYS = (b'\x01\x02\x03\x04', b'\xff\x00\xa5\x5a', bytearray(b'\x37\xfa\x21\x3d'))


def reference(data, key, offset):
    out = bytearray(data)
    for i in range(len(out)):
        out[i] ^= key[(i + offset) % 4]
    return bytes(out)


def sample(n):
    return (bytes(range(7, 256, 3)) * (n // 83 + 1))[:n]


def bodies():
    out = [('apply_mask', lambda buf, key, off: apply_mask(buf, key, off))]
    for block in (0, 4, 8, 12, 256):
        out.append(('xor_blocks/%d' % block,
                    lambda buf, key, off, block=block: xor_blocks(buf, 0, len(buf), key, off, block)))
    return out


def test_fast_body_is_selected():
    if sys.implementation.name == 'micropython':
        import camdot.websocket._viper as _viper
        assert mask.mask_range is _viper.mask_range
    else:
        assert mask.mask_range is not xor_blocks


def test_bodies_match_reference_odd_lengths_and_offsets():
    for name, body in bodies():
        for key in KEYS:
            for n in list(range(0, 19)) + [63, 64, 65, 1001]:
                data = sample(n)
                for offset in range(0, 9):
                    buf = bytearray(data)
                    body(buf, key, offset)
                    assert bytes(buf) == reference(data, key, offset), (name, n, offset)


def test_unaligned_memoryview_slices():
    data = sample(300)
    for name, body in bodies():
        for start in range(0, 8):
            for end in (start, start + 1, start + 3, start + 5, start + 8, start + 37, 300 - start):
                for offset in (0, 1, 2, 3, 5):
                    buf = bytearray(data)
                    body(memoryview(buf)[start:end], KEYS[1], offset)
                    want = data[:start] + reference(data[start:end], KEYS[1], offset) + data[end:]
                    assert bytes(buf) == want, (name, start, end, offset)


def test_mask_range_in_the_middle_leaves_the_rest():
    data = sample(100)
    for start in range(0, 6):
        for end in range(start, start + 20):
            for phase in range(4):
                buf = bytearray(data)
                mask.mask_range(buf, start, end, KEYS[0], phase)
                want = data[:start] + reference(data[start:end], KEYS[0], phase) + data[end:]
                assert bytes(buf) == want, (start, end, phase)


def test_masking_twice_restores_and_large_buffer():
    data = sample(8001)
    buf = bytearray(data)
    apply_mask(buf, KEYS[1], 3)
    assert bytes(buf) == reference(data, KEYS[1], 3)
    apply_mask(buf, KEYS[1], 3)
    assert buf == data
