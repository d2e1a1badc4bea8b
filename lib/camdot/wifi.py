"""Wi-Fi for boot: join the configured network, else an access point with the setup page.

    from camdot import wifi
    ip = wifi.connect_station('home', 'secret')       # None after bounded retries
    wifi.start_ap('camdot-B2C3'); wifi.run_setup('camdot-B2C3', cfg)   # True once saved

Used by camdot.board.boot(), which drops this module afterwards. `network` is imported only when a
function needs it (tests put a fake in sys.modules).
"""
import json

from camdot import atomic
from camdot.compat import sleep_ms, ticks_diff, ticks_ms
from camdot.config import BOARD_PATH as CONFIG_PATH

AP_IP = '192.168.4.1'       # ESP32 soft-AP default address
SETUP_TIMEOUT_MS = 300000   # the setup page gives up after 5 min (see camdot.board.boot())


def log(msg):
    print('camdot wifi:', msg)


def ap_name(mac):
    """'camdot-XXXX' from the last two bytes of the MAC."""
    return 'camdot-%02X%02X' % (mac[-2], mac[-1])


def set_hostname(name):
    import network
    try:
        network.hostname(name)
        return True
    except Exception as exc:
        log('hostname %r refused: %r' % (name, exc))
        return False


def _ip(wlan):
    return wlan.ifconfig()[0]


def connect_station(ssid, password, timeout_ms=15000, retries=3, poll_ms=100):
    """Join `ssid`; return the IP address, or None after `retries` bounded attempts."""
    import network
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if wlan.isconnected():
        # A soft reset keeps the link: reuse it only if it is the network we want.
        if wlan.config('ssid') == ssid:
            return _ip(wlan)
        wlan.disconnect()
    wrong_password = getattr(network, 'STAT_WRONG_PASSWORD', None)
    for attempt in range(1, retries + 1):
        log('joining %r (attempt %d of %d)' % (ssid, attempt, retries))
        try:
            wlan.connect(ssid, password)
        except OSError as exc:
            log('connect failed: %r' % exc)
            sleep_ms(poll_ms)
            continue
        start = ticks_ms()
        status = None
        while ticks_diff(ticks_ms(), start) < timeout_ms:
            if wlan.isconnected():
                ip = _ip(wlan)
                log('connected to %r as %s' % (ssid, ip))
                return ip
            status = wlan.status()
            if status == wrong_password:
                break
            sleep_ms(poll_ms)
        log('not connected (status %r)' % (status,))
        try:
            wlan.disconnect()
        except OSError:
            pass
        if status == wrong_password:
            log('wrong password for %r: no retry' % ssid)
            break
    wlan.active(False)
    return None


def start_ap(name):
    """Open access point `name` (for the setup page only); returns the AP's WLAN."""
    import network
    ap = network.WLAN(network.AP_IF)
    ap.active(True)
    ap.config(ssid=name, security=network.AUTH_OPEN)
    return ap


def _text(raw):
    try:
        return raw.decode()
    except UnicodeError:
        return ''


def scan(limit=12):
    """Visible networks as [(ssid, rssi)], strongest first, names unique; [] on any error."""
    import network
    try:
        wlan = network.WLAN(network.STA_IF)
        wlan.active(True)
        found = wlan.scan()
    except Exception as exc:
        log('scan failed: %r' % exc)
        return []
    # weakest first, so the strongest entry of a name is the one the dict keeps
    best = {_text(e[0]): e[3] for e in sorted(found, key=lambda e: e[3])}
    best.pop('', None)
    out = sorted(best.items(), key=lambda item: -item[1])
    return out[:limit]


# ---- config ----

def save_wifi(ssid, password, path=CONFIG_PATH):
    """Store the Wi-Fi credentials in the config file atomically, keeping every other key.

    camdot.atomic writes it, so a power cut or a full flash leaves the old file or the new one,
    never half of one; OSError when it could not be saved. A malformed existing file is kept as
    path + '.bad'.
    """
    data = {}  # type: dict
    try:
        text = atomic.read(path)
        data = json.loads(text) if text is not None else {}
        if not isinstance(data, dict):
            raise ValueError('not an object')
    except ValueError:
        log('%s is malformed; kept as %s.bad' % (path, path))
        atomic.rename(path, path + '.bad')
        data = {}
    wifi = data.get('wifi')
    wifi = dict(wifi) if isinstance(wifi, dict) else {}
    wifi['ssid'] = ssid
    wifi['password'] = password
    data['wifi'] = wifi
    atomic.write(path, json.dumps(data))


# ---- the setup page ----

def unquote(text):
    """application/x-www-form-urlencoded value -> str."""
    text = text.replace('+', ' ')
    if '%' not in text:
        return text
    parts = text.split('%')
    out = bytearray(parts[0].encode())
    for part in parts[1:]:
        try:
            out.append(int(part[:2], 16))
            out.extend(part[2:].encode())
        except ValueError:
            out.extend(('%' + part).encode())
    return out.decode()


