"""camdot.wifi (joining Wi-Fi, the setup access point and page) against fakes of the ESP32
`network` module (both runtimes)."""
import io
import json

import fake_network
from board_fixtures import exists, read_json, setup, teardown, write
from harness import remove, tmp_path

from camdot import wifi
from camdot.compat import ticks_diff, ticks_ms


def test_ap_name_uses_last_two_mac_bytes():
    assert wifi.ap_name(b'\x24\x6f\x28\xa1\xb2\xc3') == 'camdot-B2C3'
    assert wifi.ap_name(bytes([0, 1, 2, 3, 4, 5])) == 'camdot-0405'


def test_station_connects_after_some_polls():
    setup({'home': ('secret-pw', 3)})
    try:
        assert wifi.set_hostname('porch-cam')
        ip = wifi.connect_station('home', 'secret-pw', timeout_ms=2000, poll_ms=1)
        assert ip == '192.168.1.50'
        assert fake_network.hostname() == 'porch-cam'
        assert ('connect', 'home') in fake_network.calls
        # the hostname is set before the interface is brought up, as MicroPython asks
        assert fake_network.calls.index(('hostname', 'porch-cam')) < fake_network.calls.index(('connect', 'home'))
    finally:
        teardown()


def test_bad_hostname_is_logged_not_raised():
    setup()
    try:
        assert wifi.set_hostname('x' * 40) is False
    finally:
        teardown()


def test_wrong_password_stops_at_once():
    setup({'home': ('secret-pw', 2)})
    try:
        start = ticks_ms()
        ip = wifi.connect_station('home', 'nope-nope', timeout_ms=5000, retries=3, poll_ms=1)
        assert ip is None
        assert ticks_diff(ticks_ms(), start) < 2000  # no waiting out the timeout, no retries
        assert [c for c in fake_network.calls if c[0] == 'connect'] == [('connect', 'home')]
        assert fake_network.WLAN(fake_network.STA_IF).active() is False
    finally:
        teardown()


def test_missing_network_retries_then_gives_up_in_bounded_time():
    setup({})
    try:
        start = ticks_ms()
        ip = wifi.connect_station('elsewhere', 'secret-pw', timeout_ms=60, retries=3, poll_ms=5)
        elapsed = ticks_diff(ticks_ms(), start)
        assert ip is None
        assert len([c for c in fake_network.calls if c[0] == 'connect']) == 3
        assert elapsed < 2000, elapsed
    finally:
        teardown()


def test_existing_link_to_the_same_network_is_reused():
    setup({'home': ('secret-pw', 1)})
    try:
        assert wifi.connect_station('home', 'secret-pw', poll_ms=1)
        del fake_network.calls[:]
        assert wifi.connect_station('home', 'secret-pw', poll_ms=1) == '192.168.1.50'
        assert not [c for c in fake_network.calls if c[0] == 'connect']
    finally:
        teardown()


def test_access_point_is_open_and_named():
    setup()
    try:
        ap = wifi.start_ap('camdot-B2C3')
        assert ap.active()
        assert ap.config('ssid') == 'camdot-B2C3'
        assert ap.config('security') == fake_network.AUTH_OPEN
    finally:
        teardown()


def test_scan_dedupes_and_sorts_by_signal():
    setup({'b': ('x' * 8, 1), 'a': ('x' * 8, 1), '': ('', 1)}, rssi={'a': -40, 'b': -80})
    try:
        assert wifi.scan() == [('a', -40), ('b', -80)]
    finally:
        teardown()


def test_scan_failure_gives_empty_list():
    setup()
    try:
        fake_network.WLAN(fake_network.STA_IF).scan = None  # calling None raises TypeError
        assert wifi.scan() == []
    finally:
        teardown()


def test_save_wifi_keeps_other_keys_and_leaves_no_temp_file():
    path = tmp_path('board-config.json')
    write(path, json.dumps({'hostname': 'porch', 'token': 't0k', 'wifi': {'ssid': 'old', 'x': 1}}))
    try:
        wifi.save_wifi('new net', 'pass word 1', path)
        data = read_json(path)
        assert data['hostname'] == 'porch' and data['token'] == 't0k'
        assert data['wifi'] == {'ssid': 'new net', 'password': 'pass word 1', 'x': 1}
        assert not exists(path + '.tmp')
    finally:
        remove(path)


def test_save_wifi_creates_file_and_keeps_a_malformed_one_aside():
    path = tmp_path('board-config2.json')
    remove(path)
    try:
        wifi.save_wifi('home', '', path)
        assert read_json(path) == {'wifi': {'ssid': 'home', 'password': ''}}
        write(path, '{"hostname": ')
        wifi.save_wifi('home2', 'abcdefgh', path)
        assert read_json(path)['wifi']['ssid'] == 'home2'
        with open(path + '.bad') as f:
            assert f.read() == '{"hostname": '
    finally:
        remove(path)
        remove(path + '.bad')


def test_form_decoding():
    assert wifi.unquote('a+b%20c%2B%C3%A9') == 'a b c+\u00e9'
    assert wifi.unquote('100%') == '100%'
    assert wifi.parse_form('ssid=My+Net&password=p%26w&x') == {'ssid': 'My Net', 'password': 'p&w', 'x': ''}


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
    assert wifi.handle_setup(s, 'camdot-B2C3', [('<b>&net', -50)]) is False
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
        assert wifi.handle_setup(s, 'camdot-B2C3', [], '', path) is True
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
        assert wifi.handle_setup(s, 'camdot-B2C3', [], '', path) is False   # no reset: not saved
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
        (b'PUT / HTTP/1.1\r\n\r\n', 405),
        (b'garbage\r\n\r\n', 400),
        (b'', 400),
        (b'GET / HTTP/1.1\r\n' + b'X: y\r\n' * 40 + b'\r\n', 431),
    ]
    for request, expected in cases:
        s = Stream(request)
        assert wifi.handle_setup(s, 'camdot-B2C3', [], 'the-token', path) is False
        assert s.response()[0] == expected, (request, s.response())
    assert not exists(path)
    s = Stream(post('ssid=home&password=secret123&token=the-token'))
    try:
        assert wifi.handle_setup(s, 'camdot-B2C3', [], 'the-token', path) is True
    finally:
        remove(path)


def test_setup_page_asks_for_token_when_one_is_set():
    s = Stream(b'GET / HTTP/1.1\r\n\r\n')
    wifi.handle_setup(s, 'camdot-B2C3', [], 'the-token')
    assert 'name="token"' in s.response()[2]


def test_other_urls_redirect_to_the_form():
    s = Stream(b'GET /generate_204 HTTP/1.1\r\n\r\n')
    wifi.handle_setup(s, 'camdot-B2C3', [])
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
        assert wifi.serve_setup(Listener(conns), 'camdot-B2C3', [], path=path, timeout_ms=5000) is True
        assert all(c.closed for c in conns)
        assert conns[1].timeout == 5
        assert read_json(path)['wifi']['ssid'] == 'home'
    finally:
        remove(path)


def test_serve_setup_times_out():
    start = ticks_ms()
    assert wifi.serve_setup(Listener([]), 'camdot-B2C3', [], timeout_ms=50) is False
    assert ticks_diff(ticks_ms(), start) < 2000
