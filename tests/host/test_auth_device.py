"""Token auth and Origin checks on the real device app (unix port), with real HTTP and WebSocket clients.

The fine-grained rules (Host check, throttle table, sessions) are in tests/portable/test_auth.py;
here: a browser-like login flow, programs with a bearer token, WebSocket upgrades refused before
the 101, and the token never showing up on the console.
"""
import base64
import http.client
import json
import os
import socket

import pytest
from websockets.sync.client import connect

from servers import MPY, Server, device_app, free_port

TOKEN = 'tok-Jq8vX2pL'


@pytest.fixture(scope='module')
def device(tmp_path_factory):
    with device_app(tmp_path_factory.mktemp('auth'), token=TOKEN, camera={'backend': 'sim'}) as srv:
        yield srv
        srv.stop()
    assert TOKEN not in srv.output  # never logged, whatever happened in the tests


def request(srv, method, path, headers=None, body=None, read=True):
    conn = http.client.HTTPConnection('127.0.0.1', srv.port, timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    res = conn.getresponse()
    data = res.read() if read else res.read(200)
    conn.close()
    return res.status, res.headers, data


def upgrade_status(srv, headers):
    """Send a WebSocket upgrade for /ws/stream by hand; the status code of the answer."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ['GET /ws/stream HTTP/1.1', 'Host: 127.0.0.1:%d' % srv.port, 'Upgrade: websocket',
             'Connection: Upgrade', 'Sec-WebSocket-Key: ' + key, 'Sec-WebSocket-Version: 13']
    lines += ['%s: %s' % kv for kv in headers.items()]
    with socket.create_connection(('127.0.0.1', srv.port), timeout=5) as s:
        s.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode())
        head = s.recv(200)
    return int(head.split(b' ', 2)[1])


def bearer(token=TOKEN):
    return {'Authorization': 'Bearer ' + token}


def test_programs_need_the_bearer_token(device):
    status, headers, _ = request(device, 'GET', '/capture')
    assert status == 401 and headers['WWW-Authenticate'].startswith('Bearer')
    status, _, _ = request(device, 'GET', '/capture', bearer('nope'))
    assert status == 401
    status, headers, body = request(device, 'GET', '/capture', bearer())
    assert status == 200 and body[:2] == b'\xff\xd8'
    status, headers, _ = request(device, 'GET', '/stream', bearer(), read=False)
    assert status == 200 and headers['Content-Type'].startswith('multipart/x-mixed-replace')


def test_browser_logs_in_and_its_cookie_opens_everything(device):
    status, headers, body = request(device, 'GET', '/', {'Accept': 'text/html'})
    assert status == 401 and b'<form' in body
    status, _, _ = request(device, 'POST', '/login',
                           {'Content-Type': 'application/x-www-form-urlencoded'},
                           'token=wrong&next=/')
    assert status == 401
    status, headers, _ = request(device, 'POST', '/login',
                                 {'Content-Type': 'application/x-www-form-urlencoded'},
                                 'token=%s&next=/' % TOKEN)
    assert status == 303 and headers['Location'] == '/'
    cookie = headers['Set-Cookie']
    assert 'HttpOnly' in cookie and 'SameSite=Strict' in cookie and TOKEN not in cookie
    jar = {'Cookie': cookie.split(';')[0]}
    assert request(device, 'GET', '/', jar)[0] == 200
    assert request(device, 'GET', '/capture', jar)[0] == 200
    assert request(device, 'GET', '/stream', jar, read=False)[0] == 200
    with connect(device.url.replace('http', 'ws') + '/ws/stream', additional_headers=jar,
                 origin='http://127.0.0.1:%d' % device.port, open_timeout=5) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello['type'] == 'hello'
    status, headers, _ = request(device, 'POST', '/logout', jar)
    assert status == 303
    assert request(device, 'GET', '/capture', jar)[0] == 401


def test_websocket_upgrade_is_refused_before_the_101(device):
    assert upgrade_status(device, {}) == 401
    assert upgrade_status(device, bearer('nope')) == 401
    assert upgrade_status(device, bearer()) == 101
    url = device.url.replace('http', 'ws') + '/ws/stream'
    with connect(url, additional_headers=bearer(), open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))['type'] == 'hello'


def test_cross_site_websocket_is_refused(device):
    assert upgrade_status(device, dict(bearer(), Origin='http://evil.example')) == 403
    assert upgrade_status(device, dict(bearer(), Origin='null')) == 403
    assert upgrade_status(device, dict(bearer(), Origin='http://127.0.0.1:%d' % device.port)) == 101
    url = device.url.replace('http', 'ws') + '/ws/stream'
    with connect(url, additional_headers=bearer(), origin='http://127.0.0.1:%d' % device.port,
                 open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5))['type'] == 'hello'


def test_lockout_after_wrong_tokens(device):
    # runs last in this module: it locks 127.0.0.1 out
    for _ in range(5):
        assert request(device, 'GET', '/capture', bearer('wrong'))[0] == 401
    status, headers, _ = request(device, 'GET', '/capture', bearer())
    assert status == 429 and int(headers['Retry-After']) > 0


def test_a_mistyped_token_is_not_printed(tmp_path):
    cfg = tmp_path / 'config.json'
    cfg.write_text('{"token": 987654321, "camera": {"backend": "sim"}, "settings_file": "%s"}'
                   % (tmp_path / 'settings.json'))
    port = free_port()
    with Server([MPY, 'main.py'], port, env={'HTTP_PORT': str(port), 'CAMDOT_CONFIG': str(cfg)}) as srv:
        srv.stop()
    assert 'token' in srv.output and '<hidden>' in srv.output
    assert '987654321' not in srv.output
