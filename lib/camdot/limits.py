"""Connection and request limits for a small device, added around microdot (its code is not patched).

    from camdot import limits
    lim = limits.install(app, config)      # after auth.install; returns the Limits
    if not limits.admit_viewer(request):   # a streaming route (the paths in VIEWER_PATHS are
        return 'Too many viewers', 503     # admitted automatically)

Three budgets: short HTTP requests (config limits.max_requests), viewers, i.e. the camera streams
/ws/stream and /stream (config max_clients), and other WebSockets such as the Web Thing socket /ws
(config limits.max_sockets), so a page (one stream + one control socket) takes one viewer slot.
A connection counts as a request from accept until its route makes it a viewer or socket, or it
closes; a viewer or socket frees its slot when its connection closes. When the request
budget is full, a new connection evicts the oldest one still sending its request (slowloris), else it
gets 503. A request must arrive within limits.header_timeout seconds (408) and be answered within
limits.request_timeout; a viewer whose write has not gone through for limits.write_timeout seconds
(a client that stopped reading) is dropped. While a request is read, lines are bounded by limits.max_line (414/431), the
headers in count and total size (431), and Content-Length by limits.max_body (413, before microdot
reads the body); microdot's own Request.max_readline and max_content_length still apply as well.
A MemoryError in a route is answered 503 (an overload, not a bug). With "debug": true in the config,
GET /debug/heap answers the free heap (after a collection) and the budget counters.
"""
import asyncio
import gc

from microdot import Request
from microdot.microdot import urldecode

from camdot.compat import mem_alloc, mem_free, ticks_diff, ticks_ms

READING, HANDLING, VIEWER, SOCKET = 0, 1, 2, 3
CHUNK = 512
# The expensive connections, capped by max_clients: camera streams. Other WebSockets (the Web Thing
# socket /ws, pub/sub) are long-lived too but cheap; they have their own cap, limits.max_sockets.
VIEWER_PATHS = ('/stream', '/ws/stream')


REASONS = {400: 'Bad Request', 408: 'Request Timeout', 413: 'Payload Too Large',
           414: 'URI Too Long', 431: 'Request Header Fields Too Large', 503: 'Service Unavailable'}


class Refuse(BaseException):
    """Raised while a request is read to answer it at once with `status` and close.

    Not an Exception: microdot's Request.create turns any Exception into a 400 with a traceback on
    the console; this one goes past it to Limits.serve, which answers.
    """

    def __init__(self, status):
        self.status = status


def _check(line, first):
    """Refuse (400) the shapes microdot would fail on with a traceback on the console."""
    try:
        text = line.decode()
    except UnicodeError:
        raise Refuse(400)
    if first:
        parts = text.split()
        if len(parts) != 3 or not parts[2].startswith('HTTP/'):
            raise Refuse(400)
        q = parts[1].find('?')
        if q >= 0 and '%' in parts[1]:
            try:
                urldecode(parts[1][q + 1:])  # what microdot does to the query string
            except Exception:
                raise Refuse(400)
    elif ':' not in text:
        raise Refuse(400)


