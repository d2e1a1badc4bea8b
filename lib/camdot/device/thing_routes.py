"""The camera Thing's routes (W3C Web of Things): its Thing Description, properties, actions and
the Web Thing Protocol socket.

    from camdot.device import thing_routes
    thing_routes.install(app, camera_thing, config)    # a camdot.device.camera_thing.CameraThing

GET /.well-known/wot (the TD, application/td+json), GET /properties, GET|PUT /properties/<name>,
POST /actions/<name>, /ws (Web Thing Protocol, camdot.wtp). Errors are problem+json (RFC 9457):
404 for an unknown name (before a bad body's 400), 400 for a value the Thing or the camera refuses;
a frame size the camera undoes is a 400 once the capture loop has tried it (CameraThing.settled).
"""
import json

from camdot import wtp
from camdot.thing import ThingError, problem
from camdot.websocket import with_websocket

TD_TYPE = 'application/td+json'
PROBLEM_TYPE = 'application/problem+json'
JSON_TYPE = 'application/json'


def _json(value, status=200):
    return json.dumps(value), status, {'Content-Type': JSON_TYPE}


def _problem(exc):
    return json.dumps(problem(exc.status, exc.detail)), exc.status, {'Content-Type': PROBLEM_TYPE}


def _body(request):
    body = request.body
    if not body:
        raise ThingError(400, 'the body must be a JSON value')
    try:
        return json.loads(body.decode() if isinstance(body, (bytes, bytearray)) else body)
    except (ValueError, UnicodeError):
        raise ThingError(400, 'the body is not valid JSON')


def _urls(request, config):
    """(base, ws) URLs for the TD: from config['base'] if set, else the request's Host header."""
    base = config.get('base') or ''
    if base:
        if not base.endswith('/'):
            base += '/'
        host = base.split('://', 1)[-1].rstrip('/')
        secure = base.startswith('https')
    else:
        host = request.headers.get('Host') or '%s:%s' % (config.get('hostname', 'camdot'),
                                                          config.get('http_port', 80))
        secure = getattr(request, 'scheme', None) == 'https'
        base = ('https://' if secure else 'http://') + host + '/'
    return base, ('wss://' if secure else 'ws://') + host + '/ws'


def install(app, ct, config):
    """Add the Thing's routes for the camera Thing `ct` to `app`."""
    thing = ct.thing
    hub = ct.hub

    @app.get('/.well-known/wot')
    async def td(request):
        base, ws = _urls(request, config)
        return thing.td_chunks(base, ws), 200, {'Content-Type': TD_TYPE}

    @app.get('/properties')
    async def all_properties(request):
        try:
            return _json(thing.read_all())
        except ThingError as exc:
            return _problem(exc)

    @app.route('/properties/<name>', methods=['GET', 'PUT'])
    async def one_property(request, name):
        try:
            if request.method == 'GET':
                return _json(thing.read(name))
            thing.schema(name)  # 404 before 400: an unknown name beats a bad body
            value = thing.write(name, _body(request))
            refused = await ct.settled(name, value)
            if refused:
                raise ThingError(400, refused)
            return _json(value)
        except ThingError as exc:
            return _problem(exc)

    @app.post('/actions/<name>')
    async def action(request, name):
        try:
            if name not in thing.actions:
                raise ThingError(404, 'no action %r' % name)
            return _json(await thing.invoke(name, _body(request) if request.body else None))
        except ThingError as exc:
            return _problem(exc)

    @app.route('/ws')
    @with_websocket(protocols=[wtp.SUBPROTOCOL])
    async def ws_route(request, ws):
        ct.attach()
        try:
            await wtp.serve(ws, thing, hub)
        finally:
            ct.detach()
