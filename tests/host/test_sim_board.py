"""The simulated board: mpremote drives it like a real board (raw REPL, files, Ctrl-C, resets)."""
import os
import time

from simboard import SimBoard


def test_exec_sees_the_flash_folder_as_root(tmp_path):
    (tmp_path / 'hello.txt').write_text('hi')
    with SimBoard(tmp_path, autorun=False) as sb:
        out = sb.mpremote('exec', "import os, sys; print(sorted(os.listdir('/')), sys.path)")
    assert "['hello.txt', 'simcam']" in out   # simcam: the simulated camera's frames
    assert "['', '.frozen', '/lib']" in out


def test_copy_files_both_ways(tmp_path):
    src = tmp_path / 'src.bin'
    src.write_bytes(bytes(range(256)) * 8)
    flash = tmp_path / 'flash'
    flash.mkdir()
    with SimBoard(flash, autorun=False) as sb:
        sb.mpremote('fs', 'mkdir', ':lib', '+', 'fs', 'cp', str(src), ':lib/x.bin')
        sb.mpremote('fs', 'cp', ':lib/x.bin', str(tmp_path / 'back.bin'))
    assert (flash / 'lib' / 'x.bin').read_bytes() == src.read_bytes()
    assert (tmp_path / 'back.bin').read_bytes() == src.read_bytes()


def test_ctrl_c_interrupts_a_running_program(tmp_path):
    (tmp_path / 'spin.py').write_text('import time\nprint("spinning")\nwhile True:\n    time.sleep(0.01)\n')
    with SimBoard(tmp_path, autorun=False) as sb:
        # `exec` with a timeout returns while the program still runs; the next mpremote command
        # starts with Ctrl-C, so it only works if the board was interrupted.
        out = sb.mpremote('exec', '--no-follow', 'import spin', check=False)
        time.sleep(0.3)
        out = sb.mpremote('exec', 'print("after", 6 * 7)')
    assert 'after 42' in out


def test_soft_reset_restarts_and_keeps_the_flash(tmp_path):
    with SimBoard(tmp_path, autorun=False) as sb:
        sb.mpremote('exec', "open('/kept.txt', 'w').write('yes'); import sys; sys.modules['marker'] = 1")
        out = sb.mpremote('soft-reset', '+', 'exec', "import sys; print('marker' in sys.modules, open('/kept.txt').read())")
    assert 'False yes' in out


def wait_for(path, check, timeout=5.0):
    deadline = time.monotonic() + timeout
    text = None
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else None
        if text is not None and check(text):
            break
        time.sleep(0.05)
    return text


def test_resets_run_boot_and_main_as_a_board_does(tmp_path):
    (tmp_path / 'boot.py').write_text("open('/booted.txt', 'a').write('b')\n")
    (tmp_path / 'main.py').write_text("open('/booted.txt', 'a').write('m')\n")
    log = tmp_path / 'booted.txt'
    with SimBoard(tmp_path) as sb:
        assert wait_for(log, lambda t: t == 'bm') == 'bm'      # power-on: boot.py, main.py
        # mpremote soft-resets in the raw REPL (explicitly, and before its first exec): boot.py only
        sb.mpremote('soft-reset', '+', 'exec', 'pass')
        text = log.read_text()
        assert text.startswith('bmb') and set(text[2:]) == {'b'}, text
        sb.mpremote('reset')        # (mpremote's soft reset, then) machine.reset(): boot.py, main.py
        after = wait_for(log, lambda t: t.endswith('m') and len(t) > len(text))
        new = after[len(text):]
        assert after.startswith(text) and new.endswith('bm') and set(new[:-1]) == {'b'}, after
        assert not os.path.exists(tmp_path / '.sim-hard-reset')
