"""HTTP/1.1 at microdot's edge: the request as the socket brings it, the response as it leaves.

    from camdot import http11
    app = Microdot()          # routes, before_request hooks (Host, Origin, login ...)
    http11.install(app)       # then this: every connection through a Duplex, read_body last

camdot.limits.install(app, config) does the same with its budgets and deadlines (its Connection
is a Duplex); an app without them (tools/ws_echo.py, tools/pubsub_server.py) calls install().

microdot 2.7.0 (its code is not changed) reads a request line, headers and a Content-Length body,
and writes `HTTP/1.0 <code> N/A`. Around it:

- Duplex bounds the head while it is read: lines (`max_line`: 414 for the request line, else
  431), header count and bytes (431), Content-Length (`max_body`: 413 before any of the body is
  read). It refuses with 400 what microdot would fail on with a traceback, and what RFC 9112 says
  to refuse: whitespace before a field's colon, obs-fold, two Content-Lengths, Content-Length with
  Transfer-Encoding. A transfer coding other than chunked is 501, an expectation other than
  100-continue 417.
- Bodies sent the HTTP/1.1 way wait for read_body(), the last before_request hook: a chunked body,
  and any body announced with `Expect: 100-continue`. A request refused before it (401, 403, 404,
  429, 503...) is answered without its body being read; otherwise `100 Continue` goes out when the
  client asked for it, then the body is read. A chunked body is decoded (RFC 9112 7.1), counted
  against `max_body` (413 as soon as it is over), its trailers read and dropped; a bad chunk-size
  line, a chunk not followed by CRLF or an over-long line is 400. The route sees the decoded body
  in request.body, .json, .form and .stream, with Content-Length set to its size, as RFC 9112 7.1.3
  says a recipient should.
- Duplex also makes every response microdot writes (routes, error handlers, its own 400/404/405/413)
  start `HTTP/1.1 <code> <reason phrase>` and say `Connection: close`: the server answers one
  request per connection. A Connection header the app set is dropped; a 101 is left as it is.

Refusals before microdot has a request (RequestRefused) are answered by serve() with reply().
"""
import asyncio

from microdot.microdot import HTTPException, Request, urldecode

from camdot.compat import const, ticks_add, ticks_diff, ticks_ms

CHUNK = 512       # bytes read at a time while the head is read
RETRY_AFTER_S = 5     # what a 503 from reply() (a full server) asks the client to wait
# What a client still sends after its answer is read and dropped (Duplex.discard) until it pauses
# for LINGER_IDLE_MS, for at most LINGER_MS or LINGER_BYTES.
LINGER_IDLE_MS = 200
LINGER_MS = 2000
LINGER_BYTES = 65536
# Duplex.part: where microdot is in writing a response
BEFORE_STATUS = const(0)  # its status line is still to come
IN_FIELDS = const(1)      # between its status line and the empty line after the header fields
IN_BODY = const(2)        # the rest (or not microdot's response): passed through untouched
_HEX = b'0123456789abcdefABCDEF'
# What a Transfer-Encoding list may hold: token characters (RFC 9110 5.6.2), list and parameter
# punctuation, quotes and blanks.
_CODING_BYTES = (b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 b',;="\t ')

# RFC 9110 section 15, and 429 (RFC 6585).
REASONS = {
    100: 'Continue', 101: 'Switching Protocols',
    200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information',
    204: 'No Content', 205: 'Reset Content', 206: 'Partial Content',
    300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other',
    304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
    400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden',
    404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
    407: 'Proxy Authentication Required', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone',
    411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large',
    414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable',
    417: 'Expectation Failed', 421: 'Misdirected Request', 422: 'Unprocessable Content',
    426: 'Upgrade Required', 428: 'Precondition Required', 429: 'Too Many Requests',
    431: 'Request Header Fields Too Large',
    500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
    503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
}


def reason(status):
    """The standard reason phrase of `status` ('' for a code RFC 9110 does not name)."""
    return REASONS.get(status, '')


