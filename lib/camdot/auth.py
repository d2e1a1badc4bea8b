"""Who may talk to the device: Host and Origin checks, optional token auth with a login page.

    from camdot import auth
    auth.install(app, config)    # before_request hooks; token auth only when config['token'] is set

- Host check (DNS rebinding): the Host header must be an IP literal, localhost, the device's hostname
  (or hostname.local) or a name in config 'allowed_hosts' ('*' turns the check off). Loopback clients
  are exempt: they exist only on the unix port (development, in-process test clients).
- Origin check (cross-site WebSocket hijacking, CSRF): WebSocket upgrades and unsafe methods that carry
  an Origin header must come from the same origin (Origin host:port == Host) or one listed in config
  'allowed_origins' ('*' allows any). No Origin header (a program, not a browser) is allowed.
  CameraWebServer's GET /control changes settings, so a browser request to it from another site
  (Sec-Fetch-Site cross-site/same-site, e.g. an <img> on a web page) is refused unless its Origin
  is allowed.
  A route's `Access-Control-Allow-Origin: *` is narrowed to the allowed origins.
- Token (config 'token'; camdot.login, imported only then): every route but /login and /logout
  needs `Authorization: Bearer <token>` (or Basic with the token as password, for MJPEG players), or
  the session cookie the login page sets.
  Failures get 401 + `WWW-Authenticate: Bearer`; a browser asking for HTML gets the login form as the
  401 body. After 5 wrong tokens from one address it gets 429 for 30 s. The token is never logged.
"""
import hashlib

UNSAFE = ('POST', 'PUT', 'PATCH', 'DELETE')
# GETs that change the camera (CameraWebServer's API): a cross-site <img> must not reach them.
CHANGING_GETS = ('/control',)


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


def same_site(request, allowed=()):
    """False for a browser request made by another site's page (an <img> or link to /control).

    Browsers say where a request comes from in Sec-Fetch-Site; programs send no such header. A
    cross-site fetch() carries an Origin, which may be allowed by config; an <img> carries none.
    """
    site = request.headers.get('Sec-Fetch-Site')
    if site is None or site == 'same-origin' or site == 'none':
        return True
    return request.headers.get('Origin') is not None and origin_allowed(request, allowed)


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
        if request.path in CHANGING_GETS and not same_site(request, origins):
            return 'Cross-site request refused; see "allowed_origins" in the config.', 403
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
    from camdot.login import TokenAuth  # ~9 KB of RAM that a device without a token doesn't need
    guard = TokenAuth(token, config.get('hostname', 'camdot'))
    app.before_request(guard.before_request)
    app.route('/login', methods=['GET', 'POST'])(guard.login)
    app.route('/logout', methods=['POST'])(guard.logout)
    return guard
