"""camdot.http11: HTTP/1.1 status lines, chunked and `Expect: 100-continue` request bodies.

The reader's unit rules with a fake stream, then a real server on a loopback port (both runtimes).
Bounds and budgets: tests/portable/test_limits.py.
"""
import asyncio

from microdot import Microdot, Request

from camdot import config, http11, limits
from harness import araises, raises
from test_limits import FakeReader, Running, close, read_all, status


def duplex(data, step=7, **kw):
    return http11.Duplex(limits.Limits(**kw), FakeReader(data, step), None)


async def head(d):
    """Read the head as microdot does; the lines it got."""
    lines = [await d.readline()]
    while lines[-1] not in (b'\r\n', b'\n', b''):
        lines.append(await d.readline())
    return lines


async def refused(data, **kw):
    return (await araises(http11.RequestRefused, head(duplex(data, **kw)))).status


# ---- the head ----

async def test_framing_fields_are_checked():
    put = b'PUT / HTTP/1.1\r\n'
    assert await refused(put + b'Transfer-Encoding: gzip, chunked\r\n\r\n') == 501
    assert await refused(put + b'Transfer-Encoding: \x00\r\n\r\n') == 400     # not a coding at all
    assert await refused(put + b'Transfer-Encoding: ch(unked\r\n\r\n') == 400
    assert await refused(put + b'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n') == 400
    assert await refused(put + b'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n') == 400
    assert await refused(put + b'Content-Length: 3\r\nContent-Length: 3\r\n\r\n') == 400
    assert await refused(put + b'Expect: 100-continue-please\r\n\r\n') == 417
    assert await refused(put + b'Content-Length : 3\r\n\r\n') == 400     # space before the colon
    assert await refused(put + b'Host: a\r\n folded\r\n\r\n') == 400     # obs-fold
    assert await refused(put + b': empty\r\n\r\n') == 400
    d = duplex(put + b'transfer-encoding:  Chunked \r\nExpect: 100-Continue\r\n\r\n')
    await head(d)
    assert d.chunked and d.expect and d.held and d.length is None


async def test_an_expected_body_is_held_from_microdot():
    d = duplex(b'PUT / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello', step=100)
    await head(d)
    assert d.held and d.length == 5
    assert await d.readexactly(5) == b''       # microdot's Request.create: nothing yet
    assert d.reader.data == b''                # (the fake stream gave its 100 bytes to the buffer)
    assert await d.read_held() == b'hello'
    assert not d.held
    # no Expect: microdot reads the body itself, as before
    d = duplex(b'PUT / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello', step=100)
    await head(d)
    assert not d.held and await d.readexactly(5) == b'hello'


def test_chunk_size_lines():
    size = http11._chunk_size
    assert size(b'1a\r\n') == 26
    assert size(b'1A;name=value;x\r\n') == 26
    assert size(b'0000000000000010 ;ext\r\n') == 16
    assert size(b'0\r\n') == 0
    for bad in (b'\r\n', b'0x1a\r\n', b'+1a\r\n', b'1_a\r\n', b' 1a\r\n', b'g\r\n', b'-1\r\n',
                b';x\r\n', b'1 a\r\n'):
        assert raises(http11.RequestRefused, size, bad).status == 400, bad
    assert raises(http11.RequestRefused, size, b'1000000\r\n').status == 413   # past any max_body


# ---- a chunked body ----

CHUNKED = b'PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'


async def chunked(body, step=7, **kw):
    d = duplex(CHUNKED + body, step, **kw)
    await head(d)
    assert d.held
    return d


async def test_chunked_body_is_decoded_and_trailers_dropped():
    d = await chunked(b'5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\nnext')
    assert await d.read_held() == b'hello, world'
    assert d.buf + d.reader.data == b'next'    # read to the end of the body, not further
    d = await chunked(b'0\r\n\r\n')
    assert await d.read_held() == b''


