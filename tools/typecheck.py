"""Type-check board code with mypy against the MicroPython ESP32 stubs.

    .venv/bin/python tools/typecheck.py              # every run in tools/mypy/runs.cfg
    .venv/bin/python tools/typecheck.py --files x.py [--stubs dir]   # one ad-hoc run

The stubs (micropython-esp32-stubs, pinned in the Makefile) are installed by `make setup` into
.deps/stubs; mypy uses them as its typeshed, so CPython-only APIs are errors too. Exit status is
non-zero on any type error, on a missing file and when the stubs are missing.
"""
import argparse
import configparser
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUBS = os.path.join(ROOT, '.deps', 'stubs')
INI = os.path.join(ROOT, 'tools', 'mypy', 'mypy.ini')
RUNS = os.path.join(ROOT, 'tools', 'mypy', 'runs.cfg')
CACHE = os.path.join(ROOT, 'build', 'mypy-cache')


def read_runs(path=RUNS):
    parser = configparser.ConfigParser()
    with open(path) as f:
        parser.read_file(f)
    return [(name, parser.get(name, 'files').split(), parser.get(name, 'stubs', fallback='').split())
            for name in parser.sections()]


def run_mypy(name, files, stubs=(), cwd=ROOT):
    """One mypy run; returns (exit code, output)."""
    if not os.path.isfile(os.path.join(STUBS, 'machine.pyi')):
        return 2, 'typecheck: %s has no board stubs; run `make setup`\n' % STUBS
    missing = [f for f in files if not os.path.exists(os.path.join(cwd, f))]
    if missing:
        return 2, 'typecheck [%s]: no such file: %s\n' % (name, ' '.join(missing))
    path = [os.path.join(cwd, s) for s in stubs] + [STUBS, os.path.join(ROOT, 'lib')]
    env = dict(os.environ, MYPYPATH=os.pathsep.join(path))
    argv = [sys.executable, '-m', 'mypy', '--config-file', INI, '--custom-typeshed-dir', STUBS,
            '--cache-dir', CACHE, '--no-error-summary', '--hide-error-context'] + list(files)
    res = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    return res.returncode, res.stdout


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--files', nargs='+', help='check these files instead of runs.cfg')
    parser.add_argument('--stubs', nargs='*', default=[], help='extra stub folders for --files')
    args = parser.parse_args(argv)
    runs = [('ad hoc', args.files, args.stubs)] if args.files else read_runs()
    failed = 0
    for name, files, stubs in runs:
        code, out = run_mypy(name, files, stubs, cwd=os.getcwd() if args.files else ROOT)
        sys.stdout.write(out)
        print('typecheck [%s]: %s (%d files)' % (name, 'ok' if code == 0 else 'FAILED', len(files)))
        failed += code != 0
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
