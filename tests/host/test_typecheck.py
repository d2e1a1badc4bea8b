"""`make typecheck` is honest: it passes on the board code and fails on board-API misuse."""
import os
import subprocess
import sys

from servers import ROOT

TYPECHECK = os.path.join(ROOT, 'tools', 'typecheck.py')


def typecheck(*args, cwd=ROOT):
    res = subprocess.run([sys.executable, TYPECHECK] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=300)
    return res.returncode, res.stdout


def test_board_code_type_checks():
    code, out = typecheck()
    assert code == 0, out
    assert 'typecheck [board]: ok (4 files)' in out


def test_misuse_of_the_board_api_fails(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text(
        'import network\n'
        'import machine\n'
        'import time\n'
        'def join():\n'                                   # a function body: checked too
        '    wlan = network.WLAN(network.STA_IF)\n'
        '    wlan.connect(1, 2)\n'                        # line 6: ints for ssid/key
        'machine.WDT(timeout="30s")\n'                    # line 7: str for an int
        'time.monotonic()\n'                              # line 8: CPython only, not on the board
        'network.hostname("a", "b")\n')                   # line 9: no such overload
    code, out = typecheck('--files', str(bad), cwd=tmp_path)
    assert code == 1, out
    for line in (6, 7, 8, 9):
        assert 'bad.py:%d: error' % line in out, out
    assert 'Module has no attribute "monotonic"' in out


def test_an_error_in_the_board_code_is_caught(tmp_path):
    with open(os.path.join(ROOT, 'lib', 'camdot', 'wifi.py')) as f:
        source = f.read()
    assert 'network.hostname(name)\n' in source
    (tmp_path / 'wifi.py').write_text(source.replace('network.hostname(name)\n',
                                                     'network.hostname(name, 80)\n'))
    code, out = typecheck('--files', 'wifi.py', cwd=tmp_path)
    assert code == 1 and 'wifi.py' in out and 'hostname' in out, out


def test_missing_file_fails(tmp_path):
    code, out = typecheck('--files', 'nope.py', cwd=tmp_path)
    assert code != 0 and 'no such file' in out
