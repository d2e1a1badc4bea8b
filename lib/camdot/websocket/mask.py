"""WebSocket masking (RFC 6455 5.3): XOR with a 4-byte key, in place.

    from camdot.websocket.mask import apply_mask
    apply_mask(buf, key, offset=0)   # buf[i] ^= key[(offset + i) % 4]; buf is a bytearray/memoryview

`mask_range(buf, start, end, key, phase)` is the fastest body here: viper over aligned 32-bit
words on MicroPython, big-int XOR over 16 KB blocks on CPython; `xor_blocks` is the portable fallback.
"""
from camdot.compat import MICROPYTHON


def xor_blocks(buf, start, end, key, phase, block=256):
    """Portable body: buf[start:end] ^= key, key[phase & 3] lining up with buf[start]. Big ints
    over blocks of `block` bytes (0: one block), which bounds the memory used."""
    if end <= start:
        return
    p = phase & 3
    key = bytes(key[p:4]) + bytes(key[:p])
    n = end - start
    step = (min(block, n) + 3) & ~3 if block else n  # a multiple of 4 keeps every block in phase
    kint = int.from_bytes((key * ((step >> 2) + 1))[:step], 'big')
    mv = memoryview(buf)
    while start < end:
        n = min(step, end - start)
        seg = mv[start:start + n]
        # The key pattern of a shorter last block is a prefix: the top bytes of kint.
        seg[:] = (int.from_bytes(seg, 'big') ^ (kint >> ((step - n) << 3))).to_bytes(n, 'big')
        start += n


mask_range = xor_blocks
if MICROPYTHON:
    try:
        from camdot.websocket._viper import mask_range
    except Exception:  # no viper emitter in this firmware (or a big-endian CPU)
        pass
else:
    def mask_range(buf, start, end, key, phase):
        xor_blocks(buf, start, end, key, phase, 16384)  # CPython's big ints: fastest at ~16 KB


def apply_mask(buf, key, offset=0):
    """XOR buf in place with the 4-byte key; offset = payload bytes before buf[0] (mask phase)."""
    mask_range(buf, 0, len(buf), key, offset)
