"""camdot.origins, camdot.login and camdot.secret: Host/Origin checks, token auth, login page,
sessions, throttling. CORS: tests/portable/test_cors.py."""
from microdot import Microdot, Request
from microdot.microdot import AsyncBytesIO
from microdot.test_client import TestClient
from microdot.websocket import with_websocket

from camdot import config, login, origins, secret

TOKEN = 's3cret-Token'
LAN = ('192.168.1.9', 40000)  # a client on the network (loopback clients skip the Host check)


def form():
    # a fresh dict each time: TestClient writes Content-Length into the one it is given
    return {'Content-Type': 'application/x-www-form-urlencoded'}


def make_app(**cfg):
    app = Microdot()
    seen = []

    @app.route('/')
    async def index(request):
        return 'hello'

    @app.route('/public')
    async def public(request):
        return 'img', 200, {'Access-Control-Allow-Origin': '*'}

    @app.route('/set', methods=['POST'])
    async def set_(request):
        return 'set'

    @app.route('/control')
    async def control(request):
        seen.append('control')
        return ''

    @app.route('/ws')
    @with_websocket
    async def ws(request, ws):
        seen.append('handler')
        await ws.send('hi')

    conf = config.load(None)
    conf.update(cfg)
    origins.install(app, conf)
    guard = login.install(app, conf)
    return app, guard, seen


async def raw(app, text, addr=LAN):
    """Dispatch a raw request from `addr`; returns (status, headers)."""
    req = await Request.create(app, AsyncBytesIO(text.encode()), AsyncBytesIO(b''), addr)
    res = await app.dispatch_request(req)
    return res.status_code, res.headers


def test_equal_is_exact():
    assert secret.equal('abc', 'abc')
    assert secret.equal(b'abc', 'abc')
    assert not secret.equal('abc', 'abd')
    assert not secret.equal('abc', 'abcd')
    assert not secret.equal('', 'a')
    assert secret.equal('', '')


def test_split_hostport_and_parse_origin():
    assert origins.split_hostport('Cam.Local:8080') == ('cam.local', 8080)
    assert origins.split_hostport('cam') == ('cam', None)
    assert origins.split_hostport('[::1]:81') == ('::1', 81)
    assert origins.split_hostport('cam:x') is None
    assert origins.split_hostport('a/b') is None
    assert origins.split_hostport('[::1') is None
    assert origins.split_hostport('') is None
    assert origins.parse_origin('http://cam:8080') == ('http', 'cam', 8080)
    assert origins.parse_origin('https://cam') == ('https', 'cam', 443)
    assert origins.parse_origin('HTTP://Cam') == ('http', 'cam', 80)
    assert origins.parse_origin('null') is None
    assert origins.parse_origin('ftp://cam') is None
    assert origins.parse_origin('http://cam/path') is None


class FakeRequest:
    def __init__(self, headers, addr=LAN, method='GET'):
        self.headers = headers
        self.client_addr = addr
        self.method = method


def test_origin_allowed():
    ok = origins.origin_allowed
    assert ok(FakeRequest({'Host': 'cam:8080'}))  # no Origin: a program
    assert ok(FakeRequest({'Host': 'cam:8080', 'Origin': 'http://cam:8080'}))
    assert ok(FakeRequest({'Host': 'CAM:80', 'Origin': 'http://cam'}))
    assert ok(FakeRequest({'Host': 'cam', 'Origin': 'https://cam'}))  # behind a TLS proxy
    assert not ok(FakeRequest({'Host': 'cam:8080', 'Origin': 'http://cam:9090'}))
    assert not ok(FakeRequest({'Host': 'cam:8080', 'Origin': 'http://evil.example'}))
    assert not ok(FakeRequest({'Host': 'cam:8080', 'Origin': 'null'}))
    assert not ok(FakeRequest({'Origin': 'http://cam:8080'}))  # no Host to compare with
    assert not ok(FakeRequest({'Host': 'cam', 'Origin': 'garbage'}))
    dash = ['http://dash.lan:3000']
    assert ok(FakeRequest({'Host': 'cam', 'Origin': 'http://DASH.lan:3000'}), dash)
    assert not ok(FakeRequest({'Host': 'cam', 'Origin': 'http://dash.lan:3001'}), dash)
    assert ok(FakeRequest({'Host': 'cam', 'Origin': 'http://x'}), ['*'])
    assert ok(FakeRequest({'Host': 'cam', 'Origin': 'null'}), ['null'])


