"""The device app (unix port) at the HTTP edge with clients nobody here wrote: HTTP/1.1 status lines
read by the `websockets` client and raw sockets, chunked bodies from Python's http.client and
curl, `Expect: 100-continue` answered before the body is sent.

The reader's unit rules are in tests/portable/test_http11.py; node-wot: test_nodewot.py; CORS in
a browser: test_cors_browser.py.
"""
import base64
import http.client
import json
import shutil
import socket
import subprocess
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from servers import device_app

TOKEN = 'edge-Tok3n'


def start(folder, **cfg):
    return device_app(folder, camera={'backend': 'sim', 'fps': 10}, max_clients=1,
                      limits={'header_timeout': 1}, **cfg)


@pytest.fixture(scope='module')
def device(tmp_path_factory):
    with start(tmp_path_factory.mktemp('edge')) as srv:
        yield srv
        srv.stop()
    assert 'Traceback' not in srv.output, srv.output


@pytest.fixture(scope='module')
def locked(tmp_path_factory):
    """A device with a token."""
    with start(tmp_path_factory.mktemp('edgetoken'), token=TOKEN) as srv:
        yield srv
        srv.stop()
    assert 'Traceback' not in srv.output, srv.output


def ws_url(srv, path='/ws/stream'):
    return srv.url.replace('http', 'ws') + path


def refused(url, **kw):
    """The response with which the `websockets` client's upgrade was refused."""
    with pytest.raises(InvalidStatus) as info:
        with connect(url, open_timeout=5, **kw):
            pass
    return info.value.response


def frame(ws):
    while True:
        msg = ws.recv(timeout=5)
        if isinstance(msg, bytes):
            return msg


# ---- websockets: a refused upgrade is a status a program can read ----

def test_websockets_client_reads_403_426_and_503(device):
    res = refused(ws_url(device), origin='http://evil.example')
    assert (res.status_code, res.reason_phrase) == (403, 'Forbidden')
    res = refused(ws_url(device), additional_headers={'Sec-WebSocket-Version': '8'})
    assert (res.status_code, res.reason_phrase) == (426, 'Upgrade Required')
    assert res.headers['Sec-WebSocket-Version'] == '13'
    with connect(ws_url(device), open_timeout=5) as viewer:     # max_clients: 1
        assert frame(viewer)[:2] == b'\xff\xd8'
        res = refused(ws_url(device))
        assert (res.status_code, res.reason_phrase) == (503, 'Service Unavailable')
        assert res.headers['Retry-After'] == '5'
        assert frame(viewer)[:2] == b'\xff\xd8'                  # the viewer is undisturbed


def test_websockets_client_reads_401_then_429(locked):
    res = refused(ws_url(locked))
    assert (res.status_code, res.reason_phrase) == (401, 'Unauthorized')
    assert res.headers['WWW-Authenticate'].startswith('Bearer')
    wrong = {'Authorization': 'Bearer wrong'}
    for _ in range(5):   # no token at all is not a wrong one
        assert refused(ws_url(locked), additional_headers=wrong).status_code == 401
    res = refused(ws_url(locked), additional_headers={'Authorization': 'Bearer ' + TOKEN})
    assert (res.status_code, res.reason_phrase) == (429, 'Too Many Requests')
    assert int(res.headers['Retry-After']) > 0


# ---- raw sockets: every status line ----

def exchange(srv, data, timeout=5):
    """Send `data`; everything the device answers until it closes."""
    with socket.create_connection(('127.0.0.1', srv.port), timeout=timeout) as s:
        s.sendall(data)
        out = b''
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
    return out


def head_of(resp):
    head = resp.split(b'\r\n\r\n', 1)[0].split(b'\r\n')
    return head[0], [h.lower() for h in head[1:]]


UPGRADE = (b'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n'
           % base64.b64encode(b'0123456789abcdef'))

