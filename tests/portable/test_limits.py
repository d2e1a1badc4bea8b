"""camdot.limits: bounded request reading, budgets, slowloris eviction, timeouts, viewer cap.

Portable: the server tests run a real server on a loopback port on both runtimes.
"""
import asyncio

from microdot import Microdot, Request

from camdot import config, http11, limits
from harness import araises, serve, until


class FakeReader:
    """Serves `data` in `step`-byte pieces and counts what was asked for."""

    def __init__(self, data, step=7):
        self.data = data
        self.step = step
        self.reads = 0

    async def read(self, n=-1):
        self.reads += 1
        k = self.step if n < 0 else min(n, self.step)
        out, self.data = self.data[:k], self.data[k:]
        return out

    async def readexactly(self, n):
        out, self.data = self.data[:n], self.data[n:]
        if len(out) < n:
            raise EOFError
        return out

    async def readline(self):
        i = self.data.find(b'\n')
        out, self.data = self.data[:i + 1], self.data[i + 1:]
        return out

    async def readinto(self, buf):
        n = min(len(buf), len(self.data))
        buf[:n] = self.data[:n]
        self.data = self.data[n:]
        return n


def conn_for(data, step=7, **kw):
    lim = limits.Limits(**kw)
    return limits.Connection(lim, FakeReader(data, step), None, None)


async def test_lines_then_body_from_the_buffer():
    c = conn_for(b'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello+rest', step=100)
    assert await c.readline() == b'POST /x HTTP/1.1\r\n'
    assert await c.readline() == b'Host: a\r\n'
    assert await c.readline() == b'Content-Length: 5\r\n'
    assert await c.readline() == b'\r\n'
    assert c.done
    assert await c.readexactly(5) == b'hello'
    assert await c.read(2) == b'+r'
    buf = bytearray(10)
    assert await c.readinto(buf) == 3 and buf[:3] == b'est'
    # buffer drained: reads now go straight to the stream (bound methods, no wrapper)
    assert c.read == c.reader.read and c.readinto == c.reader.readinto
    assert await c.read(10) == b''


async def test_body_split_between_buffer_and_stream():
    c = conn_for(b'GET / HTTP/1.1\r\n\r\nabcdefghij', step=20)
    assert await c.readline() == b'GET / HTTP/1.1\r\n'
    assert await c.readline() == b'\r\n'
    assert await c.readexactly(8) == b'abcdefgh'
    assert await c.readexactly(2) == b'ij'


async def test_content_length_is_checked_before_the_body_is_read():
    for bad in (b'-5', b'', b'0x10', b'1 2'):
        c = conn_for(b'POST / HTTP/1.1\r\nContent-length: ' + bad + b'\r\n\r\n')
        await c.readline()
        assert (await araises(http11.RequestRefused, c.readline())).status == 400
    c = conn_for(b'POST / HTTP/1.1\r\n  content-LENGTH: -1\r\n\r\n')
    await c.readline()
    assert (await araises(http11.RequestRefused, c.readline())).status == 400
    c = conn_for(b'POST / HTTP/1.1\r\nContent-Length:  12 \r\n\r\n')
    await c.readline()
    assert await c.readline() == b'Content-Length:  12 \r\n'
    c = conn_for(b'POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n', max_body=100)
    await c.readline()
    assert (await araises(http11.RequestRefused, c.readline())).status == 413


async def test_a_line_cannot_grow_past_max_line():
    c = conn_for(b'GET /' + b'a' * 10000, step=512, max_line=100)
    exc = await araises(http11.RequestRefused, c.readline())
    assert exc.status == 414
    assert c.reader.reads <= 2  # stopped at the limit, not at the end of the data
    c = conn_for(b'GET /' + b'a' * 90 + b' HTTP/1.1\r\n', step=512, max_line=100)
    await araises(http11.RequestRefused, c.readline())
    c = conn_for(b'GET /' + b'a' * 80 + b' HTTP/1.1\r\nX: ' + b'x' * 200, step=512, max_line=100)
    assert len(await c.readline()) == 96
    assert (await araises(http11.RequestRefused, c.readline())).status == 431


async def test_header_count_and_size_limits():
    many = b'GET / HTTP/1.1\r\n' + b'X-A: 1\r\n' * 5 + b'\r\n'
    c = conn_for(many, max_headers=4)
    for _ in range(5):
        await c.readline()
    assert (await araises(http11.RequestRefused, c.readline())).status == 431
    c = conn_for(many, max_headers=5)
    for _ in range(7):
        await c.readline()
    assert c.done
    c = conn_for(b'GET / HTTP/1.1\r\nX-Big: ' + b'b' * 200 + b'\r\n\r\n', max_header_bytes=100)
    await c.readline()
    assert (await araises(http11.RequestRefused, c.readline())).status == 431


