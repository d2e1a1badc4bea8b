"""The simulated board: mpremote drives it like a real board (raw REPL, files, Ctrl-C, resets)."""
import os
import time

from harness import wait_until
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
    (tmp_path / 'spin.py').write_text('import time\nopen("/spinning", "w").close()\n'
                                      'while True:\n    time.sleep(0.01)\n')
    with SimBoard(tmp_path, autorun=False) as sb:
        # `exec --no-follow` returns while the program still runs; the next mpremote command
        # starts with Ctrl-C, so it only works if the board was interrupted.
        out = sb.mpremote('exec', '--no-follow', 'import spin', check=False)
        wait_until(lambda: (tmp_path / 'spinning').exists(), what='the program to run')
        out = sb.mpremote('exec', 'print("after", 6 * 7)')
    assert 'after 42' in out


def test_soft_reset_restarts_and_keeps_the_flash(tmp_path):
    with SimBoard(tmp_path, autorun=False) as sb:
        sb.mpremote('exec', "open('/kept.txt', 'w').write('yes'); import sys; sys.modules['marker'] = 1")
        out = sb.mpremote('soft-reset', '+', 'exec', "import sys; print('marker' in sys.modules, open('/kept.txt').read())")
    assert 'False yes' in out


def wait_for(path, check, timeout=30.0):
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


# ---- the simulated ESP32's machine: reset causes, RTC memory, the watchdog ----

def test_reset_causes_rtc_memory_and_a_watchdog_that_resets_the_board(tmp_path):
    log = tmp_path / 'console.log'
    flash = tmp_path / 'flash'
    flash.mkdir()
    with SimBoard(flash, autorun=False, log=log) as sb:
        # `resume`: no soft reset before the command (mpremote does one by default)
        out = sb.mpremote('resume', 'exec', "import machine; print('cause', machine.reset_cause());"
                          "machine.RTC().memory(b'kept')")
        assert 'cause 1' in out                                    # power-on
        out = sb.mpremote('soft-reset', '+', 'resume', 'exec',
                          "import machine; print('cause', machine.reset_cause(), machine.RTC().memory())")
        assert "cause 5 b'kept'" in out                             # soft reset; RTC memory kept
        # An armed watchdog that nobody feeds resets the board, even across a soft reset.
        sb.mpremote('resume', 'exec', 'import machine; machine.WDT(timeout=400)')
        wait_until(lambda: 'watchdog reset' in sb.console(), 10)
        out = sb.mpremote('resume', 'exec',
                          "import machine; print('cause', machine.reset_cause(), machine.RTC().memory())")
        assert "cause 3 b'kept'" in out                             # WDT_RESET
        # A Timer feeding it keeps the board up (what camdot.watchdog.Watchdog.park() does).
        # (a timeout far above the feeding period: a loaded machine may run the timer late)
        sb.mpremote('resume', 'exec', 'import machine; w = machine.WDT(timeout=1000)\n'
                    't = machine.Timer(0); t.init(period=100, callback=lambda _: w.feed())')
        time.sleep(3.5)   # more than three timeouts: nothing to wait for but time
        assert sb.console().count('watchdog reset') == 1


# ---- main.py's on-board branch, on the simulated board ----

import json
import socket
import urllib.request

from servers import ROOT, free_port, wait_for_port

WDT_MS = 4000   # a short watchdog: the test watches it for a few timeouts; fed every quarter


def board_files(tmp_path, config):
    """A flash folder with the board's boot.py, main.py and `config`; camdot and microdot are
    shown at /lib from the repository (as a firmware with them frozen in would have them)."""
    lib = tmp_path / 'lib'
    lib.mkdir()
    (lib / 'camdot').symlink_to(os.path.join(ROOT, 'lib', 'camdot'))
    (lib / 'microdot').symlink_to(os.path.join(ROOT, '.deps', 'microdot'))
    flash = tmp_path / 'flash'
    flash.mkdir()
    for name in ('boot.py', 'main.py'):
        (flash / name).write_bytes(open(os.path.join(ROOT, name), 'rb').read())
    (flash / 'config.json').write_text(json.dumps(config))
    return flash, [(str(lib), '/lib')]


def get(port, path, timeout=5):
    with urllib.request.urlopen('http://127.0.0.1:%d%s' % (port, path), timeout=timeout) as res:
        return res.status, res.read()


