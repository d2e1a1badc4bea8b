"""Who may talk to the device: Host and Origin checks, optional token auth with a login page.

    from camdot import auth
    auth.install(app, config)    # before_request hooks; token auth only when config['token'] is set

- Host check (DNS rebinding): the Host header must be an IP literal, localhost, the device's hostname
  (or hostname.local) or a name in config 'allowed_hosts' ('*' turns the check off). Loopback clients
  are exempt: they exist only on the unix port (development, in-process test clients).
- Origin check (cross-site WebSocket hijacking, CSRF): WebSocket upgrades and unsafe methods that carry
  an Origin header must come from the same origin (Origin host:port == Host) or one listed in config
  'allowed_origins' ('*' allows any). No Origin header (a program, not a browser) is allowed.
  A route's `Access-Control-Allow-Origin: *` is narrowed to the allowed origins.
- Token (config 'token'): every route but /login and /logout needs `Authorization: Bearer <token>`
  (or Basic with the token as password, for MJPEG players), or the session cookie the login page sets.
  Failures get 401 + `WWW-Authenticate: Bearer`; a browser asking for HTML gets the login form as the
  401 body. After 5 wrong tokens from one address it gets 429 for 30 s. The token is never logged.
"""
import binascii
import hashlib
import os

from microdot import Response

from camdot.compat import ticks_diff, ticks_ms

COOKIE = 'camdot'
OPEN_PATHS = ('/login', '/logout')
UNSAFE = ('POST', 'PUT', 'PATCH', 'DELETE')


def digest(value):
    """SHA-256 of a str/bytes: what the device keeps instead of secrets."""
    if isinstance(value, str):
        value = value.encode()
    return hashlib.sha256(value).digest()


def equal(a, b):
    """Constant-time comparison of two secrets (str or bytes).

    Both sides are hashed first, so the time depends neither on where they differ nor on their
    lengths; the XOR-accumulate has no early exit. Same code on both runtimes.
    """
    return same_digest(digest(a), digest(b))


def same_digest(a, b):
    """Compare two 32-byte digests without an early exit."""
    acc = 0
    for i in range(32):
        acc |= a[i] ^ b[i]
    return acc == 0


def client_ip(request):
    """The client's address without the port (the unix port gives a raw sockaddr)."""
    addr = request.client_addr
    if isinstance(addr, (tuple, list)):
        return addr[0]
    if isinstance(addr, (bytes, bytearray)) and len(addr) >= 8:
        return bytes(addr[4:8])  # sockaddr_in: family(2) port(2) address(4)
    return addr


def is_loopback(ip):
    if isinstance(ip, bytes):
        return ip[:1] == b'\x7f'
    return isinstance(ip, str) and (ip.startswith('127.') or ip == '::1')


def split_hostport(value, default_port=None):
    """'Host:port' / '[v6]:port' -> (host lowercased, port or default_port); None when malformed."""
    value = value.strip().lower()
    if value.startswith('['):
        end = value.find(']')
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1:]
    else:
        i = value.find(':')
        host, rest = (value, '') if i < 0 else (value[:i], value[i:])
    if not host or '/' in host or '@' in host:
        return None
    if rest:
        if rest[0] != ':' or not rest[1:].isdigit():
            return None
        return host, int(rest[1:])
    return host, default_port


def parse_origin(origin):
    """'http://host:port' -> (host, port) with the scheme's default port; None when malformed."""
    for scheme, port in (('http://', 80), ('https://', 443)):
        if origin.lower().startswith(scheme):
            return split_hostport(origin[len(scheme):], port)
    return None


def is_ip_literal(host):
    if ':' in host:  # IPv6 (already out of its brackets)
        return True
    parts = host.split('.')
    return len(parts) == 4 and all(p.isdigit() for p in parts)


def host_allowed(request, names):
    """True when the Host header names this device (see the module docstring)."""
    if '*' in names or is_loopback(client_ip(request)):
        return True
    value = request.headers.get('Host')
    if value is None:  # HTTP/1.0 programs
        return True
    hp = split_hostport(value)
    if hp is None:
        return False
    host = hp[0]
    if host.endswith('.'):
        host = host[:-1]
    return is_ip_literal(host) or host in names


