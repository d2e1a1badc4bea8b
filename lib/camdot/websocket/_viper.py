"""Viper bodies for camdot.websocket.mask and camdot.websocket.utf8 (MicroPython only: CPython can't even define them).

    from camdot.websocket._viper import mask_range, scan  # chosen by camdot.websocket.mask / camdot.websocket.utf8, not used directly
"""
import sys

import micropython

if sys.byteorder != 'little':  # mask() builds its key word little-endian
    raise ImportError('camdot.websocket._viper needs a little-endian CPU')


@micropython.viper
def mask_range(buf: ptr8, start: int, end: int, key: ptr8, phase: int):
    # buf[i] ^= key[(i - start + phase) & 3] for start <= i < end; 32-bit words where aligned
    # (Xtensa faults on unaligned ptr32), bytes for the unaligned head and the tail.
    i = start
    base = int(buf)
    while i < end and ((base + i) & 3):
        buf[i] = buf[i] ^ key[(i - start + phase) & 3]
        i += 1
    words = (end - i) >> 2
    if words:
        j = i - start + phase
        # Little-endian word (x64, Xtensa): the byte at the lowest address is the low byte.
        w = key[j & 3] | (key[(j + 1) & 3] << 8) | (key[(j + 2) & 3] << 16) | (key[(j + 3) & 3] << 24)
        p = ptr32(base + i)
        k = 0
        while k < words:
            p[k] = p[k] ^ w
            k += 1
        i += words << 2
    while i < end:
        buf[i] = buf[i] ^ key[(i - start + phase) & 3]
        i += 1


@micropython.viper
def scan(buf: ptr8, start: int, end: int, state: int) -> int:
    # UTF-8 state machine; state 0 = between characters, else need | lo << 2 | hi << 10 (the
    # number of continuation bytes still expected and the allowed range of the next one); -1 = invalid.
    s = state
    i = start
    base = int(buf)
    high = 0x8080
    high |= high << 16  # at run time: folded, 0x80808080 is no small int on a 32-bit board
    while i < end:
        if s == 0:
            # ASCII fast path: skip aligned words with no high bit set.
            if ((base + i) & 3) == 0:
                p = ptr32(base + i)
                k = 0
                n = (end - i) >> 2
                while k < n and (p[k] & high) == 0:
                    k += 1
                i += k << 2
                if i >= end:
                    break
            b = buf[i]
            i += 1
            if b < 0x80:
                continue
            if b < 0xC2:
                return -1
            if b < 0xE0:
                s = 1 | (0x80 << 2) | (0xBF << 10)
            elif b < 0xF0:
                lo = 0xA0 if b == 0xE0 else 0x80
                hi = 0x9F if b == 0xED else 0xBF
                s = 2 | (lo << 2) | (hi << 10)
            elif b < 0xF5:
                lo = 0x90 if b == 0xF0 else 0x80
                hi = 0x8F if b == 0xF4 else 0xBF
                s = 3 | (lo << 2) | (hi << 10)
            else:
                return -1
        else:
            b = buf[i]
            i += 1
            if b < ((s >> 2) & 0xFF) or b > (s >> 10):
                return -1
            if (s & 3) == 1:
                s = 0
            else:
                s = ((s & 3) - 1) | (0x80 << 2) | (0xBF << 10)
    return s