def test_main_on_the_board_arms_the_watchdog_and_feeds_it_at_its_default_interval(tmp_path):
    port = free_port()
    flash, mounts = board_files(tmp_path, {'http_port': port, 'watchdog_ms': WDT_MS,
                                           'camera': {'backend': 'sim'}})
    with SimBoard(flash, log=tmp_path / 'console.log', on_board=True, mounts=mounts) as sb:
        wait_for_port(port)
        assert 'serving on http://0.0.0.0:%d/' % port in sb.console()
        # Two and a half timeouts of serving: a watchdog fed late would have reset the board.
        end = time.monotonic() + 2.5 * WDT_MS / 1000
        while time.monotonic() < end:
            assert get(port, '/')[0] == 200
            time.sleep(0.2)
        console = sb.console()
        assert 'watchdog reset' not in console and console.count('serving on') == 1, console
        # mpremote stops the app (Ctrl-C: the watchdog goes on a timer) and soft-resets the
        # board (boot.py takes over feeding it): the REPL stays usable past its timeout.
        out = sb.mpremote('exec', 'import time; time.sleep(%f); print("still here")'
                          % (1.5 * WDT_MS / 1000))
        assert 'still here' in out
        assert 'camdot: stopped' in sb.console() and 'watchdog reset' not in sb.console()


def test_a_crash_on_the_board_is_logged_and_the_board_resets_10_s_later(tmp_path):
    port = free_port()
    flash, mounts = board_files(tmp_path, {'http_port': port, 'watchdog_ms': 3000,
                                           'camera': {'backend': 'sim'}})
    blocker = socket.socket()
    blocker.bind(('0.0.0.0', port))   # the app's port is taken: serving fails after start-up
    blocker.listen(1)
    try:
        with SimBoard(flash, log=tmp_path / 'console.log', on_board=True, mounts=mounts) as sb:
            wait_until(lambda: 'crashed; restarting in 10 s' in sb.console(), 30)
            crashed = time.monotonic()
            blocker.close()
            wait_for_port(port, timeout=30)
            up = time.monotonic()
            console = sb.console()
            assert 'EADDRINUSE' in console                        # the traceback is logged
            assert console.count('no network module') == 2        # boot.py ran again: a reset
            assert up - crashed >= 9, up - crashed                # after the 10 s wait
            assert 'watchdog reset' not in console                # parked on a timer meanwhile
            assert get(port, '/')[0] == 200
    finally:
        blocker.close()


def test_a_firmware_without_a_camera_driver_serves_the_app_and_says_why(tmp_path):
    port = free_port()
    flash, mounts = board_files(tmp_path, {'http_port': port})   # camera.backend 'auto'
    with SimBoard(flash, log=tmp_path / 'console.log', on_board=True, mounts=mounts) as sb:
        wait_for_port(port)
        assert get(port, '/')[0] == 200
        try:
            get(port, '/capture')
            raise AssertionError('a capture without a camera')
        except urllib.error.HTTPError as exc:
            assert exc.code == 503
            assert 'no camera driver' in json.loads(exc.read())['error']
        status, body = get(port, '/properties/camera_error')
        assert 'no camera driver' in json.loads(body)
        assert '(camera: none)' in sb.console()


FULL_SETTINGS = {name: 0 for name in (
    'brightness', 'contrast', 'saturation', 'sharpness', 'special_effect', 'wb_mode', 'ae_level',
    'aec_value', 'agc_gain', 'gainceiling', 'led_intensity')}
FULL_SETTINGS.update({name: True for name in ('awb', 'awb_gain', 'aec', 'agc', 'wpc', 'raw_gma',
                                               'lenc', 'dcw')})
FULL_SETTINGS.update({'quality': 12, 'framesize': 'QVGA', 'hmirror': False, 'vflip': False})

FILL_FLASH = '''
import os
i = 0
try:
    while True:
        with open('/fill%d' % i, 'wb') as f:
            f.write(bytes(4096))
        i += 1
except OSError as e:
    print('flash full', e)
try:
    os.remove('/fill%d' % i)
except OSError:
    pass
print('free blocks', os.statvfs('/')[3])
'''


