"""camdot.origins.CORS: preflights and responses for config 'allowed_origins'."""
from microdot import Microdot
from microdot.test_client import TestClient

from camdot import config, login, origins

DASH = 'http://dash.lan:3000'
TOKEN = 'cors-Tok3n'


def make_app(**cfg):
    app = Microdot()

    @app.route('/properties')
    async def properties(request):
        return {'quality': 12}

    @app.route('/properties/<name>', methods=['GET', 'PUT'])
    async def one(request, name):
        return {name: request.json}

    @app.route('/public')
    async def public(request):
        return 'img', 200, {'Access-Control-Allow-Origin': '*', 'Vary': 'Accept-Encoding'}

    conf = config.load(None)
    conf.update(cfg)
    origins.install(app, conf)
    login.install(app, conf)
    return app, TestClient(app, host='cam:8080')


def preflight(method, headers=None, origin=DASH):
    h = {'Origin': origin, 'Access-Control-Request-Method': method}
    h.update(headers or {})
    return h


async def test_preflight_from_an_allowed_origin():
    app, client = make_app(allowed_origins=[DASH])
    res = await client.request('OPTIONS', '/properties/quality', headers=preflight(
        'PUT', {'Access-Control-Request-Headers': 'content-type,x-other,Authorization'}))
    h = res.headers
    assert res.status_code == 200
    assert h['Access-Control-Allow-Origin'] == DASH
    assert h['Access-Control-Allow-Methods'] == 'PUT'
    assert h['Access-Control-Allow-Headers'] == 'content-type, Authorization'  # not x-other
    assert h['Access-Control-Max-Age'] == origins.CORS_MAX_AGE
    assert h['Vary'] == 'Origin'
    assert 'Access-Control-Allow-Credentials' not in h   # no token: no cookie authenticates
    assert 'PUT' in h['Allow']


async def test_preflight_methods_are_those_the_route_takes():
    app, client = make_app(allowed_origins=[DASH])
    res = await client.request('OPTIONS', '/properties', headers=preflight('PUT'))
    assert res.headers['Access-Control-Allow-Origin'] == DASH
    assert 'Access-Control-Allow-Methods' not in res.headers   # /properties is GET only
    res = await client.request('OPTIONS', '/nowhere', headers=preflight('GET'))
    assert 'Access-Control-Allow-Methods' not in res.headers


async def test_unlisted_origins_get_no_cors_headers():
    app, client = make_app(allowed_origins=[DASH])
    for origin in ('http://dash.lan:3001', 'https://dash.lan:3000', 'http://evil.example', 'null'):
        res = await client.request('OPTIONS', '/properties/quality', headers=preflight(
            'PUT', {'Access-Control-Request-Headers': 'content-type'}, origin))
        got = [k for k in res.headers if k.lower().startswith('access-control-')]
        assert got == [], (origin, got)
        res = await client.get('/properties', headers={'Origin': origin})
        assert res.status_code == 200
        got = [k for k in res.headers if k.lower().startswith('access-control-')]
        assert got == [], (origin, got)
        assert res.headers['Vary'] == 'Origin'


async def test_responses_to_an_allowed_origin():
    app, client = make_app(allowed_origins=['HTTP://Dash.lan:3000'])   # compared as origins
    res = await client.get('/properties', headers={'Origin': DASH})
    assert res.headers['Access-Control-Allow-Origin'] == DASH
    assert res.headers['Vary'] == 'Origin'
    res = await client.put('/properties/quality', headers={
        'Origin': DASH, 'Content-Type': 'application/json'}, body='15')
    assert res.status_code == 200 and res.json == {'quality': 15}
    assert res.headers['Access-Control-Allow-Origin'] == DASH
    # errors too: the page can read why
    res = await client.get('/nowhere', headers={'Origin': DASH})
    assert res.status_code == 404 and res.headers['Access-Control-Allow-Origin'] == DASH
    # a route's own '*' becomes the allowed origin, its Vary is kept
    res = await client.get('/public', headers={'Origin': DASH})
    assert res.headers['Access-Control-Allow-Origin'] == DASH
    assert res.headers['Vary'] == 'Accept-Encoding, Origin'


async def test_a_routes_star_is_dropped_unless_any_origin_is_allowed():
    app, client = make_app(allowed_origins=[DASH])
    for headers in ({}, {'Origin': 'http://evil.example'}):
        res = await client.get('/public', headers=headers)
        assert 'Access-Control-Allow-Origin' not in res.headers, headers
    app, client = make_app()     # no allowed_origins: no CORS, no Vary
    res = await client.get('/public', headers={'Origin': DASH})
    assert 'Access-Control-Allow-Origin' not in res.headers
    assert res.headers['Vary'] == 'Accept-Encoding'
    app, client = make_app(allowed_origins=['*'])
    res = await client.get('/public')
    assert res.headers['Access-Control-Allow-Origin'] == '*'
    res = await client.get('/properties', headers={'Origin': 'http://evil.example'})
    assert res.headers['Access-Control-Allow-Origin'] == 'http://evil.example'


async def test_credentials_where_a_cookie_authenticates():
    app, client = make_app(allowed_origins=[DASH], token=TOKEN)
    res = await client.request('OPTIONS', '/properties', headers=preflight('GET'))
    assert res.headers['Access-Control-Allow-Credentials'] == 'true'   # a cookie may follow
    # the token in a header: no credentials involved
    res = await client.get('/properties', headers={'Origin': DASH,
                                                   'Authorization': 'Bearer ' + TOKEN})
    assert res.status_code == 200 and res.headers['Access-Control-Allow-Origin'] == DASH
    assert 'Access-Control-Allow-Credentials' not in res.headers
    # log in (same-site page), then a credentialed fetch from the dashboard
    res = await client.post('/login', headers={'Content-Type': 'application/x-www-form-urlencoded'},
                            body='token=' + TOKEN)
    assert res.status_code == 303
    res = await client.get('/properties', headers={'Origin': DASH})
    assert res.status_code == 200
    assert res.headers['Access-Control-Allow-Credentials'] == 'true'
    # a stale cookie: the 401 is readable by the page, so it can send the user to log in
    other = TestClient(app, host='cam:8080', cookies={'camdot': 'stale'})
    res = await other.get('/properties', headers={'Origin': DASH})
    assert res.status_code == 401
    assert res.headers['Access-Control-Allow-Origin'] == DASH
    assert res.headers['Access-Control-Allow-Credentials'] == 'true'
