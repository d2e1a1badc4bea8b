"""WebSocket masking (RFC 6455 5.3): XOR with a 4-byte key, in place.

    from camdot.mask import apply_mask
    apply_mask(buf, key, offset=0)   # buf[i] ^= key[(offset + i) % 4]; buf is a bytearray/memoryview

`mask_range(buf, start, end, key, phase)` is the fastest body here: viper over aligned 32-bit
words on MicroPython, one big-int XOR on CPython; `xor_blocks` is the portable fallback.
"""
from camdot.compat import MICROPYTHON


def xor_blocks(buf, start, end, key, phase, block=256):
    """Portable body: buf[start:end] ^= key, key[phase & 3] lining up with buf[start]. Big ints
    over blocks (0: one block), which bounds the memory used."""
    if end <= start:
        return
    p = phase & 3
    key = bytes(key[p:4]) + bytes(key[:p])
    step = (block + 3) & ~3 if block else end - start
    pattern = key * ((step >> 2) + 1)
    kint = int.from_bytes(pattern[:step], 'big')
    mv = memoryview(buf)
    while start < end:
        n = min(step, end - start)
        seg = mv[start:start + n]
        k = kint if n == step else int.from_bytes(pattern[:n], 'big')
        seg[:] = (int.from_bytes(seg, 'big') ^ k).to_bytes(n, 'big')
        start += n


mask_range = xor_blocks
if MICROPYTHON:
    try:
        from camdot._viper import mask as mask_range
    except Exception:  # no viper emitter in this firmware (or a big-endian CPU)
        pass
else:
    def mask_range(buf, start, end, key, phase):
        xor_blocks(buf, start, end, key, phase, 0)  # CPython's big ints are fast: one block


def apply_mask(buf, key, offset=0):
    """XOR buf in place with the 4-byte key; offset = payload bytes before buf[0] (mask phase)."""
    mask_range(buf, 0, len(buf), key, offset)
