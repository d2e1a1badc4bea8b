"""Fuzzing the HTTP upgrade path: random and malformed requests on a raw socket to the device app.

The whole app (auth, limits, the WebSocket handshake, the stream routes) runs twice: in-process on
CPython in a thread, and as main.py on the unix-port MicroPython. Hypothesis builds upgrade requests
around a valid one (headers dropped, duplicated, mangled, binary junk, odd line ends, huge values,
bodies). Every answer must be a clean HTTP status below 500 (101 when the upgrade happens to be
valid; 503 from the viewer cap), within a few seconds, with no traceback on the console; and the
app must still serve a normal request afterwards.
"""
import asyncio
import base64
import json
import socket
import threading

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from camdot import config
from camdot.app import create_app
from servers import MPY, Server, free_port, wait_for_port

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
TOKEN = 'fuzz-token'


def in_process(port):
    """Serve the app on CPython in a thread until the returned stop() is called."""
    cfg = config.load(None)
    cfg['camera']['backend'] = 'sim'
    cfg['token'] = TOKEN
    cfg['max_clients'] = 2
    app = create_app(cfg)

    async def serve():
        await app.start_server(host='127.0.0.1', port=port)
        # shut down: stop what the connections left running (stream loop, keepalives)
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in rest:
            t.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    wait_for_port(port)

    def stop():
        loop.call_soon_threadsafe(app.shutdown)
        thread.join(5)
        loop.close()
    return stop


@pytest.fixture(scope='module', params=['cpython', 'micropython'])
def target(request, tmp_path_factory):
    """(runtime, port) of a running app."""
    port = free_port()
    if request.param == 'cpython':
        stop = in_process(port)
        yield request.param, port
        stop()
        return
    folder = tmp_path_factory.mktemp('fuzz')
    (folder / 'config.json').write_text(json.dumps({
        'token': TOKEN, 'max_clients': 2, 'camera': {'backend': 'sim'},
        'settings_file': str(folder / 'settings.json')}))
    env = {'HTTP_PORT': str(port), 'CAMDOT_CONFIG': str(folder / 'config.json')}
    with Server([MPY, 'main.py'], port, env=env) as srv:
        yield request.param, port
        srv.stop()
    assert 'Traceback' not in srv.output, srv.output[-3000:]


def valid_headers(port):
    return [(b'Host', b'127.0.0.1:%d' % port), (b'Upgrade', b'websocket'),
            (b'Connection', b'Upgrade'), (b'Sec-WebSocket-Key', b'dGhlIHNhbXBsZSBub25jZQ=='),
            (b'Sec-WebSocket-Version', b'13'), (b'Authorization', b'Bearer ' + TOKEN.encode())]


text = st.binary(max_size=40) | st.text(max_size=40).map(lambda t: t.encode('utf-8', 'replace'))
junk = st.sampled_from([b'', b' ', b'\t', b':', b'\r', b'\x00', b'\xff\xfe', b'%zz', b'\xc3(',
                        b'A' * 3000, b'websocket, upgrade', b'-1', b'99999999999999999999'])
value = text | junk
names = st.sampled_from([b'Host', b'Upgrade', b'Connection', b'Sec-WebSocket-Key',
                         b'Sec-WebSocket-Version', b'Sec-WebSocket-Protocol', b'Origin',
                         b'Authorization', b'Cookie', b'Content-Length', b'Transfer-Encoding',
                         b'Sec-WebSocket-Extensions']) | text