class Bounds:
    """The size bounds a Duplex holds a request to, for install(): microdot's own for a line and a
    body (Request.max_readline, Request.max_content_length, read when made), and for the header
    fields, which microdot does not bound: MAX_HEADERS lines, MAX_HEADER_BYTES in all.
    (camdot.limits.Limits has the device's, from its config.)"""
    MAX_HEADERS = 100
    MAX_HEADER_BYTES = 16384

    def __init__(self, max_line=None, max_headers=MAX_HEADERS, max_header_bytes=MAX_HEADER_BYTES,
                 max_body=None):
        self.max_line = max_line or Request.max_readline
        self.max_headers = max_headers
        self.max_header_bytes = max_header_bytes
        self.max_body = max_body or Request.max_content_length


def client_ip(request):
    """The client's address without the port (the unix port gives a raw sockaddr)."""
    addr = request.client_addr
    if isinstance(addr, (tuple, list)):
        return addr[0]
    if isinstance(addr, (bytes, bytearray)) and len(addr) >= 8:
        return bytes(addr[4:8])  # sockaddr_in: family(2) port(2) address(4)
    return addr


def is_upgrade(request):
    """True when `request` asks for a WebSocket (its Upgrade header names websocket): what the
    Origin check, the login page and the socket budget go by. Looser than the handshake's own
    check (camdot.websocket.handshake.check_request), so that every request it accepts is one."""
    return 'websocket' in request.headers.get('Upgrade', '').lower()


class RequestRefused(BaseException):
    """Raised while a request is read to answer it at once with `status` and close.

    Not an Exception: microdot's Request.create turns any Exception into a 400 with a traceback on
    the console; this one goes past it to serve(), which answers with reply().
    """

    def __init__(self, status):
        self.status = status


def _check_request_line(line):
    """Refuse (400) the request lines microdot would fail on with a traceback."""
    try:
        parts = line.decode().split()
    except UnicodeError:
        raise RequestRefused(400)
    if len(parts) != 3 or not parts[2].startswith('HTTP/'):
        raise RequestRefused(400)
    q = parts[1].find('?')
    if q >= 0 and '%' in parts[1]:
        try:
            urldecode(parts[1][q + 1:])  # what microdot does to the query string
        except Exception:
            raise RequestRefused(400)


def _is_codings(value):
    """True when `value` has the shape of a transfer-coding list (RFC 9112 6.1: tokens, with
    parameters): one that is well formed but not chunked is 501 (not implemented), not 400."""
    for c in value:
        if c not in _CODING_BYTES:
            return False
    return True


def _chunk_size(line):
    """The size on a chunk-size line (RFC 9112 7.1: hex digits, then extensions, ignored)."""
    digits = line.partition(b';')[0].rstrip(b'\r\n').rstrip(b' \t')
    if not digits:
        raise RequestRefused(400)
    for c in digits:
        if c not in _HEX:     # int(x, 16) also takes '0x', '+', '_' and spaces
            raise RequestRefused(400)
    digits = digits.lstrip(b'0')
    if len(digits) > 6:       # over 16 MB: beyond any max_body, and no big integer for it
        raise RequestRefused(413)
    return int(digits, 16) if digits else 0