def origin_allowed(request, allowed=()):
    """True when the request's Origin (if any) is the device's own or in `allowed`.

    Same origin means the Origin's host:port equals the Host header's (a Host without a port takes
    the Origin scheme's default, so a TLS proxy in front of the device still matches).
    """
    origin = request.headers.get('Origin')
    if origin is None:
        return True  # not a browser
    if '*' in allowed:
        return True
    o = parse_origin(origin)
    if o is not None:
        for entry in allowed:
            if parse_origin(entry) == o:
                return True
        host = request.headers.get('Host')
        if host is not None and split_hostport(host, o[1]) == o:
            return True
    return origin in allowed  # e.g. an explicit 'null'


def is_upgrade(request):
    return 'websocket' in request.headers.get('Upgrade', '').lower()


def _names(config):
    """The host names the Host check accepts, from the config."""
    name = config.get('hostname', '').lower()
    names = ['localhost']
    if name:
        names += [name, name + '.local']
    for h in config.get('allowed_hosts', ()):
        names.append(h.lower())
    for o in config.get('allowed_origins', ()):
        hp = parse_origin(o)
        if hp:
            names.append(hp[0])
    return names


class Throttle:
    """Failed attempts per client address, in a bounded table.

        t = Throttle(); t.failed(ip); t.wait(ip) -> ms to wait (0: may try); t.succeeded(ip)

    After `limit` failures in a row an address may try once per `lockout_ms`. The table keeps
    `size` addresses; a new one pushes out the one that failed longest ago.
    """

    def __init__(self, limit=5, lockout_ms=30000, size=16, clock=ticks_ms):
        self.limit = limit
        self.lockout_ms = lockout_ms
        self.size = size
        self.clock = clock
        self.table = {}  # ip -> [failures, ticks of the last failure]

    def wait(self, ip):
        e = self.table.get(ip)
        if e is None or e[0] < self.limit:
            return 0
        left = self.lockout_ms - ticks_diff(self.clock(), e[1])
        return left if left > 0 else 0

    def failed(self, ip):
        e = self.table.get(ip)
        if e is None:
            if len(self.table) >= self.size:
                oldest = None
                for k, v in self.table.items():
                    if oldest is None or ticks_diff(v[1], self.table[oldest][1]) < 0:
                        oldest = k
                del self.table[oldest]
            e = self.table[ip] = [0, 0]
        e[0] += 1
        e[1] = self.clock()

    def succeeded(self, ip):
        self.table.pop(ip, None)


