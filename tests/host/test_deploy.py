"""`make deploy` against the simulated board: .mpy for the board's arch, only changes copied,
then camdot imports on the board and the board's main.py serves the page."""
import ast
import gzip
import json
import os
import socket
import sys
import urllib.request

import pytest

from harness import wait_until
from servers import ROOT, free_port, wait_for_port
from simboard import SimBoard

HOSTNAME = 'sim-cam-%d' % os.getpid()


@pytest.fixture(scope='module')
def board(tmp_path_factory):
    flash = tmp_path_factory.mktemp('flash')
    config = tmp_path_factory.mktemp('cfg') / 'config.json'
    config.write_text(json.dumps({'hostname': HOSTNAME, 'wifi': {'ssid': 'home', 'password': 'secret-pw'}}))
    port = free_port()
    with SimBoard(flash, http_port=port, log=tmp_path_factory.mktemp('log') / 'console.log') as sb:
        sb.flash = flash
        sb.port = port
        sb.out = tmp_path_factory.mktemp('staging')
        sb.first_deploy = sb.deploy('--config', str(config), out=sb.out)
        yield sb


def board_files(flash):
    out = set()
    for folder, _, names in os.walk(flash):
        for name in names:
            out.add(os.path.relpath(os.path.join(folder, name), flash).replace(os.sep, '/'))
    return out


def test_deploy_compiles_for_the_board_arch_and_resets(board):
    out = board.first_deploy
    assert 'board .mpy arch: x64' in out
    assert 'board reset' in out


def test_after_reset_the_board_serves_the_page(board):
    # deploy reset the board: boot.py, then main.py from the board's own /lib (.mpy only)
    wait_for_port(board.port, timeout=20)
    # as a browser asks: the board has only the gzipped page
    req = urllib.request.Request('http://127.0.0.1:%d/' % board.port, headers={'Accept-Encoding': 'gzip'})
    with urllib.request.urlopen(req, timeout=10) as res:
        assert res.status == 200
        assert res.headers['Content-Encoding'] == 'gzip'
        body = gzip.decompress(res.read()).decode()
    assert '<html' in body.lower()
    # main.py read /config.json (written by deploy) on the board
    assert '%s serving on' % HOSTNAME in board.console()


def test_board_lib_holds_mpy_only_and_every_module(board):
    files = board_files(board.flash)
    assert {'boot.py', 'main.py', 'config.json'} <= files
    lib = sorted(f for f in files if f.startswith('lib/'))
    assert lib and all(f.endswith(('.mpy', '.gz')) for f in lib), lib
    assert 'lib/microdot/microdot.mpy' in files
    assert 'lib/microdot/test_client.mpy' in files      # camdot.test_client builds on it
    for folder, _, names in os.walk(os.path.join(ROOT, 'lib', 'camdot')):
        rel = os.path.relpath(folder, os.path.join(ROOT, 'lib')).replace(os.sep, '/')
        for name in names:
            if name.endswith('.py') and '/www' not in '/' + rel:
                assert 'lib/%s/%s.mpy' % (rel, name[:-3]) in files, name
    with open(os.path.join(ROOT, 'boot.py'), 'rb') as f:
        assert (board.flash / 'boot.py').read_bytes() == f.read()


def test_every_camdot_module_imports_on_the_board(board):
    mods = sorted('camdot.' + f[len('lib/camdot/'):-4].replace('/', '.').replace('.__init__', '')
                  for f in board_files(board.flash)
                  if f.startswith('lib/camdot/') and f.endswith('.mpy'))
    mods = [m for m in mods if m != 'camdot.__init__'] + ['camdot']
    failed = None
    code = ('import sys\nbad = []\nfor m in %r:\n'
            '    try:\n        __import__(m)\n    except Exception as e:\n        bad.append((m, repr(e)))\n'
            'import camdot.app\nprint("from", camdot.app.__file__)\nprint("failed:", bad)\n' % mods)
    out = board.mpremote('exec', code)
    # the ESP32 camera backends need the firmware's `camera` driver; everything else must import
    for line in out.splitlines():
        if line.startswith('failed: '):
            failed = ast.literal_eval(line[len("failed: "):])
    assert failed is not None and all("no module named 'camera'" in err for _, err in failed), out
    assert 'from /lib/camdot/app.mpy' in out, out


def test_tracebacks_name_the_file_on_the_board(board):
    # Each .mpy's source name is its path on the board, the same string as its __file__ (so the
    # board interns one name for both), for camdot and microdot alike.
    code = ('import sys, camdot.websocket.codec, microdot\ntry:\n    camdot.websocket.codec.close_payload(5)\n'
            'except ValueError as e:\n    sys.print_exception(e)\n'
            'print("files", camdot.websocket.codec.__file__, microdot.__file__)\n')
    out = board.mpremote('exec', code)
    assert 'files /lib/camdot/websocket/codec.mpy /lib/microdot/__init__.mpy' in out, out
    assert 'File "/lib/camdot/websocket/codec.mpy", line ' in out, out


def test_redeploy_copies_nothing_and_removes_stale_files(board):
    stale = board.flash / 'lib' / 'camdot' / 'app.py'   # a stale .py would shadow app.mpy
    stale.write_text('raise ImportError("stale")\n')
    out = board.deploy('--no-reset', out=board.out)
    assert '0 changed (0 bytes), 1 stale' in out, out
    assert not stale.exists()
    # a changed file on the board is noticed by its hash, and only it is copied
    target = board.flash / 'lib' / 'camdot' / 'config.mpy'
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    out = board.deploy('--no-reset', out=board.out)
    assert '1 changed' in out and 'cp ' in out and 'config.mpy' in out, out


def test_safe_mode_flag_keeps_the_app_from_starting(board):
    flag = board.flash / 'safemode'
    flag.write_text('')
    try:
        board.mpremote('reset')
        wait_until(lambda: 'safe mode (flag file /safemode): app not started' in board.console(),
                   timeout=30, step=0.1, what='the safe mode message')
        with pytest.raises(OSError):
            socket.create_connection(('127.0.0.1', board.port), timeout=1).close()
    finally:
        flag.unlink()


def test_everything_compiles_for_the_esp32(tmp_path):
    # What `make deploy` builds for a real board: every module compiles for xtensawin, and the
    # ones with @micropython.viper / .native code carry that arch (bytecode-only ones need none).
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    import deploy
    files = deploy.stage('xtensawin', str(tmp_path))
    native = []
    for board_path, local in files.items():
        if not board_path.endswith('.mpy') or not board_path.startswith('lib/camdot/'):
            continue
        with open(local, 'rb') as f:
            header = f.read(4)
        assert header[:2] == b'M\x06', board_path
        source = os.path.join(ROOT, board_path[:-4] + '.py')
        with open(source) as f:
            text = f.read()
        if '@micropython.viper' in text or '@micropython.native' in text:
            native.append(board_path)
            assert header[2] >> 2 == 10, board_path   # MP_NATIVE_ARCH_XTENSAWIN
    assert native, 'expected at least one viper/native module'
    assert not any(p.endswith('.py') for p in files if p.startswith('lib/'))
