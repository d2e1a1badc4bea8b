"""Stage the pinned MicroPython-side dependencies from .venv into a git-ignored folder.

    .venv/bin/python tools/stage_deps.py .deps

The unix port reads the folder through MICROPYPATH and `make deploy` copies it to the board,
so no third-party code lives in this repository.
"""
import os
import shutil
import sys

import microdot

# Pure-Python modules only (no .pyi, no CPython-only adapters). test_client.py stays: the
# portable tests drive apps with it, and camdot.test_client builds on it.
SKIP = ('asgi.py', 'wsgi.py', 'jinja.py')


def stage_package(module, dest):
    src = os.path.dirname(module.__file__)
    name = os.path.basename(src)
    out = os.path.join(dest, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    for entry in sorted(os.listdir(src)):
        if entry.endswith('.py') and entry not in SKIP:
            shutil.copy2(os.path.join(src, entry), os.path.join(out, entry))
    return out


def main(dest):
    os.makedirs(dest, exist_ok=True)
    print('staged', stage_package(microdot, dest))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '.deps')
