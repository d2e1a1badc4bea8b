"""A topic broker over WebSocket on path `/`: camdot.hub_socket's JSON protocol (PubSub), on both runtimes.

    .venv/bin/micropython tools/pubsub_server.py --port 8765 [--host 127.0.0.1] [--stats 0.5]
    .venv/bin/python tools/pubsub_server.py --port 8765

Clients send {"type": "subscribe"|"unsubscribe", "topic": F} and {"type": "publish", "topic": T,
"data": X}; subscribers get {"type": "message", "topic": T, "data": X}. `/pipe?topic=F` shows the
one-line route, `pipe()`: the payloads published on F, bare (a bad filter closes with 1008).
The server publishes its own figures on `$SYS/mem` every --stats seconds while someone subscribes
to it: free/alloc heap bytes after a gc.collect() (null on CPython), connections, hub subscriptions,
and messages dropped for slow clients.
"""
import sys

import repo_paths  # noqa: E402,F401  (lib/ and .deps/ first)

import asyncio  # noqa: E402
import gc  # noqa: E402

from microdot import Microdot  # noqa: E402

from camdot import http11  # noqa: E402
from camdot.compat import mem_alloc, mem_free  # noqa: E402
from camdot.hub import Hub, TopicError  # noqa: E402
from camdot.hub_socket import PubSub, pipe  # noqa: E402
from camdot.websocket import with_websocket  # noqa: E402

USAGE = 'usage: pubsub_server.py --port N [--host 127.0.0.1] [--stats SECONDS]'


def parse_args(argv):
    opts = {'host': '127.0.0.1', 'port': None, 'stats': 0.5}
    args = list(argv)
    while args:
        name = args.pop(0)
        if name in ('-h', '--help'):
            print(USAGE)
            sys.exit(0)
        key = name[2:] if name.startswith('--') else None
        if key not in opts or not args:
            raise SystemExit(USAGE)
        opts[key] = args.pop(0)
    try:
        opts['port'] = int(opts['port'])
        opts['stats'] = float(opts['stats'])
    except (TypeError, ValueError):
        raise SystemExit(USAGE)
    return opts


def create_app(hub, ps):
    app = Microdot()

    @app.route('/')
    @with_websocket
    async def broker(request, ws):
        await ps.serve(ws)

    @app.route('/pipe')
    @with_websocket
    async def piped(request, ws):
        try:
            sub = hub.subscribe(request.args.get('topic'), maxlen=8)
        except TopicError as exc:
            await ws.close(1008, str(exc)[:120])
            return
        await pipe(sub, ws)

    http11.install(app)     # HTTP/1.1 answers, bounded requests
    return app


async def report(hub, ps, every):
    while True:
        await asyncio.sleep(every)
        if hub.has_subscribers('$SYS/mem'):
            gc.collect()
            dropped = 0
            for client in ps.clients.values():
                dropped += client.dropped
            hub.publish('$SYS/mem', {'free': mem_free(), 'alloc': mem_alloc(),
                                     'connections': len(ps.clients), 'dropped': dropped,
                                     'subscriptions': len(hub.subscriptions())})


async def serve(opts):
    hub = Hub()
    ps = PubSub(hub)
    app = create_app(hub, ps)
    if opts['stats'] > 0:
        asyncio.create_task(report(hub, ps, opts['stats']))
    print('pubsub: serving on ws://%s:%d/' % (opts['host'], opts['port']))
    await app.start_server(host=opts['host'], port=opts['port'])


def main(argv):
    opts = parse_args(argv)
    try:  # Ctrl-C stops the server even when started in the background (SIGINT inherited ignored)
        import signal
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except (ImportError, AttributeError):
        pass
    try:
        asyncio.run(serve(opts))
    except KeyboardInterrupt:
        print('pubsub: stopped')


if __name__ == '__main__':
    main(sys.argv[1:])
