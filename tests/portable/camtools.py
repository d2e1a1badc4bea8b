"""Helpers for the camera/stream portable tests (both runtimes)."""


def jpeg_size(buf):
    """(width, height) from a JPEG's SOF segment; AssertionError if buf is not a whole JPEG."""
    b = bytes(buf)
    assert b[:2] == b'\xff\xd8', 'no SOI'
    assert b[-2:] == b'\xff\xd9', 'no EOI'
    i = 2
    while i + 9 < len(b):
        assert b[i] == 0xff, 'bad marker at %d' % i
        marker = b[i + 1]
        length = (b[i + 2] << 8) | b[i + 3]
        if 0xc0 <= marker <= 0xc3:
            return (b[i + 7] << 8) | b[i + 8], (b[i + 5] << 8) | b[i + 6]
        i += 2 + length
    raise AssertionError('no SOF segment')


def fresh_module(name):
    """Import tests/portable/<name>.py anew (module state reset)."""
    import sys
    sys.modules.pop(name, None)
    return __import__(name)
