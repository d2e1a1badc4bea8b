"""The .mpy build as a ROMFS image, for the benchmarks that measure bytecode used in place.

    from romfs_image import build, MOUNT
    size = build()                          # build/mpy-x64 -> build/mpy-x64.romfs (mpremote's format)
    script = MOUNT + '\\nimport camdot.app'  # unix-port code: mount it at /rom, import from it first

Imported from a ROMFS image, a .mpy file's bytecode and constants are used where they lie instead
of being copied to the heap: on a board the image is a flash partition; here it is a bytes object
read before anything is measured. That stands for frozen bytecode (the firmware of firmware/),
which also keeps the module's names in flash.
"""
import contextlib
import io
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPY_BUILD = 'build/mpy-x64'     # `make build/mpy-x64/.stamp`: lib/ and microdot, compiled
IMAGE = MPY_BUILD + '.romfs'
MOUNT = '''import vfs, sys
f = open(%r, 'rb'); img = f.read(); f.close()
vfs.mount(vfs.VfsRom(img), '/rom'); sys.path.insert(0, '/rom')''' % IMAGE


def build():
    """Write IMAGE from MPY_BUILD; return its size in bytes."""
    from mpremote.romfs import make_romfs
    with contextlib.redirect_stdout(io.StringIO()):     # (it prints the tree)
        image = make_romfs(os.path.join(ROOT, MPY_BUILD), mpy_cross=False)
    with open(os.path.join(ROOT, IMAGE), 'wb') as f:
        f.write(image)
    return len(image)
