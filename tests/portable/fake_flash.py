"""A flash that fails like a full or worn one, for camdot.atomic (both runtimes).

    flash = fake_flash.FailingFlash('write', after=10)   # the 1st write stops after 10 bytes
    flash.install()
    ...   # code under test writes through camdot.atomic
    flash.uninstall()

Steps that can fail (`step`): 'open' (no room even for the new file), 'write' (ENOSPC after
`after` bytes really written: a file left half written), 'close' (the filesystem's final flush),
'rename' (the replace itself). `times`: how many writes fail before the flash works again.
`failures` counts the failures injected.
"""
from camdot import atomic

ENOSPC = 28
STEPS = ('open', 'write', 'close', 'rename')


class _File:
    def __init__(self, flash, f):
        self.flash = flash
        self.f = f

    def write(self, data):
        flash = self.flash
        if flash.step == 'write' and flash.armed():
            self.f.write(data[:flash.after])   # the part that made it before the flash filled
            flash.failed()
            raise OSError(ENOSPC, 'No space left on device')
        return self.f.write(data)

    def close(self):
        flash = self.flash
        self.f.close()
        if flash.step == 'close' and flash.armed():
            flash.failed()
            raise OSError(ENOSPC, 'No space left on device')

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FailingFlash:
    def __init__(self, step, after=0, times=1):
        if step not in STEPS:
            raise ValueError('step must be one of %s' % (STEPS,))
        self.step = step
        self.after = after
        self.times = times
        self.failures = 0
        self._rename = None

    def armed(self):
        return self.failures < self.times

    def failed(self):
        self.failures += 1

    def open(self, path, mode='r'):
        if self.step == 'open' and self.armed():
            self.failed()
            raise OSError(ENOSPC, 'No space left on device')
        return _File(self, open(path, mode))

    def rename(self, src, dest):
        if self.step == 'rename' and self.armed():
            self.failed()
            raise OSError(5, 'I/O error')   # EIO: a worn block
        return self._rename(src, dest)

    def install(self):
        self._rename = atomic.rename
        atomic.opener = self.open
        atomic.rename = self.rename
        return self

    def uninstall(self):
        atomic.opener = open
        if self._rename is not None:
            atomic.rename = self._rename
