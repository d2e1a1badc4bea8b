"""The edge role: every board under /<name>/, to any number of viewers, from the hub.

    app = create_edge(hub, ['porch', 'shop'], token='s3cret')
    await app.start_server(host='0.0.0.0', port=8090)

    /                          the boards and their state (JSON with Accept: application/json)
    /<name>/                   the device page (camdot's own; its URLs are relative)
    /<name>/ws/stream          frames over WebSocket: one binary message per JPEG as the board
                               sent it; text: hello, then a status when the board's state changes
    /<name>/stream             MJPEG        /<name>/capture   the newest frame, at once
    /<name>/.well-known/wot    the board's TD, every form pointing here (a WoT Intermediary)
    /<name>/properties[/<p>]   read from the shadow; PUT goes to the board, once
    /<name>/actions/<a>        POST goes to the board
    /<name>/ws                 Web Thing Protocol (subprotocol webthingprotocol)

Every viewer is one latest-wins hub subscription on relay/<name>/frame (the newest frame comes
at once: it is retained), sent by camdot.hub_socket.pipe: a slow viewer skips frames, never delays
another, and holds at most one frame plus its socket's buffer. The edge keeps nothing another
edge needs: run as many as the audience needs, behind any load balancer that passes WebSocket
upgrades. The viewers' token (`token`) is the board's scheme: Bearer, Basic password, or the
login page's cookie; no address is exempt.
"""
import asyncio
import gzip
import json
import os

from microdot import Microdot, Response

from camdot import hub_socket, limits, login, origins, wtp
from camdot.hub import SubscriptionClosed
from camdot.thing import ThingError, problem
from camdot.websocket import WebSocket, with_websocket

from camdot_relay import topics
from camdot_relay.board_view import BoardView
from camdot_relay.requester import Requester
from camdot_relay.td import intermediary_td

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(ROOT, 'lib', 'camdot', 'www', 'index.html')
BOUNDARY = 'camdotrelay'
JSON = {'Content-Type': 'application/json'}
PROBLEM = {'Content-Type': 'application/problem+json'}
CAPTURE_WAIT = 5.0


class RelayConsumer(wtp.Consumer):
    """The Web Thing Protocol on an edge: writes go to the board and wait for its answer."""

    async def op_writeproperty(self, req, op, corr, name):
        self._named(name, self.thing.properties, 'property')
        if 'value' not in req:
            raise ThingError(400, 'value missing')
        value = await self.thing.write(name, req['value'])
        return self.message('response', op, corr, name=name, value=value,
                            timestamp=wtp.timestamp())


_head = [None, b'']   # the newest frame and its part head: made once, whatever the viewers


def part_head(jpeg):
    """The multipart head of `jpeg` (the same bytes object goes to every viewer of a board)."""
    if _head[0] is not jpeg:
        _head[1] = ('--%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n' % (
            BOUNDARY, len(jpeg))).encode()
        _head[0] = jpeg
    return _head[1]


class MjpegBody:
    """/stream: multipart parts from a latest-wins subscription (an async iterator for microdot)."""

    def __init__(self, sub):
        self.sub = sub
        self.todo = []
        # microdot does not always close a body whose connection ends: the connection's task
        # ending closes the subscription, whatever ended it
        asyncio.current_task().add_done_callback(lambda task: sub.close())

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.todo:
            return self.todo.pop()
        while True:
            try:
                _, jpeg = await self.sub.get()
            except SubscriptionClosed:
                raise StopAsyncIteration
            if not isinstance(jpeg, str):
                break
        self.todo = [b'\r\n', jpeg]
        return part_head(jpeg)

    async def aclose(self):
        self.sub.close()


