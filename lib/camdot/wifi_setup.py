"""The Wi-Fi setup page: on the access point, a form that saves the network to join.

    from camdot import wifi, wifi_setup
    wifi.start_ap('camdot-B2C3')
    if wifi_setup.run_setup('camdot-B2C3', cfg, '/config.json'):   # True once saved
        machine.reset()                                             # and join it

GET / answers the form (the networks camdot.wifi.scan() sees, a device token field when the
config has a token); POST /save checks and saves the network in the config file
(camdot.config.save_section); any other GET is sent to the form (phones probe odd URLs).

It serves one client at a time with blocking sockets, not microdot: it runs in boot.py, before
there is an app or an event loop, and is dropped once boot is done (camdot.board.BOOT_ONLY).
"""
from microdot.microdot import urldecode

from camdot import config
from camdot.compat import const, sleep_ms, ticks_diff, ticks_ms
from camdot.html import escape, page
from camdot.secret import equal
from camdot.wifi import AP_IP, scan

SETUP_TIMEOUT_MS = 300000   # the setup page gives up after 5 min (see camdot.boot_sequence)
CLIENT_TIMEOUT_S = 5        # a client's socket timeout
WRONG_TOKEN_PAUSE_MS = 1000     # after a wrong device token: the setup AP is open to anyone
MAX_BODY = const(1024)      # the form's body
_MAX_REQUEST_LINE = const(256)
_MAX_FIELD_LINE = const(512)
_MAX_FIELDS = const(32)
# What the ESP32 takes (IEEE 802.11: an SSID is 1-32 bytes; WPA2-PSK a passphrase of 8-63).
_SSID_BYTES = const(32)
_WPA_MIN = const(8)
_WPA_MAX = const(63)

_STYLE = ('body{font-family:sans-serif;max-width:28em;margin:1em auto;padding:0 1em}'
          'input,button{font-size:1.1em;width:100%;margin:.3em 0}')
_FORM = """<h1>%s</h1><p>Connect this camera to your Wi-Fi.</p>
<form method="post" action="/save">
<label>Network<input name="ssid" list="nets" required maxlength="32"></label>
<datalist id="nets">%s</datalist>
<label>Password<input name="password" type="password" maxlength="63"></label>%s
<button>Save and restart</button></form><p>%s</p>"""
_TOKEN_FIELD = '<label>Device token<input name="token" type="password"></label>'


def log(msg):
    print('camdot wifi setup:', msg)


def parse_form(body):
    """An application/x-www-form-urlencoded body (str) -> {name: value}; ValueError (or
    UnicodeError, a ValueError) for a malformed one."""
    form = {}
    for pair in body.split('&'):
        if pair:
            key, _, value = pair.partition('=')
            form[urldecode(key)] = urldecode(value)
    return form


def setup_page(name, networks, need_token, note=''):
    """The form for the device `name`, listing `networks` ([(ssid, rssi)]), with a note."""
    options = ''.join('<option value="%s">%s (%d dBm)</option>' % (escape(n), escape(n), rssi)
                      for n, rssi in networks)
    body = _FORM % (escape(name), options, _TOKEN_FIELD if need_token else '', escape(note))
    return page(name + ' setup', body, _STYLE)


def _respond(stream, status, body, ctype='text/html; charset=utf-8', extra=''):
    data = body.encode()
    stream.write(('HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n'
                  'Cache-Control: no-store\r\nConnection: close\r\n%s\r\n'
                  % (status, ctype, len(data), extra)).encode())
    stream.write(data)


def _token_ok(given, token):
    # Constant time, and a pause after a wrong one: the setup AP is open to anyone in range.
    if equal(given, token):
        return True
    sleep_ms(WRONG_TOKEN_PAUSE_MS)
    return False


class _Refused(Exception):
    """A request answered with an error at once: (status line, text)."""


def _read_head(stream):
    # (method, target, Content-Length or -1 when malformed); _Refused for a bad head.
    line = stream.readline(_MAX_REQUEST_LINE)
    parts = line.decode('utf-8', 'replace').split() if line else []
    if len(parts) != 3 or not parts[2].startswith('HTTP/'):
        raise _Refused('400 Bad Request', 'bad request')
    length = 0
    for _ in range(_MAX_FIELDS):
        field = stream.readline(_MAX_FIELD_LINE)
        if not field or field in (b'\r\n', b'\n'):
            return parts[0], parts[1], length
        key, _, value = field.decode('utf-8', 'replace').partition(':')
        if key.strip().lower() == 'content-length':
            try:
                length = int(value.strip())
            except ValueError:
                length = -1
    raise _Refused('431 Request Header Fields Too Large', 'too many headers')


