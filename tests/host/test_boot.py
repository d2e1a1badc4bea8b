"""boot.py off the board, and the Wi-Fi setup page over a real socket."""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import fake_network   # tests/portable (pytest.ini puts it on the path)
from servers import MICROPYPATH, MPY, ROOT, free_port, wait_for_port

from camdot import wifi_setup


def run_boot(argv, tmp_path):
    env = dict(os.environ, MICROPYPATH=os.path.join(ROOT, 'lib') + ':' + MICROPYPATH)
    start = time.monotonic()
    res = subprocess.run(argv + [os.path.join(ROOT, 'boot.py')], cwd=tmp_path, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    return res, time.monotonic() - start


def test_boot_py_is_a_no_op_on_the_unix_port(tmp_path):
    res, elapsed = run_boot([MPY], tmp_path)
    assert res.returncode == 0 and res.stdout == '', res.stdout
    assert elapsed < 10
    assert os.listdir(tmp_path) == []


def test_boot_py_is_a_no_op_on_cpython(tmp_path):
    res, _ = run_boot([sys.executable], tmp_path)
    assert res.returncode == 0 and res.stdout == '', res.stdout
    assert os.listdir(tmp_path) == []


def test_setup_page_over_a_socket_saves_and_returns(tmp_path):
    config = tmp_path / 'config.json'
    config.write_text(json.dumps({'hostname': 'porch', 'token': ''}))
    fake_network.install({'Home Net': ('secret-pw', 1), 'Other': ('x' * 8, 1)}, {'Home Net': -40})
    port = free_port()
    result = []
    try:
        thread = threading.Thread(target=lambda: result.append(
            wifi_setup.run_setup('camdot-B2C3', {'token': ''}, str(config), port=port, timeout_ms=20000)))
        thread.start()
        wait_for_port(port)
        with urllib.request.urlopen('http://127.0.0.1:%d/' % port, timeout=5) as res:
            page = res.read().decode()
        assert 'Home Net (-40 dBm)' in page and 'Other' in page
        body = urllib.parse.urlencode({'ssid': 'Home Net', 'password': 'secret-pw'}).encode()
        with urllib.request.urlopen('http://127.0.0.1:%d/save' % port, data=body, timeout=5) as res:
            assert res.status == 200 and 'Saved' in res.read().decode()
        thread.join(10)
    finally:
        fake_network.uninstall()
    assert result == [True]
    saved = json.loads(config.read_text())
    assert saved == {'hostname': 'porch', 'token': '', 'wifi': {'ssid': 'Home Net', 'password': 'secret-pw'}}
