"""WebSocket echo server on every path (the Autobahn testee convention), on either runtime.

    .venv/bin/micropython tools/ws_echo.py --port 9001 [--host 127.0.0.1] [--max-message N]
    .venv/bin/python tools/ws_echo.py --port 9001

Text is echoed as text, binary as binary, close codes are echoed; HTTP is camdot.http11's (a
refused upgrade is an `HTTP/1.1 403 Forbidden`, as any client reads it). Options: --max-message N
(bytes, 0 = no limit, the default), --ping-interval S / --ping-timeout S (keepalive),
--protocols a,b (subprotocols offered), --origins o1,o2 (Origin allow-list), --commands yes
(text messages starting with '!' drive the server, for tests: see `command`).
"""
import sys

import repo_paths  # noqa: E402,F401  (lib/ and .deps/ first)

import asyncio  # noqa: E402

from microdot import Microdot  # noqa: E402

from camdot import http11  # noqa: E402
from camdot.websocket import WebSocket, with_websocket  # noqa: E402


DEFAULTS = {'--host': '127.0.0.1', '--port': '9001', '--max-message': '0',
            '--ping-interval': '0', '--ping-timeout': '0', '--protocols': '', '--origins': '',
            '--commands': 'no'}


def options(argv):
    opts = dict(DEFAULTS)
    args = list(argv)
    while args:
        name = args.pop(0)
        if name not in opts or not args:
            print(__doc__)
            raise SystemExit(2)
        opts[name] = args.pop(0)
    return opts


def _list(value):
    return [v for v in value.split(',') if v] or None


async def command(ws, text):
    # Test hooks (--commands yes): make the server do what a test needs to see.
    words = text.split(' ', 2)
    if words[0] == '!close':
        await ws.close(int(words[1]), words[2] if len(words) > 2 else '')
    elif words[0] == '!raise':
        raise RuntimeError('ws_echo: asked to fail')
    elif words[0] == '!nomem':
        raise MemoryError('ws_echo: asked to run out of memory')
    elif words[0] == '!big':
        await ws.send(bytes(int(words[1])))
    elif words[0] == '!parts':
        await ws.send_parts(ws.BINARY, [b'head:', memoryview(b'0123456789')[2:8], bytearray(b':tail')])
    elif words[0] == '!idle':      # a handler busy elsewhere (not receiving) for a while
        await asyncio.sleep(float(words[1]))
        await ws.send('idle done')
    elif words[0] == '!stall':     # '!stall N S': a send of N bytes given up after S seconds
        try:
            await asyncio.wait_for(ws.send(bytes(int(words[1]))), float(words[2]))
        except asyncio.TimeoutError:
            await ws.send('timed out')
    elif words[0] == '!abort':
        ws.abort()
    elif words[0] == '!info':
        await ws.send('subprotocol=%s' % ws.subprotocol)
    else:
        await ws.send(text)


def create_app(opts=None):
    """The echo app for the options `opts` (a dict like DEFAULTS)."""
    o = dict(DEFAULTS)
    o.update(opts or {})
    commands = o['--commands'] == 'yes'
    app = Microdot()

    @with_websocket(protocols=_list(o['--protocols']), origins=_list(o['--origins']))
    async def echo(request, ws, path=''):
        async for message in ws:
            if commands and isinstance(message, str) and message.startswith('!'):
                await command(ws, message)
            else:
                await ws.send(message)

    app.route('/')(echo)
    app.route('/<path:path>')(echo)
    http11.install(app)     # HTTP/1.1 answers (a refused upgrade too), bounded requests
    return app


def main(argv):
    opts = options(argv)
    WebSocket.max_message_length = int(opts['--max-message'])
    WebSocket.ping_interval = float(opts['--ping-interval'])
    WebSocket.ping_timeout = float(opts['--ping-timeout'])
    app = create_app(opts)
    port = int(opts['--port'])
    print('ws_echo: serving on ws://%s:%d/' % (opts['--host'], port))
    try:
        app.run(host=opts['--host'], port=port)
    except KeyboardInterrupt:
        print('ws_echo: stopped')


if __name__ == '__main__':
    main(sys.argv[1:])