async def test_malformed_chunks_are_400():
    for body in (b'zz\r\nhi\r\n0\r\n\r\n',           # bad hex size
                 b'2\r\nhiX\r\n0\r\n\r\n',            # no CRLF after the data
                 b'2\r\nhi0\r\n\r\n',
                 b'2;' + b'e' * 2000 + b'\r\nhi\r\n0\r\n\r\n',   # over-long size line
                 b'2\r\nhi\r\n0\r\nno colon\r\n\r\n',  # bad trailer
                 b'2\r\nhi\r\n',                       # the stream ends
                 b'5\r\nhi'):
        d = await chunked(body, step=512)
        assert (await araises(http11.RequestRefused, d.read_held())).status == 400, body
        assert d.held          # not read: the connection discards what follows before closing


async def test_chunked_body_over_max_body_is_413_before_the_rest_is_read():
    rest = b'x' * 5000
    d = await chunked(b'40\r\n' + b'a' * 64 + b'\r\n40\r\n' + rest, step=512, max_body=100)
    assert (await araises(http11.RequestRefused, d.read_held())).status == 413
    assert len(d.reader.data) > 4000     # the second chunk's size was enough


# ---- the response ----

async def written(*parts):
    out = []

    class Sink:
        async def awrite(self, data):
            out.append(bytes(data))

    d = http11.Duplex(limits.Limits(), None, Sink())
    for p in parts:
        await d.awrite(p)
    return b''.join(out)


async def test_status_lines_are_http11_with_reason_phrases():
    for code, phrase in ((200, b'OK'), (201, b'Created'), (204, b'No Content'),
                         (303, b'See Other'), (400, b'Bad Request'), (401, b'Unauthorized'),
                         (403, b'Forbidden'), (404, b'Not Found'), (405, b'Method Not Allowed'),
                         (413, b'Content Too Large'), (426, b'Upgrade Required'),
                         (429, b'Too Many Requests'), (500, b'Internal Server Error'),
                         (503, b'Service Unavailable'), (299, b'')):
        microdot = b'HTTP/1.0 %d %s\r\n' % (code, b'OK' if code == 200 else b'N/A')
        got = await written(microdot, b'Content-Length: 0\r\n', b'\r\n')
        assert got == b'HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Length: 0\r\n\r\n' % (
            code, phrase), got


async def test_the_head_is_rewritten_once():
    got = await written(b'HTTP/1.0 418 Short and stout\r\n', b'connection: keep-alive\r\n',
                        b'X: 1\r\n', b'\r\n', b'HTTP/1.0 200 OK\r\n', b'Connection: x\r\n')
    assert got == (b'HTTP/1.1 418 Short and stout\r\nConnection: close\r\nX: 1\r\n\r\n'
                   b'HTTP/1.0 200 OK\r\nConnection: x\r\n')   # the body is the body
    # a 100 Continue written first, a 101 from microdot, a hand-written 101: as they are
    got = await written(b'HTTP/1.1 100 Continue\r\n\r\n', b'HTTP/1.0 404 N/A\r\n', b'\r\n')
    assert got == b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n'
    got = await written(b'HTTP/1.0 101 N/A\r\n', b'Connection: Upgrade\r\n', b'\r\n')
    assert got == b'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n'
    got = await written(b'HTTP/1.1 101 Switching Protocols\r\n\r\n', memoryview(b'\x82\x00'))
    assert got == b'HTTP/1.1 101 Switching Protocols\r\n\r\n\x82\x00'


# ---- a real server (both runtimes) ----