STATUS_LINES = [
    (b'GET /properties HTTP/1.1\r\n\r\n', b'200 OK'),
    (b'GET /nowhere HTTP/1.1\r\n\r\n', b'404 Not Found'),
    (b'POST /ws/stream HTTP/1.1\r\n' + UPGRADE + b'Sec-WebSocket-Version: 13\r\n\r\n',
     b'405 Method Not Allowed'),
    (b'GET /ws HTTP/1.1\r\n' + UPGRADE + b'Sec-WebSocket-Version: 7\r\n\r\n', b'426 Upgrade Required'),
    (b'GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
     b'Sec-WebSocket-Version: 13\r\n\r\n', b'400 Bad Request'),             # no key
    (b'GET /properties HTTP/1.1 junk\r\n\r\n', b'400 Bad Request'),
    (b'PUT /properties/quality HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 3'
     b'\r\n\r\nabc', b'400 Bad Request'),
    (b'PUT /properties/fps HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 1'
     b'\r\n\r\n5', b'403 Forbidden'),
    (b'PUT /properties/quality HTTP/1.1\r\nContent-Length: 100000\r\n\r\n', b'413 Content Too Large'),
    (b'GET /' + b'a' * 3000 + b' HTTP/1.1\r\n\r\n', b'414 URI Too Long'),
    (b'GET / HTTP/1.1\r\n' + b'X-A: 1\r\n' * 40 + b'\r\n', b'431 Request Header Fields Too Large'),
    (b'GET / HTTP/1.1\r\nHost: x\r\n', b'408 Request Timeout'),           # never ends its head
    (b'PUT /properties/quality HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', b'501 Not Implemented'),
    (b'PUT /properties/quality HTTP/1.1\r\nExpect: 200-ok\r\n\r\n', b'417 Expectation Failed'),
    (b'GET /properties HTTP/1.0\r\n\r\n', b'200 OK'),
]


def test_every_status_line_is_http11_with_its_reason(device):
    for req, want in STATUS_LINES:
        line, headers = head_of(exchange(device, req))
        assert line == b'HTTP/1.1 ' + want, (req[:40], line)
        assert headers.count(b'connection: close') == 1, (req[:40], headers)
    # the upgrade itself: 101, and no Connection: close
    line, headers = head_of(exchange(device, b'GET /ws HTTP/1.1\r\n' + UPGRADE +
                                     b'Sec-WebSocket-Version: 13\r\n\r\n\x88\x80abcd', timeout=3))
    assert line == b'HTTP/1.1 101 Switching Protocols'
    assert b'connection: upgrade' in headers and b'connection: close' not in headers


def test_a_viewer_over_the_cap_is_503_on_mjpeg_too(device):
    with connect(ws_url(device), open_timeout=5) as viewer:
        assert frame(viewer)[:2] == b'\xff\xd8'
        line, headers = head_of(exchange(device, b'GET /stream HTTP/1.1\r\n\r\n'))
        assert line == b'HTTP/1.1 503 Service Unavailable' and b'retry-after: 5' in headers


# ---- chunked request bodies from real clients ----

def quality(srv):
    conn = http.client.HTTPConnection('127.0.0.1', srv.port, timeout=5)
    conn.request('GET', '/properties/quality')
    res = conn.getresponse()
    value = json.loads(res.read())
    conn.close()
    return value


def put_generator(srv, parts, path='/properties/quality'):
    """http.client with a generator body: it sends `Transfer-Encoding: chunked`."""
    conn = http.client.HTTPConnection('127.0.0.1', srv.port, timeout=5)
    conn.request('PUT', path, body=(p for p in parts), headers={'Content-Type': 'application/json'})
    res = conn.getresponse()
    out = res.status, res.reason, res.getheader('Connection'), res.read()
    conn.close()
    return out


def test_http_client_sends_a_chunked_body(device):
    assert put_generator(device, [b' 2', b'1 ']) == (200, 'OK', 'close', b'21')
    assert quality(device) == 21
    status, reason, _, body = put_generator(device, [b'6', b'4'])       # maximum 63
    assert (status, reason) == (400, 'Bad Request') and b'64' in body
    assert quality(device) == 21
    status, reason, _, _ = put_generator(device, [b'1' * 1000] * 20)    # max_body: 8192
    assert (status, reason) == (413, 'Content Too Large')
    assert quality(device) == 21