def test_a_full_flash_keeps_the_old_settings_file_and_the_app_running(tmp_path):
    import asyncio
    import websockets
    port = free_port()
    flash, mounts = board_files(tmp_path, {'http_port': port, 'watchdog_ms': 0,
                                           'camera': {'backend': 'sim'}})
    settings = json.dumps(FULL_SETTINGS)
    assert len(settings) > 300            # too big to live inline in littlefs' metadata
    (flash / 'settings.json').write_text(settings)
    image = tmp_path / 'image'
    image.mkdir()
    with SimBoard(image, log=tmp_path / 'console.log', on_board=True, flash_kb=64,
                  mounts=mounts) as sb:
        # The board's files onto its (littlefs) flash, then fill it up.
        args = []
        for name in ('boot.py', 'main.py', 'config.json', 'settings.json'):
            args += ['fs', 'cp', str(flash / name), ':' + name, '+']
        sb.mpremote(*args[:-1])
        out = sb.mpremote('exec', FILL_FLASH)
        assert 'flash full' in out and 'free blocks 0' in out, out
        sb.mpremote('reset')
        wait_for_port(port)

        async def change_a_setting():
            async with websockets.connect('ws://127.0.0.1:%d/ws' % port,
                                          subprotocols=['webthingprotocol']) as ws:
                await ws.send(json.dumps({'messageType': 'request', 'messageID': '1',
                                          'operation': 'subscribeallevents'}))
                await asyncio.wait_for(ws.recv(), 10)
                req = urllib.request.Request('http://127.0.0.1:%d/properties/brightness' % port,
                                             data=b'2', method='PUT')
                await asyncio.get_running_loop().run_in_executor(
                    None, lambda: urllib.request.urlopen(req, timeout=10).read())
                while True:        # the save comes after a quiet delay, then fails
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 15))
                    if msg.get('name') == 'save_failed':
                        return msg['data']
        data = asyncio.run(change_a_setting())
        assert data['file'] == '/settings.json' and 'old file is kept' in data['detail']
        assert '28' in data['detail']                              # ENOSPC, from littlefs
        assert 'could not save /settings.json (the old file is kept)' in sb.console()
        assert get(port, '/')[0] == 200                            # the app runs on
        assert json.loads(get(port, '/properties/brightness')[1]) == 2
        out = sb.mpremote('fs', 'cat', ':settings.json')
        assert json.loads(out.strip().splitlines()[-1]) == FULL_SETTINGS   # the old file, whole
        assert 'settings.json.tmp' not in sb.mpremote('fs', 'ls', ':')


def test_a_dead_mjpeg_viewer_is_dropped_after_the_viewer_timeout(tmp_path):
    # An MJPEG client that vanished without closing (Wi-Fi gone): it reads nothing more. Its
    # frames fill the socket buffers, the stream hands it copies that never finish sending, and
    # only the viewer timeout (short here) frees its place; the write timeout is made longer.
    port = free_port()
    flash, mounts = board_files(tmp_path, {
        'http_port': port, 'watchdog_ms': 0,
        'camera': {'backend': 'sim', 'framesize': 'SVGA', 'fps': 30, 'viewer_timeout_ms': 1000},
        'limits': {'write_timeout': 120, 'ping_interval': 120}})
    with SimBoard(flash, log=tmp_path / 'console.log', on_board=True, mounts=mounts):
        wait_for_port(port)
        viewer = socket.create_connection(('127.0.0.1', port))
        viewer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            viewer.sendall(b'GET /stream HTTP/1.1\r\nHost: cam\r\n\r\n')
            assert viewer.recv(64).startswith(b'HTTP/1.')
            viewers = lambda: json.loads(get(port, '/properties/viewers')[1])
            wait_until(lambda: viewers() == 1, 10)
            start = time.monotonic()
            wait_until(lambda: viewers() == 0, 20)                # not the 120 s write timeout
            assert time.monotonic() - start < 20
        finally:
            viewer.close()


