"""Connection budgets and deadlines for a small device, added around microdot (its code is not patched).

    from camdot import limits
    lim = limits.install(app, config)      # after the origin and login checks; returns the Limits
    limits.count_as_viewers(app, mjpeg, ws_stream)   # these routes' connections are viewers
    if not limits.admit_viewer(request):   # or, inside a route: make this connection a viewer
        return 'Too many viewers', 503

Three budgets: short HTTP requests (config limits.max_requests), viewers, i.e. the connections of
the routes given to count_as_viewers() (the camera's streams, camdot.device.camera_routes; config
max_clients), and other WebSockets such as the Web Thing socket /ws (config limits.max_sockets), so
a page (one stream + one control socket) takes one viewer slot.
A connection counts as a request from accept until its route makes it a viewer or socket, or it
closes; a viewer or socket frees its slot when its connection closes. When the request budget is
full, a new connection evicts the oldest one still sending its request (slowloris), else it gets
503. A request must arrive within limits.header_timeout seconds (408) and be answered within
limits.request_timeout; a viewer whose write has not gone through for limits.write_timeout seconds
(a client that stopped reading) is dropped. A MemoryError in a route is answered 503 (an overload,
not a bug).

Each connection is read and written through camdot.http11 (a Connection is an http11.Duplex): the
request's size bounds (limits.max_line, max_headers, max_header_bytes, max_body: kept here with
the budgets, one config section), chunked and `Expect: 100-continue` bodies, HTTP/1.1 answers. microdot's own Request.max_readline and max_content_length still apply as well.
"""
import asyncio
import gc

from microdot import Request, Response

from camdot import http11
from camdot.compat import ticks_diff, ticks_ms
from camdot.config import DEFAULTS
from camdot.http11 import Duplex, abort, is_upgrade, reply

READING, HANDLING, VIEWER, SOCKET = 0, 1, 2, 3
# How often the sweeper looks at the deadlines: a quarter of the header timeout, within these.
SWEEP_MIN_MS = 50
SWEEP_MAX_MS = 1000
OOM_RETRY_AFTER_S = 2   # a 503 for a heap that ran out asks the client to wait this long
VIEWERS_FULL = ('Too many viewers, try again later.', 503, {'Retry-After': '5'})
# The keys of config 'limits' that are Limits' own (ping_interval is the WebSocket keepalive's).
SETTINGS = ('max_requests', 'max_sockets', 'header_timeout', 'request_timeout', 'write_timeout',
            'max_headers', 'max_header_bytes', 'max_line', 'max_body')
_LIMITS = DEFAULTS['limits']   # their defaults: config.DEFAULTS is the one place they are written


class Connection(Duplex):
    """One client connection: its place in the budget, read and written through
    camdot.http11.Duplex. It also notes when each awrite() starts, so that the sweeper can find a
    write stuck on a client that stopped reading."""

    why = None          # 'timeout', 'evicted' or 'stalled' once we cancelled it
    since = None        # when the awrite() in progress started

    def __init__(self, limits, reader, writer, task):
        super().__init__(limits, reader, writer)
        self.task = task
        self.start = limits.clock()
        self.state = READING

    async def read_held(self):
        # A held body (chunked, or after 100 Continue) is still the request: while it comes the
        # connection is READING again, under the header deadline and first in line for eviction.
        again = self.state == HANDLING
        if again:
            self.state = READING
        try:
            return await super().read_held()
        except asyncio.CancelledError:
            again = False       # dropped meanwhile: stays READING, so that serve() answers 408
            raise
        finally:
            if again and self.state == READING:
                self.state = HANDLING

    async def awrite(self, data):
        self.since = self.limits.clock()
        try:
            await Duplex.awrite(self, data)
        finally:
            self.since = None