def curl(*args, timeout=30):
    exe = shutil.which('curl')
    if exe is None:
        pytest.fail('curl is missing: apt-get install curl (.ci/run does)')
    res = subprocess.run([exe, '-sS', '-v', '-w', '\n%{http_code}', *args], capture_output=True,
                         text=True, timeout=timeout)
    body, _, code = res.stdout.rpartition('\n')
    return int(code), body, res.stderr


def test_curl_sends_a_chunked_body(device, tmp_path):
    body = tmp_path / 'body.json'
    body.write_text('33')
    code, out, log = curl('-X', 'PUT', '-H', 'Content-Type: application/json',
                          '-H', 'Transfer-Encoding: chunked', '--data-binary', '@%s' % body,
                          device.url + '/properties/quality')
    assert '> Transfer-Encoding: chunked' in log and '< HTTP/1.1 200 OK' in log
    assert (code, out) == (200, '33') and quality(device) == 33
    body.write_text(' ' * 9000 + '34')                                 # over max_body
    code, out, log = curl('-X', 'PUT', '-H', 'Content-Type: application/json',
                          '-H', 'Transfer-Encoding: chunked', '--data-binary', '@%s' % body,
                          device.url + '/properties/quality')
    assert code == 413 and quality(device) == 33


def test_curl_expect_100_continue(device, locked, tmp_path):
    body = tmp_path / 'body.json'
    body.write_text('44')
    code, out, log = curl('-X', 'PUT', '-H', 'Content-Type: application/json',
                          '-H', 'Expect: 100-continue', '--expect100-timeout', '20',
                          '--data-binary', '@%s' % body, device.url + '/properties/quality')
    assert '< HTTP/1.1 100 Continue' in log and (code, out) == (200, '44')
    # refused without the body: curl waits up to 20 s for a 100 Continue before sending it, so an
    # answer well within that came without the body
    for headers, want in (([], 401), (['-H', 'Transfer-Encoding: chunked'], 401)):
        t0 = time.monotonic()
        code, out, log = curl('-X', 'PUT', '-H', 'Content-Type: application/json', *headers,
                              '-H', 'Expect: 100-continue', '--expect100-timeout', '20',
                              '--data-binary', '@%s' % body, locked.url + '/properties/quality')
        assert code == want and '100 Continue' not in log, log
        assert time.monotonic() - t0 < 10
    body.write_text(' ' * 9000)
    t0 = time.monotonic()
    code, out, log = curl('-X', 'PUT', '-H', 'Expect: 100-continue', '--expect100-timeout', '20',
                          '--data-binary', '@%s' % body, device.url + '/properties/quality')
    assert code == 413 and '100 Continue' not in log and time.monotonic() - t0 < 10
    assert quality(device) == 44


def test_malformed_chunks_get_400_and_the_device_goes_on(device):
    for body in (b'zz\r\n12\r\n0\r\n\r\n', b'2\r\n12XX0\r\n\r\n', b'2;' + b'e' * 3000 + b'\r\n12\r\n'):
        resp = exchange(device, b'PUT /properties/quality HTTP/1.1\r\nTransfer-Encoding: chunked'
                                b'\r\nContent-Type: application/json\r\n\r\n' + body)
        assert head_of(resp)[0] == b'HTTP/1.1 400 Bad Request', (body[:20], resp[:80])
    # trailers are read and dropped
    resp = exchange(device, b'PUT /properties/quality HTTP/1.1\r\nTransfer-Encoding: chunked\r\n'
                            b'Content-Type: application/json\r\n\r\n1;x=y\r\n9\r\n0\r\nX-Sum: 9\r\n\r\n')
    assert head_of(resp)[0] == b'HTTP/1.1 200 OK' and resp.endswith(b'\r\n\r\n9')
    assert quality(device) == 9