def parse_form(body):
    form = {}
    for pair in body.split('&'):
        if pair:
            key, _, value = pair.partition('=')
            form[unquote(key)] = unquote(value)
    return form


def escape(text):
    return (text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
            .replace('"', '&quot;'))


SETUP_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>%s setup</title>
<style>body{font-family:sans-serif;max-width:28em;margin:1em auto;padding:0 1em}
input,button{font-size:1.1em;width:100%%;margin:.3em 0}</style></head><body>
<h1>%s</h1><p>Connect this camera to your Wi-Fi.</p>
<form method="post" action="/save">
<label>Network<input name="ssid" list="nets" required maxlength="32"></label>
<datalist id="nets">%s</datalist>
<label>Password<input name="password" type="password" maxlength="63"></label>%s
<button>Save and restart</button></form><p>%s</p></body></html>"""

MAX_BODY = 1024


def setup_page(name, networks, need_token, note=''):
    options = ''.join('<option value="%s">%s (%d dBm)</option>' % (escape(n), escape(n), rssi)
                      for n, rssi in networks)
    token = '<label>Device token<input name="token" type="password"></label>' if need_token else ''
    return SETUP_PAGE % (escape(name), escape(name), options, token, escape(note))


def _respond(stream, status, body, ctype='text/html; charset=utf-8', extra=''):
    data = body.encode()
    stream.write(('HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n'
                  'Cache-Control: no-store\r\nConnection: close\r\n%s\r\n'
                  % (status, ctype, len(data), extra)).encode())
    stream.write(data)


def _token_ok(given, token):
    # Constant time, and a second's pause after a wrong one: the setup AP is open to anyone in range.
    from camdot.secret import equal
    if equal(given, token):
        return True
    sleep_ms(1000)
    return False


def handle_setup(stream, name, networks, token='', path=CONFIG_PATH):
    """Serve one HTTP request of the setup page on `stream` (readline/read/write).

    Returns True once Wi-Fi credentials were saved (the caller then reboots).
    GET / -> the form; POST /save -> validate and save; anything else -> a redirect to / or an error.
    """
    line = stream.readline(256)
    parts = line.decode('utf-8', 'replace').split() if line else []
    if len(parts) != 3 or not parts[2].startswith('HTTP/'):
        _respond(stream, '400 Bad Request', 'bad request', 'text/plain')
        return False
    method, target = parts[0], parts[1]
    length = 0
    for _ in range(32):  # headers: bounded count and size
        header = stream.readline(512)
        if not header or header in (b'\r\n', b'\n'):
            break
        key, _, value = header.decode('utf-8', 'replace').partition(':')
        if key.strip().lower() == 'content-length':
            try:
                length = int(value.strip())
            except ValueError:
                length = -1
    else:
        _respond(stream, '431 Request Header Fields Too Large', 'too many headers', 'text/plain')
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
    except UnicodeError:
        form = {}
    ssid = form.get('ssid', '')
    password = form.get('password', '')
    error = None
    if token and not _token_ok(form.get('token', ''), token):
        status, error = '403 Forbidden', 'wrong device token'
    elif not 1 <= len(ssid.encode()) <= 32:
        status, error = '400 Bad Request', 'the network name must be 1 to 32 bytes'
    elif password and not 8 <= len(password) <= 63:
        status, error = '400 Bad Request', 'a WPA password has 8 to 63 characters'
    if error:
        _respond(stream, status, setup_page(name, networks, bool(token), error))
        return False
    try:
        save_wifi(ssid, password, path)
    except OSError as exc:   # a full or failing flash: the old file is intact; say so, stay up
        log('could not save %s (the old file is kept): %r' % (path, exc))
        _respond(stream, '500 Internal Server Error', setup_page(
            name, networks, bool(token), 'Could not save the settings (is the flash full?): %s'
            % exc))
        return False
    log('saved Wi-Fi %r in %s' % (ssid, path))
    _respond(stream, '200 OK', '<!doctype html><meta charset="utf-8"><p>Saved. %s restarts and '
             'joins %s; find it there as http://%s.local/ or by its address.</p>'
             % (escape(name), escape(ssid), escape(name)))
    return True


def serve_setup(sock, name, networks, token='', path=CONFIG_PATH, timeout_ms=SETUP_TIMEOUT_MS,
                client_timeout=5):
    """Serve the setup page on a listening socket until credentials are saved (True) or
    `timeout_ms` passes (False). One client at a time, each with a socket timeout."""
    sock.settimeout(1)
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


def run_setup(name, cfg, path=CONFIG_PATH, port=80, timeout_ms=SETUP_TIMEOUT_MS):
    """Listen on `port` and serve the setup page (see serve_setup)."""
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
