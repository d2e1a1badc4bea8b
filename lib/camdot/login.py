"""Authentication: the device token, the login page and browser sessions.

    from camdot import login
    guard = login.install(app, config)   # after camdot.origins; None when config has no token

With config 'token' set, every route but /login and /logout needs `Authorization: Bearer <token>`
(or Basic with the token as password, for MJPEG players), or the session cookie the login page
sets. Failures get 401 + `WWW-Authenticate: Bearer`; a browser asking for HTML gets the login form
as the 401 body. After 5 wrong tokens from one address it gets 429 for 30 s. The token is never
logged; only a SHA-256 of it is kept, compared in constant time (camdot.secret).
Import this module only when a token is set (camdot.app does): ~9 KB of RAM a device without a
token doesn't need.
"""
import binascii
import os

from microdot import Response

from camdot.compat import ticks_diff, ticks_ms
from camdot.html import escape, page
from camdot.http11 import client_ip, is_upgrade
from camdot.secret import digest, same_digest

COOKIE = 'camdot'
OPEN_PATHS = ('/login', '/logout')
SESSION_ID_BYTES = 16   # random bytes in a session id (hex in the cookie)


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
        sid = binascii.hexlify(os.urandom(SESSION_ID_BYTES)).decode()
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


LOGIN_FORM = """<h1>%s</h1><form method="post" action="/login"><p>%s</p>
<input type="hidden" name="next" value="%s">
<label>Token <input type="password" name="token" autofocus required></label>
<button>Log in</button></form>"""
HTML = {'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store'}


def safe_next(path):
    """A local path to go back to after the login (never another site: no '//', no scheme)."""
    if not path or path[0] != '/' or path[1:2] in ('/', '\\') or '\r' in path or '\n' in path:
        return '/'
    return path


class Login:
    """The token check: a before_request hook plus the /login and /logout routes.

        guard = Login(token, 'porch-cam')
        app.before_request(guard.before_request)
        app.route('/login', methods=['GET', 'POST'])(guard.login)
        app.route('/logout', methods=['POST'])(guard.logout)
    """

    realm = 'camdot'

    def __init__(self, token, title='camdot', throttle=None, sessions=None):
        self.key = digest(token)  # the token itself is not kept
        self.title = title
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
        body = page(self.title + ' - log in', LOGIN_FORM % (
            escape(self.title), message, escape(safe_next(next_path or request.url))))
        headers = dict(HTML)
        if status == 401:
            headers['WWW-Authenticate'] = 'Bearer realm="%s"' % self.realm
        return body, status, headers

    def denied(self, request, status, message, wait_ms=0):
        """The answer to a request let in neither by a session nor by its token: 401 with a
        challenge, or 429 after too many wrong tokens (`wait_ms` left); the login page as its
        body for a browser asking for a page."""
        if status == 429:
            headers = {'Retry-After': _seconds(wait_ms)}
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
            return self.denied(request, 401, 'Log in to use this device.')
        ip = client_ip(request)
        wait = self.throttle.wait(ip)
        if wait:
            return self.denied(request, 429, 'Too many wrong tokens; try again later.', wait)
        if self.check_token(token):
            self.throttle.succeeded(ip)
            return None
        self.throttle.failed(ip)
        return self.denied(request, 401, 'Wrong token.')

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
            res[2]['Retry-After'] = _seconds(wait)
            return res
        if not token or not self.check_token(token):
            if token:
                self.throttle.failed(ip)
            return self.page(request, 'Wrong token.', 401, next_path)
        self.throttle.succeeded(ip)
        return _see_other(safe_next(next_path), self.sessions.new())

    async def logout(self, request):
        self.sessions.drop(request.cookies.get(COOKIE))
        return _see_other('/login', '', '; Max-Age=0')


def _seconds(ms):
    # A Retry-After value: whole seconds, rounded up (never 0 while the lockout lasts).
    return str(ms // 1000 + 1)


def _see_other(location, value, extra=''):
    res = Response(status_code=303, headers={'Location': location, 'Cache-Control': 'no-store'})
    # microdot's set_cookie() has no SameSite: the header is written here
    res.headers['Set-Cookie'] = [COOKIE + '=' + value + '; Path=/; HttpOnly; SameSite=Strict' + extra]
    return res


def install(app, config):
    """Require config['token'] on every route of `app` but /login and /logout; returns the Login,
    or None when config has no token."""
    token = config.get('token')
    if not token:
        return None
    guard = Login(token, config.get('hostname', 'camdot'))
    app.before_request(guard.before_request)
    app.route('/login', methods=['GET', 'POST'])(guard.login)
    app.route('/logout', methods=['POST'])(guard.logout)
    return guard
