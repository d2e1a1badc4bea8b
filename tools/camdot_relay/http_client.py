"""A small asyncio HTTP/1.1 client for the ingest: one request per connection, everything bounded.

    res = await request('GET', 'http://cam.local/status', timeout=5)
    res.status, res.headers['content-type']
    doc = await res.json(limit=256 * 1024)        # Content-Length, chunked, or to the end
    async for piece in res.pieces(stall=10): ...  # a body that never ends (MJPEG), de-chunked
    res.close()

Board firmwares answer in every shape (Espressif's httpd streams MJPEG with chunked encoding,
others with neither length nor chunks): all are read the same way. HTTPError says what was wrong.
"""
import asyncio
import json
import ssl as _ssl

MAX_HEAD = 16384       # status line + headers
MAX_CHUNK_LINE = 1024
READ = 65536


class HTTPError(Exception):
    """A request failed: no connection, a timeout, or an answer that is not HTTP."""


def split_url(url):
    """'http://host:port/path?q' -> (secure, host, port, 'host:port', '/path?q')."""
    scheme, sep, rest = url.partition('://')
    if not sep or scheme not in ('http', 'https'):
        raise HTTPError('not an http:// URL: %r' % url)
    hostport, slash, path = rest.partition('/')
    hostport = hostport.rpartition('@')[2]  # credentials are the caller's business
    host, colon, port = hostport.rpartition(':')
    if not colon or not port.isdigit() or (host.startswith('[') != host.endswith(']')):
        host, port = hostport, '443' if scheme == 'https' else '80'
    if not host:
        raise HTTPError('no host in %r' % url)
    return scheme == 'https', host.strip('[]'), int(port), hostport, slash + path or '/'


async def request(method, url, headers=None, body=None, timeout=5.0):
    """Send one request; return the Response once its head is read (HTTPError otherwise)."""
    secure, host, port, hostport, path = split_url(url)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=_ssl.create_default_context() if secure
                                    else None, limit=MAX_HEAD), timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        raise HTTPError('cannot connect to %s: %s' % (hostport, _why(exc)))
    res = Response(reader, writer)
    try:
        head = ['%s %s HTTP/1.1' % (method, path), 'Host: ' + hostport, 'Connection: close']
        for name, value in (headers or {}).items():
            head.append('%s: %s' % (name, value))
        if body is not None:
            if isinstance(body, str):
                body = body.encode()
            head.append('Content-Length: %d' % len(body))
        writer.write(('\r\n'.join(head) + '\r\n\r\n').encode())
        if body:
            writer.write(body)
        await asyncio.wait_for(res._read_head(), timeout)
    except (OSError, asyncio.TimeoutError, ValueError, asyncio.LimitOverrunError) as exc:
        res.close()
        raise HTTPError('%s %s: %s' % (method, url.partition('?')[0], _why(exc)))
    except BaseException:
        res.close()
        raise
    return res


def _why(exc):
    if isinstance(exc, asyncio.TimeoutError):
        return 'timed out'
    return str(exc) or type(exc).__name__


class Response:
    """The answer to `request`: `status`, `reason`, `headers` (lower-case names), the body."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.status = 0
        self.reason = ''
        self.headers = {}

    async def _read_head(self):
        line = await self.reader.readline()
        parts = line.decode('latin-1').split(None, 2)
        if len(parts) < 2 or not parts[0].startswith('HTTP/1.') or not parts[1].isdigit():
            raise ValueError('not an HTTP response: %r' % line[:60])
        self.status = int(parts[1])
        self.reason = parts[2].strip() if len(parts) > 2 else ''
        size = len(line)
        while True:
            line = await self.reader.readline()
            size += len(line)
            if size > MAX_HEAD:
                raise ValueError('response head over %d bytes' % MAX_HEAD)
            if not line:
                raise ValueError('connection closed in the response head')
            if line in (b'\r\n', b'\n'):
                return
            name, colon, value = line.decode('latin-1').partition(':')
            if not colon:
                raise ValueError('malformed header line %r' % line[:60])
            self.headers[name.strip().lower()] = value.strip()

    async def pieces(self, stall=None):
        """The body as it comes, de-chunked; `stall` seconds without data raise HTTPError."""
        read = self._reader(stall)
        if 'chunked' in self.headers.get('transfer-encoding', '').lower():
            while True:
                line = await read(self.reader.readline)
                if len(line) > MAX_CHUNK_LINE or not line.endswith(b'\n'):
                    raise HTTPError('malformed chunk size line')
                try:
                    n = int(line.split(b';')[0].strip(), 16)
                except ValueError:
                    raise HTTPError('malformed chunk size %r' % line[:20])
                if n == 0:
                    return
                while n > 0:
                    piece = await read(self.reader.read, min(n, READ))
                    if not piece:
                        raise HTTPError('connection closed inside a chunk')
                    n -= len(piece)
                    yield piece
                if await read(self.reader.readline) not in (b'\r\n', b'\n'):
                    raise HTTPError('a chunk does not end with CRLF')
        length = self.headers.get('content-length')
        if length is not None:
            if not length.isdigit():
                raise HTTPError('bad Content-Length %r' % length)
            n = int(length)
            while n > 0:
                piece = await read(self.reader.read, min(n, READ))
                if not piece:
                    raise HTTPError('connection closed %d bytes before the end of the body' % n)
                n -= len(piece)
                yield piece
            return
        while True:
            piece = await read(self.reader.read, READ)
            if not piece:
                return
            yield piece

    def _reader(self, stall):
        async def read(fn, *args):
            try:
                if stall is None:
                    return await fn(*args)
                return await asyncio.wait_for(fn(*args), stall)
            except asyncio.TimeoutError:
                raise HTTPError('no data for %g s' % stall)
            except (OSError, ValueError, asyncio.LimitOverrunError,
                    asyncio.IncompleteReadError) as exc:
                raise HTTPError('reading the body: %s' % _why(exc))
        return read

    async def read(self, limit, stall=10.0):
        """The whole body (at most `limit` bytes, else HTTPError)."""
        out = bytearray()
        async for piece in self.pieces(stall):
            out += piece
            if len(out) > limit:
                raise HTTPError('body over %d bytes' % limit)
        return bytes(out)

    async def json(self, limit, stall=10.0):
        """The body as JSON (HTTPError when it is not)."""
        data = await self.read(limit, stall)
        try:
            return json.loads(data)
        except ValueError:
            raise HTTPError('the body is not JSON: %r' % data[:40])

    def close(self):
        try:
            self.writer.close()
        except Exception:
            pass

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.close()