class Duplex:
    """One connection as microdot reads its request and writes its response (see the module
    docstring); one object both ways, as MicroPython's own asyncio Stream is.

    `limits` is anything with max_line, max_headers, max_header_bytes and max_body (a Bounds, or
    a camdot.limits.Limits); `reader` and `writer` are the connection's streams (the same object on
    MicroPython). Reading: until the head is read, lines come from a small buffer filled with
    read(CHUNK), so that neither a line nor the header block can grow past its limit; once the
    buffer is empty (and no body waits for read_body), reads go straight to the reader (bound as
    instance attributes: no extra call per WebSocket read). Writing: microdot writes the status
    line, then each header field, then an empty line, each with its own awrite(): the first two
    are rewritten, the rest passes through. Anything else (write, drain, the raw socket .s, ...)
    is the writer's.
    """

    # The framing the head announced. Class-level defaults: a request without a body writes none.
    length = None       # Content-Length
    chunked = False     # Transfer-Encoding: chunked
    expect = False      # Expect: 100-continue
    held = False        # a body waits for read_body(); microdot was given none
    part = BEFORE_STATUS    # where microdot is in writing its response
    refused = None      # the status serve() answered a RequestRefused with

    def __init__(self, limits, reader, writer):
        self.limits = limits
        self.reader = reader
        self.writer = writer
        self.buf = b''
        self.lines = 0
        self.size = 0
        self.done = False       # the empty line after the headers was seen
        # the reads microdot and the WebSocket use: buffered until the request is read, then
        # the stream's own (see _direct)
        self.readline = self._readline
        self.read = self._read
        self.readexactly = self._readexactly
        self.readinto = self._readinto

    def __getattr__(self, name):  # anything else the writer offers (e.g. the raw socket .s)
        return getattr(self.writer, name)

    # ---- the head ----

    async def _line(self, limit, status):
        """The next line with its b'\\n' (b'' at the end of the stream); RequestRefused(status)
        when it is longer than `limit` bytes."""
        while True:
            i = self.buf.find(b'\n')
            if i >= limit or (i < 0 and len(self.buf) > limit):
                raise RequestRefused(status)
            if i >= 0:
                line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                return line
            data = await self.reader.read(CHUNK)
            if not data:
                line, self.buf = self.buf, b''
                return line
            self.buf += data

    async def _readline(self):
        if self.done:
            if not self.buf:
                return await self.reader.readline()
            return await self._line(self.limits.max_line, 431)
        lim = self.limits
        line = await self._line(lim.max_line, 414 if self.lines == 0 else 431)
        self.lines += 1
        if not line or (self.lines > 1 and line in (b'\r\n', b'\n')):
            self._head_read()
            return line
        self.size += len(line)
        if self.lines > lim.max_headers + 1 or self.size > lim.max_header_bytes:
            raise RequestRefused(431)
        if self.lines == 1:
            _check_request_line(line)
        else:
            self._field(line)
        return line

    def _field(self, line):
        """Check one header field line and note the framing it announces."""
        if line[:1] in (b' ', b'\t'):
            raise RequestRefused(400)     # obs-fold (RFC 9112 5.2)
        name, colon, value = line.partition(b':')
        if not colon or not name or name[-1:] in (b' ', b'\t'):
            raise RequestRefused(400)     # no name, or whitespace before the colon (RFC 9112 5.1)
        try:
            line.decode()         # as microdot does to every line
        except UnicodeError:
            raise RequestRefused(400)
        name = name.lower()
        if name == b'content-length':
            # checked here, before microdot reads the body: it would read a body up to
            # max_body_length before its 413, and readexactly() a negative length (to the
            # end of the stream on MicroPython)
            value = value.strip()
            if not value.isdigit() or self.length is not None:
                raise RequestRefused(400)
            self.length = int(value)
            if self.length > self.limits.max_body:
                raise RequestRefused(413)
        elif name == b'transfer-encoding':
            value = value.strip().lower()
            if self.chunked or not value:
                raise RequestRefused(400)
            if value != b'chunked':
                raise RequestRefused(501 if _is_codings(value) else 400)
            self.chunked = True
        elif name == b'expect':
            if value.strip().lower() != b'100-continue':
                raise RequestRefused(417)
            self.expect = True

    def _head_read(self):
        self.done = True
        if self.chunked:
            if self.length is not None:
                raise RequestRefused(400)  # both framings: a request smuggling shape (RFC 9112 6.3)
            self.held = True
        elif self.expect and self.length:
            self.held = True
        self._direct()

    # ---- the body ----

    async def _exactly(self, n):
        if not self.buf:
            return await self.reader.readexactly(n)
        data, self.buf = self.buf[:n], self.buf[n:]
        if len(data) < n:
            data += await self.reader.readexactly(n - len(data))
        return data

    async def read_chunked(self):
        """Read a chunked body to its end (trailers dropped); return it decoded.

        RequestRefused(413) once it grows past max_body, RequestRefused(400) when it is malformed.
        """
        lim = self.limits
        parts = []
        total = 0
        while True:
            line = await self._line(lim.max_line, 400)
            if not line.endswith(b'\n'):
                raise RequestRefused(400)          # the stream ended
            size = _chunk_size(line)
            if not size:
                break
            total += size
            if total > lim.max_body:
                raise RequestRefused(413)
            parts.append(await self._exactly(size))
            if await self._exactly(2) != b'\r\n':
                raise RequestRefused(400)
        fields = 0
        while True:                        # the trailer section: read, checked, dropped
            line = await self._line(lim.max_line, 431)
            if line in (b'\r\n', b'\n'):
                break
            fields += 1
            if not line.endswith(b'\n') or b':' not in line or line[:1] in (b' ', b'\t'):
                raise RequestRefused(400)
            if fields > lim.max_headers:
                raise RequestRefused(431)
        return b''.join(parts)

    async def read_held(self):
        """Read the body the head held back (see read_body); RequestRefused as read_chunked does."""
        try:
            if self.chunked:
                body = await self.read_chunked()
            else:
                body = await self._exactly(self.length)
        except EOFError:                   # the client went away mid-body (IncompleteReadError)
            raise RequestRefused(400)
        self.held = False
        self._direct()
        return body

    async def discard(self):
        """Read and drop what the client still sends of a request we answered without reading
        it all: until it pauses for LINGER_IDLE_MS, for at most LINGER_MS or LINGER_BYTES.

        Closing a socket with unread data resets the connection, and a client still sending (not
        every client asks for 100 Continue) could lose the answer already sent. A client waiting
        for a 100 Continue it did not get sends nothing: nothing to wait for.
        """
        self.buf = b''
        if self.expect:
            return
        end = ticks_add(ticks_ms(), LINGER_MS)
        left = LINGER_BYTES
        while left > 0:
            wait = min(LINGER_IDLE_MS, ticks_diff(end, ticks_ms()))
            if wait <= 0:
                break
            try:
                data = await asyncio.wait_for(self.reader.read(CHUNK), wait / 1000)
            except Exception:              # a pause, the time is up, or the client reset
                break
            if not data:
                break
            left -= len(data)

    # ---- the reads microdot and the WebSocket use ----

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
        if self.held:
            # microdot's Request.create asks for a body announced with Expect: 100-continue
            # before any hook ran: it gets none now; read_body() reads it after the hooks.
            return b''
        data = await self._exactly(n)
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
        if self.done and not self.buf and not self.held:
            r = self.reader
            self.read = r.read
            self.readexactly = r.readexactly
            self.readline = r.readline
            if hasattr(r, 'readinto'):
                self.readinto = r.readinto


    # ---- the response microdot writes ----

    def head(self, data):
        """`data` as it should go out while the head is written; None to drop it."""
        if self.part == BEFORE_STATUS:
            # Only microdot's own status line: a 100 Continue or a 101 written by hand, or
            # a WebSocket frame, goes as it is.
            if not (isinstance(data, bytes) and data.startswith(b'HTTP/1.0 ')):
                return data
            code, _, phrase = data[9:].partition(b' ')
            status = int(code)
            phrase = phrase.rstrip(b'\r\n')
            if phrase in (b'N/A', b'OK'):   # microdot's defaults; a route's own phrase stays
                phrase = reason(status).encode()
            if status == 101:
                self.part = IN_BODY
                return b'HTTP/1.1 101 %s\r\n' % phrase
            self.part = IN_FIELDS
            return b'HTTP/1.1 %d %s\r\nConnection: close\r\n' % (status, phrase)
        if data == b'\r\n':
            self.part = IN_BODY
        elif data[:11].lower() == b'connection:':
            return None
        return data

    async def awrite(self, data):
        if self.part != IN_BODY:
            data = self.head(data)
            if data is None:
                return
        await self.writer.awrite(data)

    async def aclose(self):
        if self.held:       # answered (refused) without reading the body
            await self.discard()
        await self.writer.aclose()


