"""Heap taken by the device app on the unix port: .mpy files in RAM vs bytecode used in place.

    .venv/bin/python tools/bench_ram.py      # (make bench-ram; needs `make build/mpy-x64/.stamp`)

`create_app` with the default config (simulated camera) and every module it imports, measured
with gc.mem_alloc after a collection:
- from the .mpy files of build/mpy-x64, as `make deploy` puts them in the board's /lib: the
  bytecode is loaded into the heap;
- from the same files in a ROMFS image mounted with vfs.VfsRom: bytecode and constants are used
  in place, as frozen bytecode is in the firmware of firmware/ (which also keeps the names in
  flash, so it saves a little more than this shows).
Nothing is asserted; 64-bit figures (a 32-bit board's objects are smaller).
"""
import os
import re
import subprocess
import sys

from romfs_image import MOUNT, MPY_BUILD, ROOT, build as build_romfs

MPY = os.path.join(ROOT, '.venv', 'bin', 'micropython')

APP = '''
import gc, micropython
%s
gc.collect(); a = gc.mem_alloc()
from camdot import config
from camdot.app import create_app
app = create_app(config.load(None))
gc.collect(); b = gc.mem_alloc()
import camdot.app
print('RAM', b - a, camdot.app.__file__)
micropython.qstr_info()
'''


def measure(path, rom):
    res = subprocess.run([MPY, '-c', APP % (MOUNT if rom else '')], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, env=dict(os.environ, MICROPYPATH=path))
    m = re.search(r'RAM (\d+) (\S+)', res.stdout)
    q = re.search(r'n_total_bytes=(\d+)', res.stdout)
    if res.returncode or not m or not q:
        sys.exit('bench_ram: the app did not start:\n' + res.stdout + res.stderr)
    return int(m.group(1)), m.group(2), int(q.group(1))


def main():
    if not os.path.exists(os.path.join(ROOT, MPY_BUILD, '.stamp')):
        sys.exit('bench_ram: %s is missing: run `make %s/.stamp`' % (MPY_BUILD, MPY_BUILD))
    size = build_romfs()
    rows = [('.mpy files (make deploy)',) + measure(MPY_BUILD + ':.frozen', False),
            ('in place (ROMFS image, %d KB)' % (size // 1024),) + measure('.frozen', True)]
    for label, _, file, _ in rows:
        if not file.startswith('/rom/' if label.startswith('in place') else MPY_BUILD):
            sys.exit('bench_ram: %s: camdot.app came from %s' % (label, file))
    print('device app (create_app, simulated camera), heap after a collection:')
    print('%-34s %10s %14s' % ('loaded from', 'RAM (B)', 'all names (B)'))
    for label, ram, _, names in rows:
        print('%-34s %10d %14d' % (label, ram, names))
    print('in place / .mpy: %.2f' % (rows[1][1] / rows[0][1]))


if __name__ == '__main__':
    main()