@st.composite
def requests(draw, port):
    headers = valid_headers(port)
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(['drop', 'dup', 'mangle', 'add', 'nocolon']))
        i = draw(st.integers(0, max(0, len(headers) - 1)))
        if op == 'drop' and headers:
            headers.pop(i)
        elif op == 'dup' and headers:
            headers.append((headers[i][0], draw(value)))
        elif op == 'mangle' and headers:
            headers[i] = (headers[i][0], draw(value))
        elif op == 'add':
            headers.append((draw(names), draw(value)))
        elif op == 'nocolon':
            headers.append((draw(text), None))
    # mostly a valid request line, so that the headers get exercised too
    if draw(st.integers(0, 9)) < 8:
        method, path, version = b'GET', b'/ws/stream', b'HTTP/1.1'
    else:
        method = draw(st.sampled_from([b'GET', b'POST', b'HEAD', b'OPTIONS', b'get', b'']) | text)
        path = draw(st.sampled_from([b'/ws/stream', b'/stream', b'/', b'/login', b'//', b'*',
                                     b'/ws/stream?x=%zz', b'/ws/stream?x=%ff', b'/ws/stream#'])
                    | text)
        version = draw(st.sampled_from([b'HTTP/1.1', b'HTTP/1.0', b'HTTP/2', b'HTTP/', b'']) | text)
    eol = draw(st.sampled_from([b'\r\n', b'\n']))
    lines = [b' '.join(p for p in (method, path, version) if p)]
    for name, val in headers:
        lines.append(name if val is None else name + b': ' + val)
    body = draw(st.sampled_from([b'', b'x' * 10, b'\x88\x80\x00\x00\x00\x00']))
    return eol.join(lines) + eol + eol + body


def exchange(port, data, timeout=5):
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may answer and close before reading everything we send
        head = b''
        while b'\r\n' not in head:
            chunk = s.recv(1024)
            if not chunk:
                break
            head += chunk
    return head


def status_of(head):
    assert head.startswith(b'HTTP/1.'), head[:100]
    return int(head.split(b' ', 2)[1])


@FUZZ
@given(data=st.data())
def test_upgrade_requests_get_clean_answers(target, capsys, data):
    runtime, port = target
    req = data.draw(requests(port))
    capsys.readouterr()
    try:
        head = exchange(port, req)
    except socket.timeout:
        raise AssertionError('no answer within 5 s to %r' % req[:300])
    if not head:
        # closed without a word: only acceptable when there was no request line at all
        assert not req.split(b'\n', 1)[0].strip(), req[:300]
        return
    code = status_of(head)
    # 503: the viewer cap, while the server has not yet seen earlier upgraded clients go;
    # 501: a well-formed transfer coding other than chunked (RFC 9112 6.1)
    te = b'\ntransfer-encoding:' in req.lower().replace(b'\r\n', b'\n')
    assert code in (101, 503) or 200 <= code < 500 or (code == 501 and te), (code, req[:300])
    # refused by camdot.limits before microdot's parser could fail on it with a traceback
    # (the unix-port app's console is checked once, at the end)
    assert 'Traceback' not in capsys.readouterr().err, req[:300]


def test_valid_upgrade_and_plain_request_still_work(target):
    port = target[1]
    req = b'\r\n'.join(b'%s: %s' % h for h in valid_headers(port))
    assert status_of(exchange(port, b'GET /ws/stream HTTP/1.1\r\n' + req + b'\r\n\r\n')) == 101
    plain = b'GET /capture HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n' % TOKEN.encode()
    assert status_of(exchange(port, plain)) == 200


def test_known_bad_upgrades(target):
    port = target[1]
    good = dict(valid_headers(port))

    def ask(**change):
        h = dict(good)
        for k, v in change.items():
            k = k.replace('_', '-').encode()
            if v is None:
                h.pop(k, None)
            else:
                h[k] = v
        req = b'GET /ws/stream HTTP/1.1\r\n' + b''.join(b'%s: %s\r\n' % kv for kv in h.items())
        return status_of(exchange(port, req + b'\r\n'))

    assert ask() == 101
    assert ask(Authorization=None) == 401
    assert ask(Origin=b'http://evil.example') == 403
    assert ask(Sec_WebSocket_Version=b'8') == 426
    assert ask(Sec_WebSocket_Key=b'short') == 400
    assert ask(Sec_WebSocket_Key=None) == 400
    assert ask(Upgrade=b'h2c') == 400
    assert ask(Connection=b'keep-alive') == 400
    assert ask(Content_Length=b'-1') == 400
    assert ask(Content_Length=b'100000') == 413
    assert ask(X_Big=b'x' * 5000) == 431
    key = base64.b64encode(b'0123456789abcdef')
    assert ask(Sec_WebSocket_Key=key) == 101
