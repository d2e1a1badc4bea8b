"""WebSocket masking (RFC 6455 5.3): XOR with a 4-byte key, in place.

    from camdot.mask import apply_mask
    apply_mask(buf, key, offset=0)   # buf[i] ^= key[(offset + i) % 4]; buf is a bytearray/memoryview

MicroPython uses a viper body over aligned 32-bit words; CPython XORs the whole buffer as one big
int (fast there); `xor_blocks` is the portable fallback (big ints over small blocks: bounded memory).
"""
from camdot.compat import MICROPYTHON


def xor_blocks(buf, start, end, key, phase, block=256):
    """Portable body: buf[start:end] ^= key, key[phase & 3] lining up with buf[start]."""
    if end <= start:
        return
    p = phase & 3
    key = bytes(key[p:4]) + bytes(key[:p])
    step = (block + 3) & ~3 if block else end - start
    pattern = key * ((step >> 2) + 1)
    kint = int.from_bytes(pattern[:step], 'big')
    mv = memoryview(buf)
    i = start
    while i < end:
        n = end - i
        if n >= step:
            n = step
            k = kint
        else:
            k = int.from_bytes(pattern[:n], 'big')
        seg = mv[i:i + n]
        seg[:] = (int.from_bytes(seg, 'big') ^ k).to_bytes(n, 'big')
        i += n


def _whole(buf, start, end, key, phase):
    xor_blocks(buf, start, end, key, phase, 0)


mask_range = None  # mask_range(buf, start, end, key, phase): the fastest body on this runtime
if MICROPYTHON:
    try:
        import sys
        if sys.byteorder == 'little':
            from camdot._viper import mask as mask_range
    except Exception:  # no viper emitter in this firmware
        pass
    if mask_range is None:
        mask_range = xor_blocks
else:
    mask_range = _whole


def apply_mask(buf, key, offset=0):
    """XOR buf in place with the 4-byte key; offset = payload bytes before buf[0] (mask phase)."""
    mask_range(buf, 0, len(buf), key, offset)