class Edge:
    """The edge's boards and their pages (see the module docstring)."""

    def __init__(self, hub, names, token=None, base_url=None):
        self.hub = hub
        self.token = token
        self.base_url = base_url.rstrip('/') if base_url else None
        self.requester = Requester(hub)
        self.views = {name: BoardView(hub, topics.check_name(name), self.requester)
                      for name in names}
        self._pages = {}

    def viewers(self, name):
        n = 0
        for sub in self.hub.subscriptions():
            if sub.pattern == topics.frame(name) and sub.policy == 'latest':
                n += 1
        return n

    def boards(self):
        out = []
        for name, view in sorted(self.views.items()):
            doc = view.state_doc()
            out.append({'name': name, 'state': doc.get('state'), 'detail': doc.get('detail', ''),
                        'kind': doc.get('kind'), 'retry_s': doc.get('retry_s'),
                        'viewers_here': self.viewers(name)})
        return out

    def page(self, name):
        """The device page for one board: (plain, gzipped), made once."""
        if name not in self._pages:
            with open(PAGE, 'rb') as f:
                html = f.read().replace(b'<title>camdot', b'<title>%s - camdot relay' %
                                        name.encode(), 1)
            self._pages[name] = (html, gzip.compress(html, 9))
        return self._pages[name]

    def urls(self, request, name):
        """(base, ws) URLs of a board on this edge, as the client reached it."""
        if self.base_url:
            base = self.base_url
        else:
            proto = request.headers.get('X-Forwarded-Proto', 'http').split(',')[0].strip()
            host = request.headers.get('Host') or '127.0.0.1'
            base = '%s://%s' % ('https' if proto == 'https' else 'http', host)
        ws = ('wss' if base.startswith('https') else 'ws') + base[base.index(':'):]
        return '%s/%s/' % (base, name), '%s/%s/ws' % (ws, name)


def _problem(exc):
    return json.dumps(problem(exc.status, exc.detail)), exc.status, PROBLEM


def _json_body(request):
    body = request.body
    if not body:
        raise ThingError(400, 'the body must be a JSON value')
    try:
        return json.loads(body)
    except (ValueError, UnicodeError):
        raise ThingError(400, 'the body is not valid JSON')