async def test_malformed_lines_are_refused():
    for data in (b'GET /\r\n', b'GET / HTTP/1.1 x\r\n', b'GET / FTP/1\r\n',
                 b'GET / HTTP/1.1\r\nNo colon\r\n\r\n', b'GET /\xff HTTP/1.1\r\n',
                 b'GET / HTTP/1.1\r\nX: \xc3(\r\n\r\n', b'GET /?a=%zz HTTP/1.1\r\n',
                 b'GET /?a=%ff HTTP/1.1\r\n', b'GET /?a=%g1 HTTP/1.1\r\n'):
        c = conn_for(data)
        try:
            await c.readline()
            await c.readline()
        except http11.RequestRefused as exc:
            assert exc.status == 400
        else:
            assert False, data


async def test_good_escapes_pass():
    c = conn_for(b'GET /x?a=%41%c3%a9&b=1+2 HTTP/1.1\r\n\r\n')
    assert await c.readline() == b'GET /x?a=%41%c3%a9&b=1+2 HTTP/1.1\r\n'


async def test_eof_in_headers_ends_them():
    c = conn_for(b'GET / HTTP/1.1\r\nHost: a')
    assert await c.readline() == b'GET / HTTP/1.1\r\n'
    assert await c.readline() == b'Host: a'
    assert await c.readline() == b''
    assert c.done


async def test_budget_evicts_the_oldest_reader():
    lim = limits.Limits(max_requests=2, max_viewers=1)
    opened = []

    async def client():
        opened.append(lim.open(None, None))
        await asyncio.sleep(10)

    tasks = [asyncio.create_task(client()) for _ in range(3)]
    await until(lambda: len(opened) == 3, what='3 clients')
    first, second, third = opened
    assert first.why == 'evicted' and second.why is None and third is not None
    assert lim.requests == 2 and lim.conns == [second, third]
    lim.handling(second)
    lim.handling(third)
    assert not lim.admit(first)  # already gone
    # all busy handling: nobody to evict, the next one is refused
    tasks.append(asyncio.create_task(client()))
    await until(lambda: len(opened) == 4, what='the 4th client')
    assert opened[3] is None and lim.refused == 1
    # a viewer leaves the request budget: room for one more request
    assert lim.admit(second) and lim.viewers == 1 and lim.requests == 1
    assert not lim.admit(third)  # max_viewers=1
    assert lim.admit(second)     # idempotent
    lim.close(second)
    assert lim.viewers == 0
    for t in tasks:
        t.cancel()
    await asyncio.sleep(0)


async def test_other_websockets_have_their_own_budget():
    lim = limits.Limits(max_requests=8, max_viewers=1, max_sockets=2)
    opened = []

    async def client():
        opened.append(lim.open(None, None))
        await asyncio.sleep(10)

    tasks = [asyncio.create_task(client()) for _ in range(4)]
    await until(lambda: len(opened) == 4, what='4 clients')
    viewer, ws1, ws2, ws3 = opened
    assert lim.admit(viewer) and lim.viewers == 1
    # a page's control socket does not take a viewer slot, and does not need one
    assert lim.admit(ws1, socket=True) and lim.admit(ws2, socket=True)
    assert lim.sockets == 2 and lim.viewers == 1 and lim.requests == 1
    assert not lim.admit(ws3, socket=True)  # max_sockets=2
    lim.close(ws1)
    assert lim.sockets == 1 and lim.admit(ws3, socket=True)
    lim.close(ws2)
    lim.close(ws3)
    lim.close(viewer)
    assert lim.sockets == 0 and lim.viewers == 0 and lim.requests == 0
    for t in tasks:
        t.cancel()
    await asyncio.sleep(0)



async def test_a_viewer_stuck_in_a_write_is_dropped():
    lim = limits.Limits(header_timeout=0.2, write_timeout=0.3)
    seen = []

    class Stuck:
        async def awrite(self, data):
            await asyncio.sleep(10)  # a client that stopped reading

    async def viewer():
        conn = lim.open(None, Stuck())
        assert lim.admit(conn)
        try:
            await conn.awrite(b'frame')
        except asyncio.CancelledError:
            seen.append(conn.why)

    task = asyncio.create_task(viewer())
    await until(lambda: seen, what='the stuck viewer dropped')
    assert seen == ['stalled']
    assert lim.viewers == 0 and lim.conns == [] and lim.dropped == 1
    await asyncio.sleep(0)
    assert task.done()


