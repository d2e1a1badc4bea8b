"""camdot.websocket.connect() against the `websockets` server library (an independent server checks
our masking, framing and closing), on CPython and on the unix port. (Our client against our server:
tests/portable/test_websocket.py.)"""
import asyncio
import json
import os
import subprocess
import sys
import threading

import pytest
from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.http11 import Response

from camdot.websocket import WebSocket, WebSocketError, connect
from servers import MICROPYPATH, MPY, ROOT, Server, free_port


async def handler(conn):
    async for msg in conn:
        if msg == '!close':
            await conn.close(4005, 'server says bye')
        elif msg == '!fragments':
            await conn.send(['fr', '\u00e4g', 'ments'])
        elif msg == '!ping':
            await asyncio.wait_for(await conn.ping(b'are you there'), 5)
            await conn.send('pong seen')
        elif msg == '!headers':
            await conn.send(conn.request.headers.get('X-Camdot', ''))
        else:
            await conn.send(msg)


def refuse(conn, request):
    if request.path == '/forbidden':
        return Response(403, 'Forbidden', Headers([('Content-Length', '0')]), b'')
    return None


async def with_server(test):
    port = free_port()
    async with serve(handler, '127.0.0.1', port, subprotocols=['chat', 'superchat'],
                     max_size=None, compression=None, process_request=refuse):
        await asyncio.wait_for(test('ws://127.0.0.1:%d' % port), 30)


async def test_echo_through_a_websockets_server(monkeypatch):
    monkeypatch.setattr(WebSocket, 'max_message_length', 0)     # no limit for the 1 MiB echo

    async def test(url):
        ws = await connect(url + '/echo', protocols=['superchat'], headers={'X-Camdot': 'yes'})
        assert ws.subprotocol == 'superchat'
        for msg in ['hi', '', b'', 'h\u00e9\u20ac\U0001F600' * 1000, os.urandom(70000),
                    os.urandom(1 << 20)]:
            await ws.send(msg)
            echo = await ws.receive()
            assert type(echo) is type(msg) if isinstance(msg, str) else isinstance(echo, (bytes, bytearray))
            assert echo == msg
        await ws.send_parts(ws.BINARY, [b'ab', memoryview(b'cd'), bytearray(b'ef')])
        assert await ws.receive() == b'abcdef'
        await ws.send('!headers')
        assert await ws.receive() == 'yes'
        await ws.send('!fragments')
        assert await ws.receive() == 'fr\u00e4gments'
        await ws.send('!ping')                       # answered while we wait in receive()
        assert await ws.receive() == 'pong seen'
        await ws.close(4001, 'client says bye')
        assert ws.closed and ws.close_code == 4001   # websockets echoes our code
        with pytest.raises(WebSocketError):
            await ws.send('late')
    await with_server(test)


async def test_server_close_code_reaches_the_client():
    async def test(url):
        with pytest.raises(WebSocketError, match='400'):   # it insists on a subprotocol
            await connect(url + '/echo')
        ws = await connect(url + '/echo', protocols=['other', 'chat'])
        assert ws.subprotocol == 'chat'
        await ws.send('!close')
        with pytest.raises(WebSocketError):
            await ws.receive()
        assert ws.close_code == 4005 and ws.close_reason == 'server says bye'
        async for _ in ws:                           # an ended iteration, not an error
            raise AssertionError('closed socket yielded a message')
    await with_server(test)


async def test_refused_upgrade_raises():
    async def test(url):
        with pytest.raises(WebSocketError, match='403'):
            await connect(url + '/forbidden')
    await with_server(test)
    with pytest.raises(ValueError):
        await connect('http://127.0.0.1:1/')


async def test_wrong_accept_key_is_refused():
    async def fake(reader, writer):
        await reader.readuntil(b'\r\n\r\n')
        writer.write(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
                     b'Connection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n')
        await writer.drain()
        writer.close()
    port = free_port()
    server = await asyncio.start_server(fake, '127.0.0.1', port)
    async with server:
        with pytest.raises(WebSocketError, match='not a valid upgrade'):
            await asyncio.wait_for(connect('ws://127.0.0.1:%d/' % port), 10)


MPY_CLIENT = """
import asyncio
from camdot.websocket import connect

async def main(url):
    ws = await connect(url, protocols=['chat'])
    print('subprotocol', ws.subprotocol)
    for msg in ('hello', '', b'', 'h\\u00e9\\u20ac' * 100, bytes(range(256)) * 20):
        await ws.send(msg)
        echo = await ws.receive()
        print('echo', type(msg).__name__, len(msg), echo == msg)
    await ws.send('!ping')
    print(await ws.receive())
    await ws.send('!close')
    try:
        await ws.receive()
    except Exception as exc:
        print('closed', type(exc).__name__, ws.close_code, ws.close_reason)

asyncio.run(main('ws://127.0.0.1:%d/echo'))
"""


def test_unix_port_client_against_a_websockets_server():
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = loop.create_future()

    async def run_server():
        async with serve(handler, '127.0.0.1', port, subprotocols=['chat'], max_size=None,
                         compression=None):
            ready.set()
            await stop

    thread = threading.Thread(target=loop.run_until_complete, args=(run_server(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(10)
        res = subprocess.run([MPY, '-c', MPY_CLIENT % port], cwd=ROOT, capture_output=True,
                             text=True, timeout=60, env=dict(os.environ, MICROPYPATH=MICROPYPATH))
    finally:
        loop.call_soon_threadsafe(stop.set_result, None)
        thread.join(10)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.split('\n') == [
        'subprotocol chat',
        'echo str 5 True', 'echo str 0 True', 'echo bytes 0 True', 'echo str 300 True',
        'echo bytes 5120 True',
        'pong seen',
        'closed WebSocketError 4005 server says bye', ''], res.stdout + res.stderr


WATCH = """
import asyncio
from camdot.websocket import connect

async def main(url):
    ws = await connect(url, timeout=10)          # the client's default limit (1 MiB)
    sizes = []
    while len(sizes) < 3:
        msg = await ws.receive()
        if not isinstance(msg, str):
            assert msg[:2] == b'\\xff\\xd8' and msg[-2:] == b'\\xff\\xd9'
            sizes.append(len(msg))
    await ws.close()
    print('frames', min(sizes), ws.close_code)

asyncio.run(main('%s'))
"""


def test_the_client_watches_a_board_above_qvga(tmp_path):
    # A simulated board at SVGA: ~30 KB frames, over the server's default limit (16 KiB), which
    # a client once inherited. Watched with connect()'s defaults, on both runtimes.
    config = tmp_path / 'config.json'
    config.write_text(json.dumps({'camera': {'framesize': 'SVGA', 'fps': 10},
                                  'settings_file': str(tmp_path / 'settings.json')}))
    port = free_port()
    url = 'ws://127.0.0.1:%d/ws/stream' % port
    with Server([MPY, 'main.py'], port, env={'HTTP_PORT': str(port), 'CAMDOT_CONFIG': str(config)}):
        for runtime in (MPY, sys.executable):
            res = subprocess.run([runtime, '-c', WATCH % url], cwd=ROOT, capture_output=True,
                                 text=True, timeout=60,
                                 env=dict(os.environ, MICROPYPATH=MICROPYPATH, PYTHONPATH='lib:.deps'))
            assert res.returncode == 0, res.stdout + res.stderr
            words = res.stdout.split()
            assert words[0] == 'frames' and int(words[1]) > 16384 and words[2] == '1000', res.stdout