def _set_body(request, body):
    # microdot 2.7.0 keeps the body in Request._body (read by .body, .json, .form) and the
    # stream in ._stream (None: .stream serves the body); it has no public way to set them
    # after Request.create. tests/portable/test_http11.py checks each of those views.
    request._body = body
    request._stream = None
    request.content_length = len(body)
    request.headers['Content-Length'] = str(len(body))
    if 'Transfer-Encoding' in request.headers:
        del request.headers['Transfer-Encoding']   # RFC 9112 7.1.3: the body is decoded


async def read_body(request):
    """before_request hook: read the body the head held back (a chunked body, or one announced
    with `Expect: 100-continue`), answering `100 Continue` first when asked.

    Install it after every hook that may refuse the request: a refused body is never read.
    Errors go through microdot's error path (error handlers, after_error_request hooks).
    """
    sock = request.sock
    duplex = sock[0] if sock else None
    if not isinstance(duplex, Duplex) or not duplex.held:   # test clients: no Duplex
        return None
    if request.http_version == '1.0':
        if duplex.chunked:   # RFC 9112 6.1: chunked in HTTP/1.0 is faulty framing
            raise HTTPException(400, 'Transfer-Encoding needs HTTP/1.1')
    elif duplex.expect:
        await duplex.awrite(b'HTTP/1.1 100 Continue\r\n\r\n')
        duplex.expect = False   # met: the client sends its body now
    try:
        body = await duplex.read_held()
    except RequestRefused as exc:
        raise HTTPException(exc.status, 'Malformed chunked body' if exc.status == 400 else
                            reason(exc.status))
    _set_body(request, body)
    return None