def test_host_allowed():
    names = origins._names({'hostname': 'Porch', 'allowed_hosts': ['cam.home'],
                         'allowed_origins': ['http://dash.lan:3000']})
    ok = origins.host_allowed
    for host in ('192.168.1.50', '192.168.1.50:80', '[fe80::1]:80', 'porch', 'porch.local:80',
                 'PORCH.local.', 'localhost:8080', 'cam.home', 'dash.lan'):
        assert ok(FakeRequest({'Host': host}), names), host
    for host in ('evil.example', 'porch.evil.example', '1.2.3', 'porch:x', ''):
        assert not ok(FakeRequest({'Host': host}), names), host
    assert ok(FakeRequest({}), names)  # HTTP/1.0 without Host
    assert ok(FakeRequest({'Host': 'evil.example'}, ('127.0.0.1', 5)), names)  # loopback
    assert ok(FakeRequest({'Host': 'evil.example'}, bytearray(b'\x02\x00\x01\x02\x7f\x00\x00\x01')), names)
    assert not ok(FakeRequest({'Host': 'evil.example'}, bytearray(b'\x02\x00\x01\x02\xc0\xa8\x01\x09')), names)
    assert ok(FakeRequest({'Host': 'evil.example'}), ['*'])


async def test_dns_rebinding_host_is_refused():
    app, _, _ = make_app(hostname='porch')
    status, _ = await raw(app, 'GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n')
    assert status == 403
    status, _ = await raw(app, 'GET / HTTP/1.1\r\nHost: porch.local\r\n\r\n')
    assert status == 200
    status, _ = await raw(app, 'GET / HTTP/1.1\r\nHost: 10.0.0.7:80\r\n\r\n')
    assert status == 200


async def test_cross_origin_websocket_and_post_are_refused():
    app, _, seen = make_app()
    client = TestClient(app, host='cam:8080')

    async def talk():
        yield None

    res = await client.websocket('/ws', talk, headers={'Origin': 'http://evil.example'})
    assert res.status_code == 403
    assert seen == []  # refused before the upgrade: the handler never ran
    res = await client.post('/set', headers={'Origin': 'http://evil.example'}, body='x')
    assert res.status_code == 403
    res = await client.post('/set', headers={'Origin': 'http://cam:8080'}, body='x')
    assert res.status_code == 200
    res = await client.post('/set', body='x')  # no Origin: not a browser
    assert res.status_code == 200
    res = await client.get('/', headers={'Origin': 'http://evil.example'})  # safe method
    assert res.status_code == 200


async def test_cross_site_get_control_is_refused():
    app, _, seen = make_app(allowed_origins=['http://dash.lan:3000'])
    client = TestClient(app, host='cam:8080')
    # an <img src="http://cam:8080/control?..."> on another site's page
    res = await client.get('/control?var=vflip&val=1', headers={'Sec-Fetch-Site': 'cross-site'})
    assert res.status_code == 403
    res = await client.get('/control?var=vflip&val=1', headers={'Sec-Fetch-Site': 'same-site'})
    assert res.status_code == 403
    assert seen == []
    # the device's own page, a bookmark typed in the address bar, a script: allowed
    for headers in ({'Sec-Fetch-Site': 'same-origin'}, {'Sec-Fetch-Site': 'none'}, {}):
        res = await client.get('/control?var=vflip&val=1', headers=headers)
        assert res.status_code == 200, headers
    # a fetch() from an allowed dashboard carries its Origin
    res = await client.get('/control?var=vflip&val=1', headers={
        'Sec-Fetch-Site': 'cross-site', 'Origin': 'http://dash.lan:3000'})
    assert res.status_code == 200
    res = await client.get('/', headers={'Sec-Fetch-Site': 'cross-site'})  # other GETs: fine
    assert res.status_code == 200
    assert seen == ['control'] * 4


async def test_no_token_means_open():
    app, guard, _ = make_app()
    assert guard is None
    res = await TestClient(app).get('/')
    assert res.status_code == 200
    res = await TestClient(app).get('/login')
    assert res.status_code == 404


async def test_bearer_token():
    app, _, _ = make_app(token=TOKEN)
    client = TestClient(app)
    res = await client.get('/')
    assert res.status_code == 401
    assert res.headers['WWW-Authenticate'].startswith('Bearer')
    assert 'form' not in (res.text or '')
    res = await client.get('/', headers={'Authorization': 'Bearer ' + TOKEN})
    assert res.status_code == 200 and res.text == 'hello'
    res = await client.get('/', headers={'Authorization': 'bearer  ' + TOKEN})
    assert res.status_code == 200
    res = await client.get('/', headers={'Authorization': 'Bearer ' + TOKEN + 'x'})
    assert res.status_code == 401
    res = await client.get('/', headers={'Authorization': 'Bearer'})
    assert res.status_code == 401
    res = await client.get('/', headers={'Authorization': 'Token ' + TOKEN})
    assert res.status_code == 401


async def test_basic_auth_with_token_as_password():
    import binascii
    app, _, _ = make_app(token=TOKEN)
    client = TestClient(app)
    good = binascii.b2a_base64(('viewer:' + TOKEN).encode()).decode().strip()
    res = await client.get('/', headers={'Authorization': 'Basic ' + good})
    assert res.status_code == 200
    bad = binascii.b2a_base64(b'viewer:nope').decode().strip()
    res = await client.get('/', headers={'Authorization': 'Basic ' + bad})
    assert res.status_code == 401
    res = await client.get('/', headers={'Authorization': 'Basic %%%'})
    assert res.status_code == 401