class Conn:
    """One client connection: its place in the budget and the bounded reader microdot reads from.

    Until the request is complete, lines come from a small buffer filled with read(CHUNK), so that
    neither a line nor the header block can grow past its limit; once the buffer is empty, reads go
    straight to the stream (bound as instance attributes: no extra call per WebSocket read).
    """

    def __init__(self, limits, reader, task):
        self.limits = limits
        self.reader = reader
        self.task = task
        self.start = limits.clock()
        self.state = READING
        self.why = None         # 'timeout', 'evicted' or 'stalled' once we cancelled it
        self.buf = b''
        self.lines = 0
        self.size = 0
        self.done = False       # the empty line after the headers was seen
        self.since = None       # when the awrite() in progress started
        # the reads microdot and the WebSocket use: buffered until the request is read, then
        # the stream's own (see _direct)
        self.readline = self._readline
        self.read = self._read
        self.readexactly = self._readexactly
        self.readinto = self._readinto

    def __getattr__(self, name):  # anything else the stream offers (e.g. the raw socket .s)
        return getattr(self.reader, name)

    async def _readline(self):
        if self.done and not self.buf:
            return await self.reader.readline()
        lim = self.limits
        limit = lim.max_line
        while True:
            i = self.buf.find(b'\n')
            if i >= limit or (i < 0 and len(self.buf) > limit):
                raise Refuse(414 if self.lines == 0 else 431)
            if i >= 0:
                line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                break
            data = await self.reader.read(CHUNK)
            if not data:
                line, self.buf = self.buf, b''
                break
            self.buf += data
        if not self.done:
            self.lines += 1
            if not line or (self.lines > 1 and line in (b'\r\n', b'\n')):
                self.done = True
                self._direct()
                return line
            self.size += len(line)
            if self.lines > lim.max_headers + 1 or self.size > lim.max_header_bytes:
                raise Refuse(431)
            _check(line, self.lines == 1)
            head = line.lstrip()  # microdot strips the line before it splits the header
            if head[:15].lower() == b'content-length:':
                # checked here, before microdot reads the body: it would read a body up to
                # max_body_length before its 413, and readexactly() a negative length (to the
                # end of the stream on MicroPython)
                n = head[15:].strip()
                if not n.isdigit():
                    raise Refuse(400)
                if int(n) > lim.max_body:
                    raise Refuse(413)
        return line

    async def _read(self, n=-1):
        if not self.buf:
            return await self.reader.read(n)
        if n < 0 or n >= len(self.buf):
            data, self.buf = self.buf, b''
        else:
            data, self.buf = self.buf[:n], self.buf[n:]
        self._direct()
        return data

    async def _readexactly(self, n):
        if n < 0:
            raise ValueError('negative length')
        if not self.buf:
            return await self.reader.readexactly(n)
        data, self.buf = self.buf[:n], self.buf[n:]
        if len(data) < n:
            data += await self.reader.readexactly(n - len(data))
        self._direct()
        return data

    async def _readinto(self, buf):
        if not self.buf:
            return await self.reader.readinto(buf)
        n = min(len(buf), len(self.buf))
        buf[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        self._direct()
        return n

    def _direct(self):
        if self.done and not self.buf:
            r = self.reader
            self.read = r.read
            self.readexactly = r.readexactly
            self.readline = r.readline
            if hasattr(r, 'readinto'):
                self.readinto = r.readinto


class Writer:
    """The stream microdot writes to: it notes when each awrite() starts, so that the sweeper can
    find a write stuck on a client that stopped reading. Anything else goes to the stream."""

    def __init__(self, conn, writer):
        self.conn = conn
        self.writer = writer

    def __getattr__(self, name):
        return getattr(self.writer, name)

    async def awrite(self, data):
        conn = self.conn
        conn.since = conn.limits.clock()
        try:
            await self.writer.awrite(data)
        finally:
            conn.since = None


class Limits:
    """The budgets and deadlines of one server (see the module docstring)."""

    def __init__(self, max_requests=4, max_viewers=4, header_timeout=10, request_timeout=30,
                 max_headers=32, max_header_bytes=4096, max_line=1024, max_body=8192,
                 write_timeout=20, max_sockets=4, clock=ticks_ms):
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

    def open(self, reader):
        """Register a new connection; None when the request budget is full and nothing can go."""
        if self.requests >= self.max_requests:
            for c in self.conns:
                if c.state == READING:
                    self.drop(c, 'evicted')
                    break
            else:
                self.refused += 1
                return None
        conn = Conn(self, reader, asyncio.current_task())
        self.conns.append(conn)
        self.requests += 1
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep())
        return conn

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
        period = max(50, min(1000, self.header_ms // 4))
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
        """Run microdot's handle_request(reader, writer) for one connection within the limits."""
        conn = self.open(reader)
        if conn is None:
            await _reply(writer, 503)
            await _abort(writer)
            return
        try:
            await handle(conn, Writer(conn, writer))
        except Refuse as exc:
            await _reply(writer, exc.status)
            await _abort(writer)
        except asyncio.CancelledError:
            if conn.why is None:
                raise  # not ours (server shutdown)
            if conn.state == READING:
                await _reply(writer, 408 if conn.why == 'timeout' else 503)
            await _abort(writer)
        except OSError:
            await _abort(writer)  # the peer went away; nothing to tell anyone
        except Exception as exc:
            # e.g. a MemoryError while microdot writes the response: this connection ends, the
            # server goes on (microdot would leave the socket open and the task failed)
            print('camdot limits: connection dropped:', repr(exc))
            await _abort(writer)
        finally:
            self.close(conn)


async def _reply(writer, status):
    # A few bytes on a connection that has sent nothing yet: drain() returns at once.
    reason = REASONS[status]
    try:
        writer.write(('HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n'
                      '%sConnection: close\r\n\r\n%s\n' % (
                          status, reason, len(reason) + 1,
                          'Retry-After: 5\r\n' if status == 503 else '', reason)).encode())
        await writer.drain()
    except Exception:
        pass


async def _abort(writer):
    # Close without waiting for a peer that may never read. CPython: transport.abort() drops any
    # unsent data. MicroPython: Stream.close() does nothing, wait_closed() closes the socket.
    try:
        t = getattr(writer, 'transport', None)
        if t is not None:
            t.abort()
        else:
            await writer.wait_closed()
    except Exception:
        pass


def connection(request):
    """The Conn behind a request, or None (e.g. microdot's TestClient)."""
    sock = getattr(request, 'sock', None)
    conn = sock[0] if sock else None
    return conn if isinstance(conn, Conn) else None


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
    lim = Limits(max_requests=cfg.get('max_requests', 4), max_viewers=config.get('max_clients', 4),
                 header_timeout=cfg.get('header_timeout', 10),
                 request_timeout=cfg.get('request_timeout', 30),
                 max_headers=cfg.get('max_headers', 32),
                 max_header_bytes=cfg.get('max_header_bytes', 4096),
                 max_line=cfg.get('max_line', 1024), max_body=cfg.get('max_body', 8192),
                 write_timeout=cfg.get('write_timeout', 20),
                 max_sockets=cfg.get('max_sockets', 4))
    app.limits = lim
    handle = app.handle_request

    async def handle_request(reader, writer):
        await lim.serve(handle, reader, writer)

    app.handle_request = handle_request  # start_server calls self.handle_request

    async def viewers_and_requests(request):
        conn = connection(request)
        if conn is None:
            return None
        if request.path in VIEWER_PATHS:
            if not lim.admit(conn):
                return 'Too many viewers, try again later.', 503, {'Retry-After': '5'}
        elif 'websocket' in request.headers.get('Upgrade', '').lower():
            if not lim.admit(conn, socket=True):
                return 'Too many connections, try again later.', 503, {'Retry-After': '5'}
        else:
            lim.handling(conn)
        return None

    app.before_request(viewers_and_requests)

    @app.errorhandler(MemoryError)
    async def out_of_memory(request, exc):
        # Running out of heap is an overload like any other: this client may retry shortly.
        gc.collect()
        return 'Out of memory, try again later.', 503, {'Retry-After': '2'}

    if config.get('debug'):
        # Off by default ("debug": true in the config): the soak test reads the heap here.
        @app.get('/debug/heap')
        async def heap(request):
            gc.collect()
            return {'free': mem_free(), 'alloc': mem_alloc(), 'conns': len(lim.conns),
                    'requests': lim.requests, 'viewers': lim.viewers, 'sockets': lim.sockets,
                    'dropped': lim.dropped,
                    'refused': lim.refused}
    return lim