class Sessions:
    """Browser sessions: random ids handed out as cookies; only their hashes are kept.

        sid = sessions.new(); sessions.valid(sid) -> bool; sessions.drop(sid)

    At most `size` live sessions: a new login pushes out the oldest. A reboot ends them all.
    """

    def __init__(self, size=8):
        self.size = size
        self.ids = []  # SHA-256 of each live id, oldest first

    def new(self):
        sid = binascii.hexlify(os.urandom(16)).decode()
        self.ids.append(digest(sid))
        if len(self.ids) > self.size:
            self.ids.pop(0)
        return sid

    def valid(self, sid):
        # comparing hashes: a timing difference says nothing about the id itself
        return bool(sid) and digest(sid) in self.ids

    def drop(self, sid):
        d = digest(sid or '')
        if d in self.ids:
            self.ids.remove(d)


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>%s - log in</title></head>
<body><h1>%s</h1><form method="post" action="/login"><p>%s</p>
<input type="hidden" name="next" value="%s">
<label>Token <input type="password" name="token" autofocus required></label>
<button>Log in</button></form></body></html>
"""
HTML = {'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store'}


def safe_next(path):
    """A local path to go back to after the login (never another site: no '//', no scheme)."""
    if not path or path[0] != '/' or path[1:2] in ('/', '\\') or '\r' in path or '\n' in path:
        return '/'
    return path


def _escape(text):
    return text.replace('&', '&amp;').replace('"', '&quot;').replace('<', '&lt;').replace('>', '&gt;')


class TokenAuth:
    """The token check: a before_request hook plus the /login and /logout routes."""

    realm = 'camdot'

    def __init__(self, token, title='camdot', throttle=None, sessions=None):
        self.key = digest(token)  # the token itself is not kept
        self.title = _escape(title)
        self.throttle = throttle or Throttle()
        self.sessions = sessions or Sessions()

    def credential(self, request):
        """The token the request presents in Authorization (Bearer, or Basic password), or None."""
        value = request.headers.get('Authorization')
        if not value:
            return None
        scheme, _, value = value.strip().partition(' ')
        scheme = scheme.lower()
        if scheme == 'bearer':
            return value.strip()
        if scheme == 'basic':
            try:
                return binascii.a2b_base64(value.strip()).decode().partition(':')[2]
            except Exception:  # malformed base64/UTF-8: treat as a wrong token
                return ''
        return None

    def check_token(self, token):
        return same_digest(digest(token), self.key)

    def page(self, request, message, status=401, next_path=None):
        body = LOGIN_PAGE % (self.title, self.title, message,
                             _escape(safe_next(next_path or request.url)))
        headers = dict(HTML)
        if status == 401:
            headers['WWW-Authenticate'] = 'Bearer realm="%s"' % self.realm
        return body, status, headers

    def refuse(self, request, status, message, wait_ms=0):
        if status == 429:
            headers = {'Retry-After': str(wait_ms // 1000 + 1)}
        else:
            headers = {'WWW-Authenticate': 'Bearer realm="%s"' % self.realm}
        if (request.method == 'GET' and not is_upgrade(request)
                and 'text/html' in request.headers.get('Accept', '')):
            res = self.page(request, message, status)
            res[2].update(headers)
            return res
        return message, status, headers

    # The hooks are coroutines: microdot runs plain functions in a thread pool on CPython.
    async def before_request(self, request):
        if request.path in OPEN_PATHS:
            return None
        if self.sessions.valid(request.cookies.get(COOKIE)):
            return None
        token = self.credential(request)
        if token is None:
            return self.refuse(request, 401, 'Log in to use this device.')
        ip = client_ip(request)
        wait = self.throttle.wait(ip)
        if wait:
            return self.refuse(request, 429, 'Too many wrong tokens; try again later.', wait)
        if self.check_token(token):
            self.throttle.succeeded(ip)
            return None
        self.throttle.failed(ip)
        return self.refuse(request, 401, 'Wrong token.')

    async def login(self, request):
        if request.method == 'GET':
            return self.page(request, 'This device needs its token.', 200,
                             request.args.get('next', '/'))
        try:
            form = request.form or {}
            token = form.get('token', '')
            next_path = form.get('next', '/')
        except Exception:  # a malformed form body
            return 'Bad form', 400
        ip = client_ip(request)
        wait = self.throttle.wait(ip)
        if wait:
            res = self.page(request, 'Too many wrong tokens; try again later.', 429, next_path)
            res[2]['Retry-After'] = str(wait // 1000 + 1)
            return res
        if not token or not self.check_token(token):
            if token:
                self.throttle.failed(ip)
            return self.page(request, 'Wrong token.', 401, next_path)
        self.throttle.succeeded(ip)
        sid = self.sessions.new()
        return Response(status_code=303, headers={
            'Location': safe_next(next_path), 'Cache-Control': 'no-store',
            'Set-Cookie': [COOKIE + '=' + sid + '; Path=/; HttpOnly; SameSite=Strict']})

    async def logout(self, request):
        self.sessions.drop(request.cookies.get(COOKIE))
        return Response(status_code=303, headers={
            'Location': '/login', 'Cache-Control': 'no-store',
            'Set-Cookie': [COOKIE + '=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0']})


def install(app, config):
    """Add the Host/Origin checks and, when config['token'] is set, the token auth to `app`.

    Returns the TokenAuth object, or None when no token is configured. Install it before other
    before_request hooks (the limits), so a refused client never takes a viewer slot.
    """
    names = _names(config)
    origins = config.get('allowed_origins', [])

    async def check_host_and_origin(request):
        if not host_allowed(request, names):
            return 'Unknown Host; add it to "allowed_hosts" in the config.', 403
        if (request.method in UNSAFE or is_upgrade(request)) and not origin_allowed(request, origins):
            return 'Cross-origin request refused; see "allowed_origins" in the config.', 403
        return None

    app.before_request(check_host_and_origin)

    async def cors(request, response):
        # '*' (CameraWebServer's habit) would let scripts on any web page read the camera: keep
        # it only for origins this device allows.
        if response.headers.get('Access-Control-Allow-Origin') == '*' and '*' not in origins:
            origin = request.headers.get('Origin')
            if origin and origin_allowed(request, origins):
                response.headers['Access-Control-Allow-Origin'] = origin
                response.headers['Vary'] = 'Origin'
            else:
                del response.headers['Access-Control-Allow-Origin']
        return response

    app.after_request(cors)
    token = config.get('token')
    if not token:
        return None
    guard = TokenAuth(token, config.get('hostname', 'camdot'))
    app.before_request(guard.before_request)
    app.route('/login', methods=['GET', 'POST'])(guard.login)
    app.route('/logout', methods=['POST'])(guard.logout)
    return guard