async def test_browser_gets_login_form_then_cookie():
    app, guard, _ = make_app(token=TOKEN)
    client = TestClient(app)
    res = await client.get('/?a=1', headers={'Accept': 'text/html,*/*'})
    assert res.status_code == 401
    assert '<form' in res.text and 'value="/?a=1"' in res.text
    assert TOKEN not in res.text
    res = await client.get('/login')
    assert res.status_code == 200 and 'type="password"' in res.text
    res = await client.post('/login', headers=form(), body='token=wrong&next=/')
    assert res.status_code == 401 and 'Wrong token' in res.text
    assert 'camdot' not in client.cookies
    res = await client.post('/login', headers=form(), body='token=' + TOKEN + '&next=%2F%3Fa%3D1')
    assert res.status_code == 303
    assert res.headers['Location'] == '/?a=1'
    cookie = res.headers['Set-Cookie'][0]
    assert 'HttpOnly' in cookie and 'SameSite=Strict' in cookie and 'Path=/' in cookie
    sid = client.cookies['camdot']
    assert len(sid) == 32 and TOKEN not in cookie
    res = await client.get('/')
    assert res.status_code == 200
    res = await client.post('/logout')
    assert res.status_code == 303
    assert 'camdot' not in client.cookies
    assert not guard.sessions.valid(sid)
    res = await TestClient(app, cookies={'camdot': sid}).get('/')
    assert res.status_code == 401  # the old cookie no longer works


async def test_login_never_redirects_off_site():
    app, _, _ = make_app(token=TOKEN)
    for nxt in ('//evil.example/', 'http://evil.example/', '/\\evil.example', 'x'):
        client = TestClient(app)
        res = await client.post('/login', headers=form(),
                                body='token=' + TOKEN + '&next=' + nxt.replace('/', '%2F'))
        assert res.status_code == 303
        assert res.headers['Location'] == '/', nxt


async def test_websocket_upgrade_needs_auth_before_101():
    app, _, seen = make_app(token=TOKEN)
    client = TestClient(app)

    async def talk():
        yield None

    res = await client.websocket('/ws', talk)
    assert res.status_code == 401
    assert seen == []
    res = await client.websocket('/ws', talk, headers={'Authorization': 'Bearer ' + TOKEN})
    assert res.status_code is None  # the request was taken over by the WebSocket
    assert seen == ['handler']


async def test_lockout_after_repeated_failures():
    app, guard, _ = make_app(token=TOKEN)
    now = [1000]
    guard.throttle.clock = lambda: now[0]
    client = TestClient(app)
    wrong = {'Authorization': 'Bearer nope'}
    right = {'Authorization': 'Bearer ' + TOKEN}
    for _ in range(5):
        assert (await client.get('/', headers=wrong)).status_code == 401
    res = await client.get('/', headers=right)
    assert res.status_code == 429  # even the right token: no guessing through the lockout
    assert int(res.headers['Retry-After']) >= 1
    res = await client.post('/login', headers=form(), body='token=' + TOKEN)
    assert res.status_code == 429
    now[0] += 30001
    assert (await client.get('/', headers=right)).status_code == 200
    assert (await client.get('/', headers=wrong)).status_code == 401
    # another address is not locked out
    status, _ = await raw(app, 'GET / HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n' % TOKEN)
    assert status == 200


def test_throttle_locks_and_stays_bounded():
    now = [0]
    t = login.Throttle(limit=2, lockout_ms=100, size=3, clock=lambda: now[0])
    t.failed('a')
    assert t.wait('a') == 0
    t.failed('a')
    assert t.wait('a') == 100
    now[0] = 60
    assert t.wait('a') == 40
    now[0] = 100
    assert t.wait('a') == 0
    t.failed('a')  # one try per lockout once the limit is reached
    assert t.wait('a') == 100
    t.succeeded('a')
    assert t.wait('a') == 0
    for i, ip in enumerate(('b', 'c', 'd', 'e')):
        now[0] = 200 + i
        t.failed(ip)
    assert len(t.table) == 3 and 'b' not in t.table


def test_sessions_are_random_hashed_and_bounded():
    s = login.Sessions(size=2)
    a, b, c = s.new(), s.new(), s.new()
    assert len({a, b, c}) == 3
    assert not s.valid(a) and s.valid(b) and s.valid(c)
    assert a.encode() not in b''.join(s.ids)  # only hashes are kept
    s.drop(b)
    assert not s.valid(b) and s.valid(c)
    assert not s.valid(None) and not s.valid('')
    s.drop(None)


def test_safe_next():
    assert login.safe_next('/a?b=1') == '/a?b=1'
    for bad in ('', 'a', '//x', '/\\x', 'http://x', '/a\r\nSet-Cookie: x'):
        assert login.safe_next(bad) == '/'
