"""Which hosts and origins may talk to the device: the Host check, the Origin check, CORS.

    from camdot import origins
    origins.install(app, config)   # first: before the login and the budgets (camdot.app)

- Host check (DNS rebinding): the Host header must be an IP literal, localhost, the device's hostname
  (or hostname.local) or a name in config 'allowed_hosts' ('*' turns the check off). Loopback clients
  are exempt: they exist only on the unix port (development, in-process test clients).
- Origin check (cross-site WebSocket hijacking, CSRF): WebSocket upgrades and unsafe methods that carry
  an Origin header must come from the same origin (Origin host:port == Host) or one listed in config
  'allowed_origins' ('*' allows any). No Origin header (a program, not a browser) is allowed.
  CameraWebServer's GET /control changes settings, so a browser request to it from another site
  (Sec-Fetch-Site cross-site/same-site, e.g. an <img> on a web page) is refused unless its Origin
  is allowed.
- CORS for 'allowed_origins', so that a page served elsewhere (a dashboard) can use the API with
  fetch(). A preflight (OPTIONS with Access-Control-Request-Method) from an allowed origin is
  answered with Access-Control-Allow-Origin (that origin), -Methods (the method it asked for, if
  the route takes it), -Headers (those it asked for among Content-Type and Authorization), -Max-Age
  and, when the device has a token, -Credentials (a session cookie may go along). Every response
  to an allowed origin carries Access-Control-Allow-Origin, and -Credentials when a token is set
  and the request carries cookies (a credentialed fetch: the page may then read the answer, a 401
  included). An unlisted origin gets none of these; a route's own `Access-Control-Allow-Origin: *`
  (CameraWebServer's habit) is dropped, as it would let any web page read the camera. With
  'allowed_origins' set, every response says `Vary: Origin`.

microdot.cors is not used: it matches origins as exact strings, allows one global list of methods
(not what the route takes), and sends -Credentials to every allowed origin or to none.
"""
from microdot import Response

from camdot.http11 import client_ip, is_upgrade

UNSAFE = ('POST', 'PUT', 'PATCH', 'DELETE')
# GETs that change the camera (CameraWebServer's API): a cross-site <img> must not reach them.
CHANGING_GETS = ('/control',)
# What a cross-origin page may send: JSON bodies and the token.
CORS_HEADERS = ('content-type', 'authorization')
CORS_MAX_AGE = '600'    # seconds a browser may keep a preflight's answer


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
    """'http://host:port' -> (scheme, host, port) with the scheme's default port; None when
    malformed."""
    for scheme, port in (('http', 80), ('https', 443)):
        if origin[:len(scheme) + 3].lower() == scheme + '://':
            hp = split_hostport(origin[len(scheme) + 3:], port)
            return None if hp is None else (scheme,) + hp
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


def listed(origin, allowed):
    """True when `origin` (an Origin header) is one of `allowed` ('*': any), compared as origins
    (scheme, host and port, case and default ports aside)."""
    if '*' in allowed:
        return True
    o = parse_origin(origin)
    if o is not None:
        for entry in allowed:
            if parse_origin(entry) == o:
                return True
    return origin in allowed  # e.g. an explicit 'null'


def origin_allowed(request, allowed=()):
    """True when the request's Origin (if any) is the device's own or in `allowed`.

    Same origin means the Origin's host:port equals the Host header's (a Host without a port takes
    the Origin scheme's default, so a TLS proxy in front of the device still matches).
    """
    origin = request.headers.get('Origin')
    if origin is None:
        return True  # not a browser
    if listed(origin, allowed):
        return True
    o = parse_origin(origin)
    host = request.headers.get('Host')
    return o is not None and host is not None and split_hostport(host, o[2]) == o[1:]


def _names(config):
    """The host names the Host check accepts, from the config."""
    name = config.get('hostname', '').lower()
    names = ['localhost']
    if name:
        names += [name, name + '.local']
    for h in config.get('allowed_hosts', ()):
        names.append(h.lower())
    for o in config.get('allowed_origins', ()):
        o = parse_origin(o)
        if o:
            names.append(o[1])
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


class CORS:
    """CORS headers for the origins in `allowed` (see the module docstring).

        cors = CORS(['http://dash.lan:3000'], credentials=True)
        cors.install(app)     # the preflight answer and an after-request hook
    """

    def __init__(self, allowed, credentials=False):
        self.allowed = allowed
        self.credentials = credentials   # a session cookie may authenticate (a token is set)

    def install(self, app):
        self.default_options = app.options_handler
        app.options_handler = self.preflight
        app.after_request(self.after_request)
        # microdot answers OPTIONS, errors and refused requests without after_request hooks
        app.after_error_request(self.after_request)

    def origin(self, request):
        """The request's Origin when it is allowed, else None."""
        origin = request.headers.get('Origin')
        return origin if origin is not None and listed(origin, self.allowed) else None

    def preflight(self, request):
        """microdot's options_handler: its Allow header, and the preflight's answer."""
        headers = self.default_options(request)
        method = request.headers.get('Access-Control-Request-Method')
        if method is None or self.origin(request) is None:
            return headers
        if method in [m.strip() for m in headers.get('Allow', '').split(',')]:
            headers['Access-Control-Allow-Methods'] = method
        asked = request.headers.get('Access-Control-Request-Headers')
        if asked:
            ok = [h.strip() for h in asked.split(',') if h.strip().lower() in CORS_HEADERS]
            if ok:
                headers['Access-Control-Allow-Headers'] = ', '.join(ok)
        headers['Access-Control-Max-Age'] = CORS_MAX_AGE
        if self.credentials:
            headers['Access-Control-Allow-Credentials'] = 'true'
        return headers

    async def after_request(self, request, response):
        if request is None or response is Response.already_handled:
            return response
        h = response.headers
        origin = self.origin(request)
        if origin is None:
            # a route's '*' would let scripts on any web page read the camera
            if 'Access-Control-Allow-Origin' in h and '*' not in self.allowed:
                del h['Access-Control-Allow-Origin']
        else:
            h['Access-Control-Allow-Origin'] = origin
            if self.credentials and 'Cookie' in request.headers:
                h['Access-Control-Allow-Credentials'] = 'true'
        if self.allowed:
            vary = h.get('Vary')
            if not vary:
                h['Vary'] = 'Origin'
            elif 'origin' not in vary.lower():
                h['Vary'] = vary + ', Origin'
        return response


def install(app, config):
    """Add the Host and Origin checks and CORS for config['allowed_origins'] to `app`.

    Install it before other before_request hooks (login, limits), so a refused client never
    takes a viewer slot. Returns the CORS object.
    """
    names = _names(config)
    allowed = config.get('allowed_origins', [])

    async def check_host_and_origin(request):
        if not host_allowed(request, names):
            return 'Unknown Host; add it to "allowed_hosts" in the config.', 403
        if (request.method in UNSAFE or is_upgrade(request)) and not origin_allowed(request, allowed):
            return 'Cross-origin request refused; see "allowed_origins" in the config.', 403
        if request.path in CHANGING_GETS and not same_site(request, allowed):
            return 'Cross-site request refused; see "allowed_origins" in the config.', 403
        return None

    app.before_request(check_host_and_origin)
    cors = CORS(allowed, credentials=bool(config.get('token')))
    cors.install(app)
    return cors