async def test_a_viewer_that_writes_is_kept():
    # The limits' clock advances 10 ms per write: what counts is that each write goes through
    # in time, however long a loaded machine takes to run the test.
    now = [0]
    lim = limits.Limits(header_timeout=0.2, write_timeout=0.2, clock=lambda: now[0])

    class Fine:
        async def awrite(self, data):
            await asyncio.sleep(0.01)
            now[0] += 10

    async def viewer():
        conn = lim.open(None, Fine())
        lim.admit(conn)
        for _ in range(40):  # 0.4 s of steady writes, longer than write_timeout
            await conn.awrite(b'x')
        lim.close(conn)
        return conn.why

    assert await viewer() is None
    assert lim.dropped == 0


# ---- against a real server ----



class Slow:
    """An endless streaming body (a viewer): one chunk every 20 ms until the client goes."""

    def __aiter__(self):
        return self

    async def __anext__(self):
        await asyncio.sleep(0.02)
        return b'frame\r\n'


def make_app(**lims):
    app = Microdot()

    @app.route('/')
    async def index(request):
        return 'hello'

    @app.route('/stream')
    async def stream(request):
        return Slow()

    @app.route('/oom')
    async def oom(request):
        raise MemoryError('test')

    @app.route('/slow')
    async def slow(request):
        await asyncio.sleep(10)
        return 'late'

    limits.count_as_viewers(app, stream)
    cfg = config.load(None)
    cfg['max_clients'] = lims.pop('max_clients', 4)
    cfg['limits'].update(lims)
    lim = limits.install(app, cfg)
    return app, lim


class Running:
    def __init__(self, app):
        self.app = app

    async def __aenter__(self):
        self.task, self.port = await serve(self.app)
        return self

    async def __aexit__(self, *exc):
        self.app.shutdown()
        try:
            await asyncio.wait_for(self.task, 2)
        except Exception:
            pass

    async def connect(self, data=b''):
        r, w = await asyncio.open_connection('127.0.0.1', self.port)
        if data:
            w.write(data)
            await w.drain()
        return r, w


async def close(w):
    w.close()
    await w.wait_closed()  # on MicroPython close() does nothing, wait_closed() closes


async def read_all(r, timeout=3):
    out = b''
    while True:
        data = await asyncio.wait_for(r.read(512), timeout)
        if not data:
            return out
        out += data


async def get(srv, path='/', extra=b''):
    r, w = await srv.connect(b'GET ' + path.encode() + b' HTTP/1.1\r\nHost: x\r\n' + extra + b'\r\n')
    try:
        return await read_all(r)
    finally:
        await close(w)


def status(resp):
    return int(resp.split(b' ', 2)[1]) if resp else None


async def test_server_answers_and_frees_its_slots():
    app, lim = make_app()
    async with Running(app) as srv:
        for _ in range(6):  # more than max_requests, one after the other
            resp = await get(srv)
            assert status(resp) == 200 and resp.endswith(b'hello')
        await until(lambda: lim.conns == [], what='every connection closed')
        assert lim.requests == 0 and lim.viewers == 0


async def test_request_limits_give_clean_errors():
    app, lim = make_app(max_headers=4, max_line=256, max_body=100)
    async with Running(app) as srv:
        assert status(await get(srv, '/', b'X-A: 1\r\n' * 10)) == 431
        assert status(await get(srv, '/' + 'a' * 400)) == 414
        assert status(await get(srv, '/', b'X-A: ' + b'b' * 400 + b'\r\n')) == 431
        r, w = await srv.connect(b'POST / HTTP/1.1\r\nContent-Length: 500\r\n\r\n')
        assert status(await read_all(r)) == 413
        await close(w)
        r, w = await srv.connect(b'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\nxyz')
        assert status(await read_all(r)) == 400
        await close(w)
        assert status(await get(srv)) == 200
        resp = await get(srv, '/oom')
        assert status(resp) == 503 and b'Retry-After: 2' in resp
        await until(lambda: lim.conns == [], what='every connection closed')
    assert Request.max_readline == 2048  # microdot's own settings are left alone


async def test_running_out_of_memory_while_microdot_builds_the_request_is_503():
    # microdot answers 400 when Request.create raises; a head the reader let through can only
    # fail there for want of memory: 503, as any other overload.
    app, lim = make_app()
    create = Request.create

    async def no_memory(app, reader, writer, addr, scheme=None):
        while (await reader.readline()).strip():
            pass
        raise MemoryError('memory allocation failed')

    Request.create = staticmethod(no_memory)
    try:
        async with Running(app) as srv:
            resp = await get(srv)
            assert status(resp) == 503 and b'Retry-After: 2' in resp, resp[:100]
    finally:
        Request.create = create