def make_app(edge='limits', **lims):
    """The test app behind camdot.limits (config limits `lims`) or, with edge='http11', behind
    http11.install() alone with Bounds(**lims)."""
    app = Microdot()
    seen = []

    @app.before_request
    async def refuse(request):
        if request.headers.get('X-Refuse'):
            return 'no', int(request.headers['X-Refuse'])
        return None

    @app.route('/echo', methods=['PUT', 'POST'])
    async def echo(request):
        stream = await request.stream.read()
        seen.append((request.body, request.json, stream, request.content_length,
                     request.headers.get('Content-Length'),
                     request.headers.get('Transfer-Encoding')))
        return request.body

    @app.route('/form', methods=['POST'])
    async def form(request):
        return request.form['a']

    @app.route('/fail')
    async def fail(request):
        raise ValueError('a bug')

    if edge == 'http11':
        http11.install(app, http11.Bounds(**lims))
    else:
        cfg = config.load(None)
        cfg['limits'].update(lims)
        limits.install(app, cfg)
    return app, seen


async def exchange(srv, data, wait=3):
    r, w = await srv.connect(data)
    try:
        return await read_all(r, wait)
    finally:
        await close(w)


def chunks(*parts):
    return b''.join(b'%x\r\n%s\r\n' % (len(p), p) for p in parts) + b'0\r\n\r\n'


async def test_a_chunked_body_reaches_the_route_decoded():
    app, seen = make_app()
    async with Running(app) as srv:
        resp = await exchange(srv, b'PUT /echo HTTP/1.1\r\nContent-Type: application/json\r\n'
                                   b'Transfer-Encoding: chunked\r\n\r\n' + chunks(b'{"a": ', b'[1, 2]}'))
        assert resp.startswith(b'HTTP/1.1 200 OK\r\nConnection: close\r\n'), resp
        assert resp.endswith(b'\r\n\r\n{"a": [1, 2]}')
        body = b'{"a": [1, 2]}'
        assert seen == [(body, {'a': [1, 2]}, body, 13, '13', None)]
        resp = await exchange(srv, b'POST /form HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Type: '
                                   b'application/x-www-form-urlencoded\r\n\r\n' + chunks(b'a=b%20', b'c'))
        assert status(resp) == 200 and resp.endswith(b'b c')


async def test_chunked_errors_go_through_microdot():
    app, seen = make_app(max_body=100)

    @app.errorhandler(413)
    async def too_large(request):
        return 'custom 413', 413

    async with Running(app) as srv:
        resp = await exchange(srv, b'PUT /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'
                                   + chunks(b'a' * 80, b'b' * 80))
        assert resp.startswith(b'HTTP/1.1 413 Content Too Large\r\n') and resp.endswith(b'custom 413')
        resp = await exchange(srv, b'PUT /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\n')
        assert resp.startswith(b'HTTP/1.1 400 Bad Request\r\n'), resp
        resp = await exchange(srv, b'PUT /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
        assert status(resp) == 400
        resp = await exchange(srv, b'PUT /echo HTTP/1.1\r\nTransfer-Encoding: x\r\n\r\n')
        assert resp.startswith(b'HTTP/1.1 501 Not Implemented\r\n'), resp
        assert seen == []


async def test_expect_100_continue():
    app, seen = make_app()
    async with Running(app) as srv:
        r, w = await srv.connect(b'PUT /echo HTTP/1.1\r\nContent-Length: 5\r\n'
                                 b'Expect: 100-continue\r\n\r\n')
        assert await asyncio.wait_for(r.readline(), 3) == b'HTTP/1.1 100 Continue\r\n'
        assert await asyncio.wait_for(r.readline(), 3) == b'\r\n'
        w.write(b'hello')
        await w.drain()
        resp = await read_all(r)
        await close(w)
        assert resp.startswith(b'HTTP/1.1 200 OK\r\n') and resp.endswith(b'hello')
        # chunked, too
        r, w = await srv.connect(b'PUT /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n'
                                 b'Expect: 100-continue\r\n\r\n')
        assert await asyncio.wait_for(r.readline(), 3) == b'HTTP/1.1 100 Continue\r\n'
        assert await asyncio.wait_for(r.readline(), 3) == b'\r\n'
        w.write(chunks(b'hel', b'lo')[:-1])
        await w.drain()
        w.write(b'\n')      # the last byte after a pause
        await w.drain()
        resp = await read_all(r)
        await close(w)
        assert resp.endswith(b'\r\n\r\nhello'), resp
        assert len(seen) == 2


async def test_expect_refused_without_reading_the_body():
    app, seen = make_app(max_body=100)
    async with Running(app) as srv:
        for extra, code in ((b'X-Refuse: 401\r\n', b'401 Unauthorized'),
                            (b'X-Refuse: 429\r\n', b'429 Too Many Requests'),
                            (b'', b'404 Not Found')):
            path = b'/nowhere' if code.startswith(b'404') else b'/echo'
            # the client waits for 100 Continue and never sends the body: the answer comes anyway
            resp = await exchange(srv, b'PUT ' + path + b' HTTP/1.1\r\nContent-Length: 50\r\n' + extra
                                  + b'Expect: 100-continue\r\n\r\n')
            assert resp.startswith(b'HTTP/1.1 ' + code + b'\r\nConnection: close\r\n'), resp
            assert b'100 Continue' not in resp
        resp = await exchange(srv, b'PUT /echo HTTP/1.1\r\nContent-Length: 500\r\n'
                                   b'Expect: 100-continue\r\n\r\n')
        assert resp.startswith(b'HTTP/1.1 413 Content Too Large\r\n'), resp
        assert b'100 Continue' not in resp
        assert seen == []


async def test_every_answer_is_http11():
    for edge in ('limits', 'http11'):
        await every_answer_is_http11(make_app(edge, max_line=1024)[0])


async def every_answer_is_http11(app):
    async with Running(app) as srv:
        for req, line in ((b'GET /nowhere HTTP/1.1\r\n\r\n', b'404 Not Found'),
                          (b'GET /echo HTTP/1.1\r\n\r\n', b'405 Method Not Allowed'),
                          (b'GET /fail HTTP/1.1\r\n\r\n', b'500 Internal Server Error'),
                          (b'PUT /echo HTTP/1.1\r\nX-Refuse: 503\r\n\r\n', b'503 Service Unavailable'),
                          (b'GET / HTTP/1.1 extra\r\n\r\n', b'400 Bad Request'),
                          (b'GET /' + b'a' * 2000 + b' HTTP/1.1\r\n\r\n', b'414 URI Too Long'),
                          (b'GET / HTTP/1.0\r\n\r\n', b'404 Not Found')):
            resp = await exchange(srv, req)
            assert resp.startswith(b'HTTP/1.1 ' + line + b'\r\n'), (req[:30], resp)
            assert b'\r\nConnection: close\r\n' in resp.split(b'\r\n\r\n')[0] + b'\r\n'


async def test_install_alone_reads_and_bounds_requests_as_limits_does():
    app, seen = make_app('http11', max_body=100)
    async with Running(app) as srv:
        resp = await exchange(srv, b'PUT /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'
                                   + chunks(b'a' * 80, b'b' * 80))
        assert resp.startswith(b'HTTP/1.1 413 Content Too Large\r\n'), resp
        resp = await exchange(srv, b'PUT /echo HTTP/1.1\r\nContent-Length: 101\r\n\r\n')
        assert resp.startswith(b'HTTP/1.1 413 Content Too Large\r\n'), resp     # from the head
        resp = await exchange(srv, b'PUT /echo HTTP/1.1\r\nX-Refuse: 401\r\nContent-Length: 50'
                                   b'\r\nExpect: 100-continue\r\n\r\n')
        assert resp.startswith(b'HTTP/1.1 401 Unauthorized\r\n'), resp
        resp = await exchange(srv, b'PUT /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'
                                   + chunks(b'{"a": ', b'1}'))
        assert resp.startswith(b'HTTP/1.1 200 OK\r\n') and resp.endswith(b'{"a": 1}'), resp
        assert [s[0] for s in seen] == [b'{"a": 1}']
    bounds = http11.Bounds()
    assert (bounds.max_line, bounds.max_body) == (Request.max_readline, Request.max_content_length)