def create_edge(hub, names, token=None, base_url=None, max_viewers=2000, allowed_hosts=('*',),
                allowed_origins=()):
    """The edge's microdot app for the boards `names` (see the module docstring)."""
    edge = Edge(hub, names, token, base_url)
    app = Microdot()
    app.edge = edge
    app.hub = hub
    config = {'hostname': 'camdot-relay', 'token': token, 'allowed_hosts': list(allowed_hosts),
              'allowed_origins': list(allowed_origins), 'max_clients': max_viewers,
              'limits': {'max_requests': 256, 'max_sockets': max_viewers, 'header_timeout': 10,
                         'request_timeout': 30, 'write_timeout': 20, 'max_body': 65536}}
    origins.install(app, config)    # Host/Origin checks, CORS for allowed origins
    login.install(app, config)      # the viewers' token and its login page (when one is set)
    limits.install(app, config)     # budgets and deadlines, at relay scale
    WebSocket.ping_interval = 20    # dead viewers go within 40 s

    def board(f):
        # The board named in the URL, or 404 before anything else (an upgrade included).
        async def wrapper(request, name, **kwargs):
            view = edge.views.get(name)
            if view is None:
                return 'No board %r on this relay.' % name[:40], 404
            return await f(request, view, **kwargs)
        wrapper.__name__ = f.__name__
        return wrapper

    @app.get('/')
    async def index(request):
        boards = edge.boards()
        if 'application/json' in request.headers.get('Accept', ''):
            return json.dumps({'boards': boards}), 200, JSON
        return _index_html(boards), 200, {'Content-Type': 'text/html; charset=utf-8',
                                          'Cache-Control': 'no-store'}

    @app.get('/<name>')
    @board
    async def bare(request, view):
        return '', 301, {'Location': '/%s/' % view.name}

    @app.get('/<name>/')
    @board
    async def device_page(request, view):
        html, gz = edge.page(view.name)
        headers = {'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache',
                   'Vary': 'Accept-Encoding'}
        if 'gzip' in request.headers.get('Accept-Encoding', ''):
            headers['Content-Encoding'] = 'gzip'
            return gz, 200, headers
        return html, 200, headers

    @app.get('/<name>/ws/stream')
    @board
    @with_websocket
    async def ws_stream(request, ws, view):
        sub = hub.subscribe(topics.frame(view.name), policy='latest')  # the newest, at once
        try:
            props = view.values
            await ws.send(json.dumps({
                'type': 'hello', 'name': view.name, 'relay': True,
                'framesize': props.get('framesize'), 'fps': props.get('max_fps'),
                'backend': 'relay', 'viewers': edge.viewers(view.name),
                'board_state': view.state_doc()['state']}))
            if view.state_doc()['state'] != 'online':
                await ws.send(view.status_text())
            await hub_socket.pipe(sub, ws)
        finally:
            sub.close()  # (pipe closes it too; not when the hello already failed)

    @app.get('/<name>/stream')
    @board
    async def mjpeg(request, view):
        if not limits.admit_viewer(request):
            return limits.VIEWERS_FULL
        sub = hub.subscribe(topics.frame(view.name), policy='latest')
        return Response(body=MjpegBody(sub), headers={
            'Content-Type': 'multipart/x-mixed-replace;boundary=' + BOUNDARY,
            'Cache-Control': 'no-store'})

    @app.get('/<name>/capture')
    @board
    async def capture(request, view):
        with hub.subscribe(topics.frame(view.name), policy='latest') as sub:
            try:
                while True:
                    _, jpeg = await asyncio.wait_for(sub.get(), CAPTURE_WAIT)
                    if not isinstance(jpeg, str):
                        break
            except asyncio.TimeoutError:
                doc = view.state_doc()
                return {'error': 'no frame from %s in %g s' % (view.name, CAPTURE_WAIT),
                        'state': doc['state'], 'detail': doc.get('detail', '')}, 503
        return jpeg, 200, {'Content-Type': 'image/jpeg', 'Cache-Control': 'no-store',
                           'Content-Disposition': 'inline; filename="%s.jpg"' % view.name}

    @app.get('/<name>/.well-known/wot')
    @board
    async def thing_description(request, view):
        if view.td is None:
            return _problem(ThingError(503, 'the board has not been seen yet (%s)' %
                                       view.state_doc()['state']))
        base, ws = edge.urls(request, view.name)
        td = intermediary_td(view.td, base, ws, token_required=bool(token))
        return json.dumps(td), 200, {'Content-Type': 'application/td+json'}

    @app.get('/<name>/properties')
    @board
    async def all_properties(request, view):
        try:
            return json.dumps(view.read_all()), 200, JSON
        except ThingError as exc:
            return _problem(exc)

    @app.route('/<name>/properties/<prop>', methods=['GET', 'PUT'])
    @board
    async def one_property(request, view, prop):
        try:
            if request.method == 'GET':
                return json.dumps(view.read(prop)), 200, JSON
            view.schema(prop)  # 404 before 400
            return json.dumps(await view.write(prop, _json_body(request))), 200, JSON
        except ThingError as exc:
            return _problem(exc)

    @app.post('/<name>/actions/<action>')
    @board
    async def invoke(request, view, action):
        try:
            if action not in view.actions:
                raise ThingError(404, 'no action %r' % action)
            arg = _json_body(request) if request.body else None
            return json.dumps(await view.invoke(action, arg)), 200, JSON
        except ThingError as exc:
            return _problem(exc)

    @app.route('/<name>/ws')
    @board
    @with_websocket(protocols=[wtp.SUBPROTOCOL])
    async def thing_socket(request, ws, view):
        await wtp.serve(ws, view, hub, RelayConsumer(view))

    return app


def _esc(text):
    return str(text).replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def _index_html(boards):
    rows = []
    for b in boards:
        rows.append('<tr class="%s"><td><a href="/%s/">%s</a></td><td>%s</td><td>%s</td>'
                    '<td>%s</td><td>%d</td></tr>' % (
                        _esc(b['state']), _esc(b['name']), _esc(b['name']), _esc(b['state']),
                        _esc(b['detail'] or ''), _esc(b['kind'] or ''), b['viewers_here']))
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta http-equiv="refresh" content="5"><title>camdot relay</title><style>'
            'body{font:15px system-ui,sans-serif;margin:2em}td,th{padding:.3em .8em;'
            'text-align:left}.online td:nth-child(2){color:#080}.error td:nth-child(2),'
            '.stale td:nth-child(2){color:#b00}</style></head><body><h1>camdot relay</h1>'
            '<table id="boards"><tr><th>board</th><th>state</th><th>detail</th><th>kind</th>'
            '<th>viewers here</th></tr>%s</table></body></html>' % ''.join(rows))