class Limits:
    """The budgets and deadlines of one server (see the module docstring)."""

    def __init__(self, max_requests=_LIMITS['max_requests'], max_viewers=DEFAULTS['max_clients'],
                 header_timeout=_LIMITS['header_timeout'],
                 request_timeout=_LIMITS['request_timeout'], max_headers=_LIMITS['max_headers'],
                 max_header_bytes=_LIMITS['max_header_bytes'], max_line=_LIMITS['max_line'],
                 max_body=_LIMITS['max_body'], write_timeout=_LIMITS['write_timeout'],
                 max_sockets=_LIMITS['max_sockets'], clock=ticks_ms):
        self.max_requests = max_requests
        self.max_viewers = max_viewers
        self.max_sockets = max_sockets
        self.header_ms = int(header_timeout * 1000)
        self.request_ms = int(request_timeout * 1000)
        self.write_ms = int(write_timeout * 1000)
        self.max_headers = max_headers
        self.max_header_bytes = max_header_bytes
        # microdot's own limits still apply; ours can only be tighter
        self.max_line = min(max_line, Request.max_readline)
        self.max_body = min(max_body, Request.max_content_length)
        self.clock = clock
        self.conns = []         # open connections, oldest first
        self.requests = 0       # connections in READING or HANDLING
        self.viewers = 0
        self.sockets = 0        # long-lived connections that are not viewers (other WebSockets)
        self.refused = 0        # connections answered 503 at once (budget full, nothing to evict)
        self.dropped = 0        # connections we cancelled (timeout or eviction)
        self._sweeper = None

    # ---- the budget ----

    def open(self, reader, writer):
        """Register a new connection; None when the request budget is full and nothing can go."""
        if self.requests >= self.max_requests:
            for c in self.conns:
                if c.state == READING:
                    self.drop(c, 'evicted')
                    break
            else:
                self.refused += 1
                return None
        conn = Connection(self, reader, writer, asyncio.current_task())
        self.conns.append(conn)
        self.requests += 1
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep())
        return conn

    def current(self):
        """The connection the running task serves, or None."""
        task = asyncio.current_task()
        for conn in self.conns:
            if conn.task is task:
                return conn
        return None

    def close(self, conn):
        if conn in self.conns:
            self.conns.remove(conn)
            if conn.state == VIEWER:
                self.viewers -= 1
            elif conn.state == SOCKET:
                self.sockets -= 1
            else:
                self.requests -= 1

    def drop(self, conn, why):
        """Free the connection's slot now and cancel its task (it answers 408/503 and closes)."""
        self.close(conn)
        conn.why = why
        self.dropped += 1
        conn.task.cancel()

    def handling(self, conn):
        if conn.state == READING:
            conn.state = HANDLING

    def admit(self, conn, socket=False):
        """Make `conn` a viewer (or, with socket=True, a long-lived socket) if there is room;
        True when it is one."""
        if conn.state >= VIEWER:
            return True
        if conn not in self.conns:
            return False
        if socket:
            if self.sockets >= self.max_sockets:
                return False
            conn.state = SOCKET
            self.sockets += 1
        else:
            if self.viewers >= self.max_viewers:
                return False
            conn.state = VIEWER
            self.viewers += 1
        self.requests -= 1
        return True

    async def _sweep(self):
        # One task for all deadlines; it ends when no connection is left.
        period = max(SWEEP_MIN_MS, min(SWEEP_MAX_MS, self.header_ms // 4))
        try:
            while self.conns:
                await asyncio.sleep(period / 1000)
                now = self.clock()
                for c in self.conns[:]:
                    if c.state >= VIEWER:
                        # a viewer (or socket) may stay for ever, but not stuck in one write (a client that
                        # stopped reading an MJPEG stream)
                        if c.since is not None and ticks_diff(now, c.since) > self.write_ms:
                            self.drop(c, 'stalled')
                    elif ticks_diff(now, c.start) > (
                            self.header_ms if c.state == READING else self.request_ms):
                        self.drop(c, 'timeout')
        finally:
            self._sweeper = None

    # ---- serving ----

    async def serve(self, handle, reader, writer):
        """Run microdot's handle_request(reader, writer) for one connection within the limits
        (through camdot.http11.serve: refusals, lost connections and errors are answered there)."""
        conn = self.open(reader, writer)
        if conn is None:
            await reply(writer, 503)
            await abort(writer)
            return
        try:
            await http11.serve(handle, conn)
        except asyncio.CancelledError:
            if conn.why is None:
                raise  # not ours (server shutdown)
            if conn.state == READING and conn.refused is None:
                await reply(writer, 408 if conn.why == 'timeout' else 503)
            await abort(writer)
        finally:
            self.close(conn)


def _out_of_memory():
    # Running out of heap is an overload like any other: the client may retry shortly.
    gc.collect()
    return 'Out of memory, try again later.', 503, {'Retry-After': str(OOM_RETRY_AFTER_S)}


def connection(request):
    """The Connection behind a request, or None (e.g. microdot's TestClient)."""
    sock = getattr(request, 'sock', None)
    conn = sock[0] if sock else None
    return conn if isinstance(conn, Connection) else None


def count_as_viewers(app, *routes):
    """Count the connections that `routes` (route functions of `app`, as its decorators return
    them) serve as viewers: the expensive connections, capped by config max_clients (camera
    streams). Each is admitted, or answered 503 with Retry-After, after the app's Host/Origin and
    login checks and before the route runs (so before a WebSocket upgrade). Other WebSockets (the
    Web Thing socket /ws, pub/sub) are long-lived too but cheap: limits.max_sockets caps them."""
    app.viewer_routes = getattr(app, 'viewer_routes', ()) + routes


def admit_viewer(request):
    """Count this request's connection as a viewer; False when max_clients viewers are on.

    Idempotent; the slot is freed when the connection closes. True when the app has no limits or
    the request did not come through the limited server (in-process test clients).
    """
    lim = getattr(request.app, 'limits', None)
    conn = connection(request)
    if lim is None or conn is None:
        return True
    return lim.admit(conn)


def install(app, config):
    """Serve `app` within the limits of `config` (see the module docstring); returns the Limits."""
    cfg = config.get('limits', {})
    given = {name: cfg[name] for name in SETTINGS if name in cfg}   # else Limits' defaults
    if 'max_clients' in config:
        given['max_viewers'] = config['max_clients']
    lim = Limits(**given)
    app.limits = lim
    handle = app.handle_request

    async def handle_request(reader, writer):
        await lim.serve(handle, reader, writer)

    app.handle_request = handle_request  # start_server calls self.handle_request
    dispatch = app.dispatch_request

    async def dispatch_request(req):
        # microdot answers 400 when building the request raised (or the client sent nothing).
        # The reader refuses every malformed head itself, so a request that failed there ran
        # out of memory: an overload, as the MemoryError handler below says.
        if req is None:
            conn = lim.current()
            if conn is not None and not (conn.done and conn.lines <= 1):
                return Response(*_out_of_memory())
        return await dispatch(req)

    app.dispatch_request = dispatch_request

    async def viewers_and_requests(request):
        conn = connection(request)
        if conn is None:
            return None
        if request.route in getattr(app, 'viewer_routes', ()):
            if not lim.admit(conn):
                return VIEWERS_FULL
        elif is_upgrade(request):
            if not lim.admit(conn, socket=True):
                return 'Too many connections, try again later.', 503, {'Retry-After': '5'}
        else:
            lim.handling(conn)
        return None

    app.before_request(viewers_and_requests)

    @app.errorhandler(MemoryError)
    async def out_of_memory(request, exc):
        return _out_of_memory()

    # Last: a body held back by the reader (chunked, or `Expect: 100-continue`) is read only
    # once the checks above and those installed before (Host, Origin, login) let the request in.
    app.before_request(http11.read_body)
    return lim