async def test_header_timeout_answers_408():
    app, lim = make_app(header_timeout=0.3)
    async with Running(app) as srv:
        r, w = await srv.connect(b'GET / HTTP/1.1\r\nHost: x\r\n')  # never ends its headers
        resp = await read_all(r, timeout=3)
        assert status(resp) == 408
        await close(w)
        await until(lambda: lim.conns == [], what='the connection closed')
        assert lim.dropped == 1


async def test_a_slow_chunked_body_has_the_header_deadline():
    app, lim = make_app(header_timeout=0.5)

    @app.route('/upload', methods=['PUT'])
    async def upload(request):
        return request.body

    async with Running(app) as srv:
        r, w = await srv.connect(b'PUT /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'
                                 b'5\r\nhel')   # and no more
        resp = await read_all(r, timeout=3)
        assert status(resp) == 408, resp
        await close(w)
        assert lim.dropped == 1 and lim.conns == []


async def test_request_timeout_cancels_a_long_request():
    app, lim = make_app(request_timeout=0.3)
    async with Running(app) as srv:
        resp = await get(srv, '/slow')
        assert resp == b''  # cut, no half-written answer
        assert lim.dropped == 1
        await until(lambda: lim.conns == [], what='the connection closed')


async def test_slowloris_cannot_lock_out_real_clients():
    app, lim = make_app(max_requests=2, header_timeout=5)
    async with Running(app) as srv:
        idle = []
        for i in range(4):  # more slow connections than the budget, in this order
            idle.append(await srv.connect(b'GET / HTTP/1.1\r\nHost'))
            await until(lambda: len(lim.conns) + lim.dropped == i + 1, what='the server has it')
        for _ in range(3):
            resp = await get(srv)
            assert status(resp) == 200, resp
        assert lim.dropped >= 3
        # the evicted ones were told 503 and closed
        resp = await read_all(idle[0][0])
        assert status(resp) == 503
        for r, w in idle:
            await close(w)
    assert lim.refused == 0


async def test_viewer_cap():
    app, lim = make_app(max_clients=2)
    async with Running(app) as srv:
        v1 = await srv.connect(b'GET /stream HTTP/1.1\r\n\r\n')
        v2 = await srv.connect(b'GET /stream HTTP/1.1\r\n\r\n')
        assert (await asyncio.wait_for(v1[0].read(200), 2)).startswith(b'HTTP/1.1 200 OK\r\n')
        assert (await asyncio.wait_for(v2[0].read(200), 2)).startswith(b'HTTP/1.1 200 OK\r\n')
        assert lim.viewers == 2
        resp = await get(srv, '/stream')
        assert status(resp) == 503 and b'Retry-After' in resp
        assert status(await get(srv)) == 200  # plain requests have their own budget
        data = await asyncio.wait_for(v1[0].read(200), 2)  # admitted viewers undisturbed
        assert b'frame' in data
        await close(v1[1])
        await until(lambda: lim.viewers < 2, what='the slot back')
        assert lim.viewers == 1
        v3 = await srv.connect(b'GET /stream HTTP/1.1\r\n\r\n')
        assert (await asyncio.wait_for(v3[0].read(200), 2)).startswith(b'HTTP/1.1 200 OK\r\n')
        await close(v2[1])
        await close(v3[1])


UPGRADE = (b'GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
           b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')


async def test_the_viewer_cap_comes_from_the_routes_counted_as_viewers():
    from camdot.websocket import with_websocket
    app = Microdot()

    @app.route('/ws/stream')
    @with_websocket
    async def ws_stream(request, ws):
        await ws.receive()

    @app.route('/ws/other')
    @with_websocket
    async def other(request, ws):
        await ws.receive()

    limits.count_as_viewers(app, ws_stream)
    cfg = config.load(None)
    cfg['max_clients'] = 1
    lim = limits.install(app, cfg)
    async with Running(app) as srv:
        v1 = await srv.connect(UPGRADE % b'/ws/stream')
        assert (await asyncio.wait_for(v1[0].read(12), 2)) == b'HTTP/1.1 101'
        assert lim.viewers == 1 and lim.sockets == 0    # a viewer, not a socket
        # full: 503 + Retry-After, and no upgrade
        r, w = await srv.connect(UPGRADE % b'/ws/stream')
        resp = await read_all(r)
        await close(w)
        assert status(resp) == 503 and b'Retry-After: 5' in resp and b'Upgrade' not in resp
        # the same kind of connection on a route not counted: a socket, under its own cap
        s1 = await srv.connect(UPGRADE % b'/ws/other')
        assert (await asyncio.wait_for(s1[0].read(12), 2)) == b'HTTP/1.1 101'
        await until(lambda: lim.sockets == 1, what='the other socket counted')
        assert lim.viewers == 1
        await close(v1[1])
        await close(s1[1])
        await until(lambda: lim.viewers == 0 and lim.sockets == 0, what='the slots back')
