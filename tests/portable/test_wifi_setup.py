"""camdot.wifi_setup: the Wi-Fi setup page, one request at a time on a stand-in socket stream
(both runtimes)."""
import io

from board_fixtures import exists, read_json, write
from harness import raises, remove, tmp_path

from camdot import wifi_setup
from camdot.compat import ticks_diff, ticks_ms


def test_form_decoding():
    assert wifi_setup.parse_form('ssid=a+b%20c%2B%C3%A9') == {'ssid': 'a b c+\u00e9'}
    assert wifi_setup.parse_form('ssid=100%') == {'ssid': '100%'}
    assert wifi_setup.parse_form('ssid=My+Net&password=p%26w&x') == {'ssid': 'My Net', 'password': 'p&w', 'x': ''}
    raises(ValueError, wifi_setup.parse_form, 'ssid=%zz')
    raises(ValueError, wifi_setup.parse_form, 'ssid=%ff')       # not UTF-8


class Stream:
    """A socket stream stand-in: readline/read from the request, write collected."""

    def __init__(self, request):
        self.rx = io.BytesIO(request)
        self.tx = []

    def readline(self, limit=-1):
        return self.rx.readline(limit)

    def read(self, n):
        return self.rx.read(n)

    def write(self, data):
        self.tx.append(bytes(data))
        return len(data)

    def response(self):
        head, _, body = b''.join(self.tx).partition(b'\r\n\r\n')
        lines = head.decode().split('\r\n')
        return int(lines[0].split()[1]), lines[1:], body.decode()


def post(body):
    return ('POST /save HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Type: application/x-www-form-urlencoded\r\n'
            'Content-Length: %d\r\n\r\n%s' % (len(body), body)).encode()


def test_setup_page_lists_networks_escaped():
    s = Stream(b'GET / HTTP/1.1\r\nHost: 192.168.4.1\r\n\r\n')
    assert wifi_setup.handle_setup(s, 'camdot-B2C3', [('<b>&net', -50)]) is False
    status, headers, body = s.response()
    assert status == 200
    assert 'Content-Type: text/html; charset=utf-8' in headers
    assert '&lt;b&gt;&amp;net (-50 dBm)' in body and '<b>&net' not in body
    assert 'name="token"' not in body
    assert 'camdot-B2C3' in body


def test_setup_saves_credentials():
    path = tmp_path('board-setup.json')
    write(path, '{"token": ""}')
    try:
        s = Stream(post('ssid=Home+Net&password=secret%21pw'))
        assert wifi_setup.handle_setup(s, 'camdot-B2C3', [], '', path) is True
        assert s.response()[0] == 200
        assert read_json(path)['wifi'] == {'ssid': 'Home Net', 'password': 'secret!pw'}
    finally:
        remove(path)


def test_setup_on_a_full_flash_keeps_the_old_file_and_says_so():
    from fake_flash import FailingFlash
    path = tmp_path('board-setup-full.json')
    write(path, '{"token": "", "hostname": "porch"}')
    flash = FailingFlash('write', after=8).install()
    try:
        s = Stream(post('ssid=Home+Net&password=secret%21pw'))
        assert wifi_setup.handle_setup(s, 'camdot-B2C3', [], '', path) is False   # no reset: not saved
        status, _, body = s.response()
        assert status == 500 and 'Could not save' in body and 'flash' in body
        assert read_json(path) == {'token': '', 'hostname': 'porch'}      # the old file, whole
        assert not exists(path + '.tmp')
    finally:
        flash.uninstall()
        remove(path)


def test_setup_rejects_bad_forms_without_saving():
    path = tmp_path('board-setup2.json')
    remove(path)
    cases = [
        (post('ssid=&password=secret123&token=the-token'), 400),
        (post('ssid=%s&password=&token=the-token' % ('x' * 33)), 400),
        (post('ssid=home&password=short&token=the-token'), 400),
        (post('ssid=home&password=secret123'), 403),                # the token is missing
        (post('ssid=home&password=secret123&token=guess'), 403),
        (b'POST /save HTTP/1.1\r\nContent-Length: 5000\r\n\r\n', 413),
        (b'POST /save HTTP/1.1\r\nContent-Length: nope\r\n\r\n', 413),
        (post('ssid=home%zz&password=secret123&token=the-token'), 400),     # malformed form
        (b'PUT / HTTP/1.1\r\n\r\n', 405),
        (b'garbage\r\n\r\n', 400),
        (b'', 400),
        (b'GET / HTTP/1.1\r\n' + b'X: y\r\n' * 40 + b'\r\n', 431),
    ]
    for request, expected in cases:
        s = Stream(request)
        assert wifi_setup.handle_setup(s, 'camdot-B2C3', [], 'the-token', path) is False
        assert s.response()[0] == expected, (request, s.response())
    assert not exists(path)
    s = Stream(post('ssid=home&password=secret123&token=the-token'))
    try:
        assert wifi_setup.handle_setup(s, 'camdot-B2C3', [], 'the-token', path) is True
    finally:
        remove(path)


def test_setup_page_asks_for_token_when_one_is_set():
    s = Stream(b'GET / HTTP/1.1\r\n\r\n')
    wifi_setup.handle_setup(s, 'camdot-B2C3', [], 'the-token')
    assert 'name="token"' in s.response()[2]


def test_other_urls_redirect_to_the_form():
    s = Stream(b'GET /generate_204 HTTP/1.1\r\n\r\n')
    wifi_setup.handle_setup(s, 'camdot-B2C3', [])
    status, headers, _ = s.response()
    assert status == 302
    assert 'Location: http://192.168.4.1/' in headers


class Conn:
    def __init__(self, request, fail=False):
        self.stream = Stream(request)
        self.fail = fail
        self.closed = False
        self.timeout = None

    def settimeout(self, t):
        self.timeout = t

    def makefile(self, mode):
        if self.fail:
            raise OSError(104)
        return self.stream

    def close(self):
        self.closed = True


class Listener:
    def __init__(self, conns):
        self.conns = list(conns)

    def settimeout(self, t):
        pass

    def accept(self):
        if not self.conns:
            raise OSError(110)  # ETIMEDOUT, as a socket timeout on MicroPython
        return self.conns.pop(0), ('192.168.4.2', 50000)


def test_serve_setup_survives_broken_clients_until_saved():
    path = tmp_path('board-serve.json')
    remove(path)
    conns = [Conn(b'', fail=True), Conn(b'GET / HTTP/1.1\r\n\r\n'), Conn(post('ssid=home&password='))]
    try:
        assert wifi_setup.serve_setup(Listener(conns), 'camdot-B2C3', [], path=path, timeout_ms=5000) is True
        assert all(c.closed for c in conns)
        assert conns[1].timeout == 5
        assert read_json(path)['wifi']['ssid'] == 'home'
    finally:
        remove(path)


def test_serve_setup_times_out():
    start = ticks_ms()
    assert wifi_setup.serve_setup(Listener([]), 'camdot-B2C3', [], timeout_ms=50) is False
    assert ticks_diff(ticks_ms(), start) < 2000