def _problem(form, token):
    # What is wrong with the form: (status, message), or None.
    if form is None:
        return '400 Bad Request', 'the form could not be read; please send it again'
    ssid = form.get('ssid', '')
    password = form.get('password', '')
    if token and not _token_ok(form.get('token', ''), token):
        return '403 Forbidden', 'wrong device token'
    if not 1 <= len(ssid.encode()) <= _SSID_BYTES:
        return '400 Bad Request', 'the network name must be 1 to 32 bytes'
    if password and not _WPA_MIN <= len(password) <= _WPA_MAX:
        return '400 Bad Request', 'a WPA password has 8 to 63 characters'
    return None


def handle_setup(stream, name, networks, token='', path=config.BOARD_PATH):
    """Serve one HTTP request of the setup page on `stream` (readline/read/write).

    Returns True once Wi-Fi credentials were saved (the caller then reboots).
    GET / -> the form; POST /save -> validate and save; anything else -> a redirect to / or an error.
    """
    try:
        method, target, length = _read_head(stream)
    except _Refused as exc:
        _respond(stream, exc.args[0], exc.args[1], 'text/plain')
        return False
    if method == 'GET':
        if target.split('?')[0] == '/':
            _respond(stream, '200 OK', setup_page(name, networks, bool(token)))
        else:  # phones probe odd URLs: send them to the form
            _respond(stream, '302 Found', '', 'text/plain', 'Location: http://%s/\r\n' % AP_IP)
        return False
    if method != 'POST' or target != '/save':
        _respond(stream, '405 Method Not Allowed', 'only GET / and POST /save', 'text/plain')
        return False
    if length < 0 or length > MAX_BODY:
        _respond(stream, '413 Payload Too Large', 'form too large', 'text/plain')
        return False
    body = b''
    while len(body) < length:
        chunk = stream.read(length - len(body))
        if not chunk:
            break
        body += chunk
    try:
        form = parse_form(body.decode())
    except ValueError:     # (UnicodeError too)
        form = None
    problem = _problem(form, token)
    if problem:
        _respond(stream, problem[0], setup_page(name, networks, bool(token), problem[1]))
        return False
    ssid = form.get('ssid', '')
    try:
        config.save_section(path, 'wifi', {'ssid': ssid, 'password': form.get('password', '')})
    except OSError as exc:   # a full or failing flash: the old file is intact; say so, stay up
        log('could not save %s (the old file is kept): %r' % (path, exc))
        _respond(stream, '500 Internal Server Error', setup_page(
            name, networks, bool(token), 'Could not save the settings (is the flash full?): %s'
            % exc))
        return False
    log('saved Wi-Fi %r in %s' % (ssid, path))
    _respond(stream, '200 OK', page(name + ' setup', '<p>Saved. %s restarts and joins %s; find '
                                    'it there as http://%s.local/ or by its address.</p>'
                                    % (escape(name), escape(ssid), escape(name))))
    return True


def serve_setup(sock, name, networks, token='', path=config.BOARD_PATH,
                timeout_ms=SETUP_TIMEOUT_MS, client_timeout=CLIENT_TIMEOUT_S):
    """Serve the setup page on a listening socket until credentials are saved (True) or
    `timeout_ms` passes (False). One client at a time, each with a socket timeout."""
    sock.settimeout(1)     # accept() wakes up each second to check the deadline
    start = ticks_ms()
    while ticks_diff(ticks_ms(), start) < timeout_ms:
        try:
            conn, _ = sock.accept()
        except OSError:
            continue  # accept timed out: check the deadline
        saved = False
        try:
            conn.settimeout(client_timeout)
            stream = conn.makefile('rwb')
            saved = handle_setup(stream, name, networks, token, path)
            if hasattr(stream, 'flush'):
                stream.flush()
        except Exception as exc:  # a broken client must not stop the setup page
            log('setup request failed: %r' % exc)
        finally:
            conn.close()
        if saved:
            return True
    return False


def run_setup(name, cfg, path=config.BOARD_PATH, port=80, timeout_ms=SETUP_TIMEOUT_MS):
    """Listen on `port` and serve the setup page (see serve_setup) with `cfg`'s device token;
    True once the network is saved."""
    import socket
    networks = scan()
    sock = socket.socket()
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(socket.getaddrinfo('0.0.0.0', port)[0][-1])
        sock.listen(2)
        log('setup page: join Wi-Fi %r, open http://%s/' % (name, AP_IP))
        return serve_setup(sock, name, networks, cfg.get('token') or '', path, timeout_ms)
    finally:
        sock.close()