async def serve(handle, duplex):
    """Run microdot's handle_request(duplex, duplex) for one connection (`handle`: the app's own,
    before install() or camdot.limits replaced it). A RequestRefused is answered with its status
    (reply()), then what the client still sends is read and dropped, and the connection closed;
    a connection lost is closed quietly; any other error is logged and ends this connection only
    (microdot would leave its socket open and the task failed). CancelledError is the caller's."""
    writer = duplex.writer
    try:
        await handle(duplex, duplex)
    except RequestRefused as exc:
        duplex.refused = exc.status
        await reply(writer, exc.status)
        await duplex.discard()
        await abort(writer)
    except OSError:
        await abort(writer)     # the peer went away; nothing to tell anyone
    except Exception as exc:    # e.g. a MemoryError while microdot writes the response
        print('camdot http11: connection dropped:', repr(exc))
        await abort(writer)


def install(app, bounds=None):
    """Serve `app` the HTTP/1.1 way (see the module docstring): every connection read and written
    through a Duplex held to `bounds` (default Bounds()), read_body() as the last before_request
    hook. Call it after the app's own before_request hooks: a request they refuse is answered
    without its body being read.

        app = Microdot(); ...; http11.install(app)

    (camdot.limits.install() does this itself, with its budgets: don't call both.)
    """
    bounds = bounds or Bounds()
    handle = app.handle_request

    async def handle_request(reader, writer):
        await serve(handle, Duplex(bounds, reader, writer))

    app.handle_request = handle_request   # start_server calls self.handle_request
    app.before_request(read_body)


async def abort(writer):
    """Close a connection without waiting for a peer that may never read. CPython:
    transport.abort() drops any unsent data. MicroPython: Stream.close() does nothing,
    wait_closed() closes the socket."""
    try:
        t = getattr(writer, 'transport', None)
        if t is not None:
            t.abort()
        else:
            await writer.wait_closed()
    except Exception:
        pass


async def reply(writer, status):
    """Answer `status` on a connection microdot has no request for (a RequestRefused, a full
    server).

    A few bytes on a connection that has sent nothing yet: drain() returns at once.
    """
    phrase = reason(status)
    try:
        writer.write(('HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n'
                      '%sConnection: close\r\n\r\n%s\n' % (
                          status, phrase, len(phrase) + 1,
                          'Retry-After: %d\r\n' % RETRY_AFTER_S if status == 503 else '',
                          phrase)).encode())
        await writer.drain()
    except Exception:
        pass
