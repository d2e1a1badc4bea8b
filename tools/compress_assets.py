"""Gzip the device page assets next to their sources (served with Content-Encoding: gzip).

    .venv/bin/python tools/compress_assets.py [lib/camdot/www]

Writes NAME.gz beside every NAME in the folder (the .gz files are git-ignored and are what deploy
ships to the board). Deterministic output (no timestamp or file name in the gzip header), so an
unchanged page keeps its size; prints raw and compressed sizes.
"""
import gzip
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = ('.html', '.js', '.css', '.svg', '.json')


def compress(folder):
    total = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(SOURCES):
            continue
        path = os.path.join(folder, name)
        with open(path, 'rb') as f:
            raw = f.read()
        packed = gzip.compress(raw, compresslevel=9, mtime=0)
        with open(path + '.gz', 'wb') as f:
            f.write(packed)
        total += len(packed)
        print('%-24s %6d -> %5d bytes gzipped' % (name, len(raw), len(packed)))
    return total


if __name__ == '__main__':
    compress(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'lib', 'camdot', 'www'))
