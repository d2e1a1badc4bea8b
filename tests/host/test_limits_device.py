"""Connection limits on the real device app (unix port): viewer cap, slowloris, keepalive.

The unit-level rules are in tests/portable/test_limits.py; here the whole app with real clients.
"""
import base64
import json
import os
import socket

import pytest
from websockets.sync.client import connect

from harness import wait_until
from servers import MPY, Server, free_port


def start(tmp_path, framesize='QVGA', fps=20):
    cfg = {'camera': {'backend': 'sim', 'fps': fps, 'framesize': framesize}, 'max_clients': 2,
           'debug': True, 'settings_file': str(tmp_path / 'settings.json'),
           'limits': {'max_requests': 2, 'header_timeout': 1.5, 'ping_interval': 1,
                      'write_timeout': 2}}
    path = tmp_path / 'config.json'
    path.write_text(json.dumps(cfg))
    port = free_port()
    return Server([MPY, 'main.py'], port, env={'HTTP_PORT': str(port), 'CAMDOT_CONFIG': str(path)})


@pytest.fixture
def device(tmp_path):
    with start(tmp_path) as srv:
        yield srv
        srv.stop()


@pytest.fixture
def big_frames(tmp_path):
    # big frames at 30 fps: the kernel's send buffer (up to 4 MB on loopback) fills in seconds
    with start(tmp_path, 'SVGA', 30) as srv:
        yield srv
        srv.stop()


def raw(srv, data, timeout=5):
    s = socket.create_connection(('127.0.0.1', srv.port), timeout=timeout)
    if data:
        s.sendall(data)
    return s


def head_status(s):
    data = b''
    while b'\r\n' not in data:
        chunk = s.recv(1024)
        if not chunk:
            break
        data += chunk
    return int(data.split(b' ', 2)[1]) if data.startswith(b'HTTP/') else None


def upgrade(srv, path='/ws/stream'):
    key = base64.b64encode(os.urandom(16))
    return raw(srv, b'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'
                    b'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n'
               % (path.encode(), key))


def get(srv, path):
    with raw(srv, b'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' % path.encode()) as s:
        status = head_status(s)
        while s.recv(8192):
            pass
    return status


def stats(srv):
    with raw(srv, b'GET /debug/heap HTTP/1.1\r\n\r\n') as s:
        data = b''
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return json.loads(data.split(b'\r\n\r\n', 1)[1])


def binary_frame(ws):
    while True:
        msg = ws.recv(timeout=5)
        if isinstance(msg, bytes):
            return msg


def test_viewer_cap_refuses_newcomers_and_spares_the_admitted(device):
    url = device.url.replace('http', 'ws') + '/ws/stream'
    with connect(url, open_timeout=5) as a, connect(url, open_timeout=5) as b:
        assert binary_frame(a)[:2] == b'\xff\xd8' and binary_frame(b)[:2] == b'\xff\xd8'
        with upgrade(device) as s:
            assert head_status(s) == 503  # before the upgrade
        mjpeg = raw(device, b'GET /stream HTTP/1.1\r\n\r\n')
        assert head_status(mjpeg) == 503  # MJPEG streams count as viewers too
        mjpeg.close()
        assert get(device, '/capture') == 200  # plain requests have their own budget
        for _ in range(5):  # the admitted viewers are undisturbed
            assert binary_frame(a)[:2] == b'\xff\xd8'
            assert binary_frame(b)[:2] == b'\xff\xd8'
        assert stats(device)['viewers'] == 2
    wait_until(lambda: stats(device)['viewers'] == 0, what='the viewers gone')
    with connect(url, open_timeout=5) as c:  # slots come back when viewers leave
        assert binary_frame(c)[:2] == b'\xff\xd8'


def test_a_page_takes_one_viewer_slot(device):
    # the page opens /ws/stream and the Web Thing socket /ws: only the stream is a viewer, so
    # max_clients (2 here) browsers can watch at once
    base = device.url.replace('http', 'ws')
    with connect(base + '/ws/stream', open_timeout=5) as a, connect(base + '/ws', open_timeout=5), \
            connect(base + '/ws/stream', open_timeout=5) as b, connect(base + '/ws', open_timeout=5):
        assert binary_frame(a)[:2] == b'\xff\xd8' and binary_frame(b)[:2] == b'\xff\xd8'
        h = stats(device)
        assert h['viewers'] == 2 and h['sockets'] == 2, h


def test_slowloris_does_not_lock_out_real_clients(device):
    # No wait needed (nor possible: asking the app would take a slot): the app accepts
    # connections in the order they were made, so it meets these six before the real clients.
    slow = [raw(device, b'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ') for _ in range(6)]
    for _ in range(4):
        assert get(device, '/capture') == 200
    answers = []
    for s in slow:  # evicted ones got 503, the rest 408 once the header timeout passed
        s.settimeout(5)
        answers.append(head_status(s))
        s.close()
    assert set(answers) <= {503, 408} and 408 in answers, answers
    def settled():  # the app closes its side after answering: only the stats request is left
        h = stats(device)
        return h if h['conns'] == 1 else None
    h = wait_until(settled, what='one connection')
    assert h['dropped'] >= 6


def test_keepalive_closes_a_dead_websocket(device):
    # /ws (Web Thing Protocol) sends nothing on its own: only the keepalive can notice that this
    # client, which completed the upgrade, never answers pings (ping_interval 1 s here)
    s = upgrade(device, '/ws')
    assert head_status(s) == 101
    assert stats(device)['sockets'] == 1 and stats(device)['viewers'] == 0
    wait_until(lambda: stats(device)['sockets'] == 0, timeout=30, step=0.5,
               what='the dead WebSocket closed')
    s.close()


def test_mjpeg_clients_that_stop_reading_lose_their_slots(big_frames):
    device = big_frames
    stuck = []
    for _ in range(2):  # both viewer slots
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        s.connect(('127.0.0.1', device.port))
        s.sendall(b'GET /stream HTTP/1.1\r\n\r\n')
        stuck.append(s)  # ...and never read
    wait_until(lambda: stats(device)['viewers'] == 2, what='both viewers admitted')
    wait_until(lambda: stats(device)['viewers'] == 0, timeout=30, step=0.25,
               what='the stalled MJPEG viewers dropped')
    url = device.url.replace('http', 'ws') + '/ws/stream'
    with connect(url, open_timeout=5) as ws:
        assert binary_frame(ws)[:2] == b'\xff\xd8'
    for s in stuck:
        s.close()
