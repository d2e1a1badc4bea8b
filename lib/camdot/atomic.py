"""Atomic file replacement: a write that fails halfway (a full flash, a power cut) keeps the old file.

    from camdot import atomic
    atomic.write('/settings.json', text)   # OSError when it could not: the old file is then intact
    text = atomic.read('/settings.json')   # None when there is no file

write() puts the text in '<path>.tmp', then renames that over `path`: littlefs (the ESP32's
default filesystem) and POSIX replace the old file in one step, so a reader sees the old file or
the new one, never half of one. FAT can't rename over a file: there the old one is removed first,
and should the power fail between the two steps, read() takes the complete '.tmp' instead.
A write that fails removes its '.tmp' (on a full flash it holds the space the next try needs)
and raises the OSError.

`opener` is the open() used for writing; tests replace it to make the flash fail at a chosen step.
"""
import os

TMP_SUFFIX = '.tmp'
ENOSPC = 28     # errno of a full filesystem (MicroPython's errno module is optional)

opener = open


def write(path, text):
    """Replace `path` with `text` (str or bytes) atomically; raise OSError if it can't."""
    data = text.encode() if isinstance(text, str) else text
    tmp = path + TMP_SUFFIX
    try:
        with opener(tmp, 'wb') as f:
            written = f.write(data)
            if written is not None and written != len(data):
                raise OSError(ENOSPC, 'short write (%d of %d bytes)' % (written, len(data)))
        rename(tmp, path)
    except OSError:
        _remove(tmp)
        raise
    if hasattr(os, 'sync'):
        os.sync()   # MicroPython: commit the filesystem's caches to flash now


def rename(src, dest):
    """os.rename(src, dest), replacing `dest` on FAT too (which refuses to rename over a file)."""
    try:
        os.rename(src, dest)
    except OSError:
        if not exists(dest):
            raise
        os.remove(dest)
        os.rename(src, dest)


def read(path):
    """The text of `path`, or of the '.tmp' a FAT replace left when it was cut short; None if
    neither exists; ValueError if it is not UTF-8. Callers still check what they read (a '.tmp'
    may hold an unfinished write)."""
    for name in (path, path + TMP_SUFFIX):
        try:
            with open(name, 'rb') as f:
                data = f.read()
        except OSError:
            continue
        try:
            return data.decode()
        except UnicodeError:
            raise ValueError('%s is not UTF-8 text' % name)
    return None


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass
