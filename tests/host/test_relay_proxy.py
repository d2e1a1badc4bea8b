"""camdot_relay.proxy: a WebSocket piped to a target (a `websockets` server: an independent
implementation), with a `websockets` client: messages both ways as they are, close codes passed
through both ways, the target's subprotocol, refusals before the upgrade."""
import asyncio
import os
import sys

import pytest
import websockets
from microdot import Microdot

from harness import serve, until
from servers import ROOT, free_port

sys.path.insert(0, os.path.join(ROOT, 'tools'))
from camdot_relay.proxy import proxy  # noqa: E402


async def target_handler(ws):
    if ws.request.path == '/close-me':
        await ws.close(4002, 'target says bye')
        return
    try:
        async for msg in ws:
            if msg == 'who':
                await ws.send('token=%s proto=%s' % (ws.request.headers.get('Authorization'),
                                                    ws.subprotocol))
            else:
                await ws.send(msg)  # echo, same type
    except websockets.ConnectionClosed:
        pass
    target_handler.closes.append((ws.close_code, ws.close_reason))


target_handler.closes = []


async def running(fn):
    tport = free_port()
    app = Microdot()

    @app.route('/p/<path>')
    async def passthrough(request, path):
        return await proxy(request, 'ws://127.0.0.1:%d/%s' % (tport, path),
                           headers={'Authorization': 'Bearer secret'}, timeout=2)

    @app.route('/nowhere')
    async def nowhere(request):
        return await proxy(request, 'ws://127.0.0.1:%d/' % free_port(), timeout=2)

    async with websockets.serve(target_handler, '127.0.0.1', tport,
                                subprotocols=['b', 'a'], max_size=2 ** 22):
        server, pport = await serve(app)
        try:
            return await fn('ws://127.0.0.1:%d' % pport)
        finally:
            app.shutdown()
            await server


def test_messages_go_both_ways_as_they_are_with_the_targets_subprotocol():
    async def main(base):
        async with websockets.connect(base + '/p/echo', subprotocols=['a', 'b']) as ws:
            assert ws.subprotocol == 'b'  # what the target chose of what the client offered
            await ws.send('h\u00e9llo')
            assert await ws.recv() == 'h\u00e9llo'
            payload = os.urandom(9000)
            await ws.send(payload)
            got = await ws.recv()
            assert isinstance(got, bytes) and got == payload
            await ws.send('who')  # the target's token went with the proxy, not the client
            assert await ws.recv() == 'token=Bearer secret proto=b'
    asyncio.run(running(main))


def test_close_codes_pass_through_both_ways():
    async def main(base):
        target_handler.closes.clear()
        async with websockets.connect(base + '/p/echo', subprotocols=['a']) as ws:
            await ws.close(4001, 'client says bye')
        await until(lambda: target_handler.closes, what="the target's close")
        assert target_handler.closes == [(4001, 'client says bye')]
        async with websockets.connect(base + '/p/close-me', subprotocols=['a']) as ws:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            assert (ws.close_code, ws.close_reason) == (4002, 'target says bye')
    asyncio.run(running(main))


def test_a_target_that_refuses_or_is_not_there_is_an_http_error_before_the_upgrade():
    async def status_of(base, path, protocol):
        host, port = base[5:].split(':')
        r, w = await asyncio.open_connection(host, int(port))
        w.write(('GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'
                 '%s\r\n' % (path, protocol)).encode())
        line = await r.readline()
        w.close()
        return int(line.split()[1])

    async def main(base):
        assert await status_of(base, '/nowhere', '') == 502
        # the target refuses (it wants a subprotocol): refused, no upgrade
        assert await status_of(base, '/p/echo', '') == 502
        assert await status_of(base, '/p/echo', 'Sec-WebSocket-Protocol: a\r\n') == 101
    asyncio.run(running(main))