POWER_CUT = '''
import json, sys, vfs
from camdot.settings import Settings

class PowerCut(Exception):
    pass

class Flash:
    """A RAM flash whose power fails after `left` more block writes."""
    def __init__(self, blocks, size):
        self.data = bytearray(blocks * size)
        self.blocks, self.size, self.left = blocks, size, None
    def readblocks(self, n, buf, off=0):
        start = n * self.size + off
        buf[:] = self.data[start:start + len(buf)]
    def writeblocks(self, n, buf, off=0):
        if self.left is not None:
            if self.left == 0:
                raise PowerCut()
            self.left -= 1
        start = n * self.size + off
        self.data[start:start + len(buf)] = buf
    def ioctl(self, op, arg):
        return self.blocks if op == 4 else self.size if op == 5 else 0

OLD = {'brightness': 1, 'framesize': 'VGA', 'hmirror': True}
NEW = {'brightness': -2, 'framesize': 'QVGA', 'hmirror': False, 'quality': 30}
for kind, fs, blocks, size in (('fat', vfs.VfsFat, 256, 512), ('lfs', vfs.VfsLfs2, 32, 4096)):
    cuts = 0
    for left in range(40):
        flash = Flash(blocks, size)
        fs.mkfs(flash)
        vfs.mount(fs(flash), '/f')
        store = Settings('/f/settings.json')
        store.replace(OLD)                       # no event loop: written at once
        flash.left = left
        store.values = dict(NEW)
        try:
            store.flush()
            done = True
        except PowerCut:
            done = False
            cuts += 1
        vfs.umount('/f')
        flash.left = None                        # power back on
        vfs.mount(fs(flash), '/f')
        got = Settings('/f/settings.json').load()
        vfs.umount('/f')
        print(kind, left, 'saved' if done else 'cut', 'old' if got == OLD else 'new' if got == NEW
              else 'LOST %r' % (got,))
        if done:
            break
    print(kind, 'cuts', cuts)
'''


def test_a_power_cut_at_any_point_of_a_save_leaves_the_old_or_the_new_file(tmp_path):
    # The board's own filesystems (FAT and littlefs, in the unix port), the power failing after
    # each block write of a settings save in turn: what boots next is the old file or the new
    # one (a FAT replace cut between its two steps is found in the '.tmp'), never half of one.
    import subprocess
    from servers import MPY, MICROPYPATH
    script = tmp_path / 'power_cut.py'
    script.write_text(POWER_CUT)
    env = dict(os.environ, MICROPYPATH=MICROPYPATH)
    res = subprocess.run([MPY, str(script)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=60)
    lines = res.stdout.splitlines()
    assert res.returncode == 0, res.stdout
    assert not [line for line in lines if 'LOST' in line], res.stdout
    for kind in ('fat', 'lfs'):
        cuts = int([line for line in lines if line.startswith(kind + ' cuts')][0].split()[-1])
        assert cuts >= 3, res.stdout              # the save spans several block writes
        assert '%s %d saved new' % (kind, cuts) in lines, res.stdout


def test_a_camera_that_does_not_answer_at_boot_on_the_board(tmp_path, monkeypatch):
    # The board's firmware driver is the strict fake of cnadler86's (its `camera` module on
    # /lib), with the sensor not answering: its constructor raises, as the driver's does.
    port = free_port()
    flash, mounts = board_files(tmp_path, {'http_port': port, 'watchdog_ms': WDT_MS})
    (tmp_path / 'lib' / 'camera.py').symlink_to(
        os.path.join(ROOT, 'tests', 'portable', 'fake_cnadler.py'))
    monkeypatch.setenv('FAKE_CAMERA', 'sensor_present=0')
    with SimBoard(flash, log=tmp_path / 'console.log', on_board=True, mounts=mounts) as sb:
        wait_for_port(port)
        assert get(port, '/')[0] == 200                                  # the page
        assert get(port, '/.well-known/wot')[0] == 200                   # the Thing
        for path in ('/capture', '/stream'):
            try:
                get(port, path)
                raise AssertionError('%s without a camera' % path)
            except urllib.error.HTTPError as exc:
                assert exc.code == 503 and exc.headers['Retry-After']
                error = json.loads(exc.read())['error']
                assert error.startswith('camera not detected: check the ribbon cable'), error
                assert 'ESP_ERR_NOT_SUPPORTED' in error                 # the driver's words
        assert 'ribbon cable' in json.loads(get(port, '/properties/camera_error')[1])
        console = sb.console()
        assert '(camera: cnadler)' in console and 'crashed' not in console
        assert 'watchdog reset' not in console
