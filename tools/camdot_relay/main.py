"""The relay program: its options, and the roles it runs in one process.

    .venv/bin/python tools/relay.py --board porch=http://192.168.1.20 --port 8090
    .venv/bin/python tools/relay.py --board porch=http://... --redis redis://127.0.0.1:6379 \\
        --role ingest
    .venv/bin/python tools/relay.py --board porch --redis redis://... --role edge --port 8090

Without --redis one process does both roles through the in-memory hub (nothing else to install);
with it, any mix of ingest and edge processes shares the Redis server.
"""
import argparse
import asyncio
import os
import signal
import sys

from camdot.hub import Hub

from camdot_relay.boards import parse_boards

ROLES = ('all', 'ingest', 'edge')


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog='relay.py', description='camdot relay: many viewers of many boards; the boards see '
        'one viewer each.')
    p.add_argument('--board', action='append', default=[], metavar='NAME=URL',
                   help='a board (repeat, or comma-separate); a token as the URL password: '
                        'http://:TOKEN@host. An edge needs the NAME only')
    p.add_argument('--stream', action='append', default=[], metavar='NAME=URL',
                   help="a CameraWebServer board's MJPEG URL (default: port 81, /stream)")
    p.add_argument('--role', choices=ROLES, default='all')
    p.add_argument('--redis', metavar='URL', help='redis://host:port/db shared by every process '
                   '(without it: one process, in memory)')
    p.add_argument('--prefix', default='camdot',
                   help='Redis key prefix (several relays, one Redis)')
    p.add_argument('--host', default='0.0.0.0', help='address the edge listens on')
    p.add_argument('--port', type=int, default=8090, help='the edge\'s HTTP port')
    p.add_argument('--token', default=os.environ.get('CAMDOT_RELAY_TOKEN') or None,
                   help='the viewers\' token (default: $CAMDOT_RELAY_TOKEN; none: open)')
    p.add_argument('--base-url', help='the public URL of the edges, for the TD (default: Host)')
    p.add_argument('--allowed-host', action='append', default=None, metavar='NAME',
                   help='Host names the edge answers to (default: any)')
    p.add_argument('--max-viewers', type=int, default=2000, help='viewers per edge process')
    p.add_argument('--stall-timeout', type=float, default=10.0, metavar='S',
                   help='seconds without frames before a board counts as stuck (reconnect)')
    args = p.parse_args(argv)
    if not args.board:
        p.error('name at least one --board')
    if args.role != 'all' and not args.redis:
        p.error('--role %s needs --redis: without it one process does everything' % args.role)
    try:
        args.boards = parse_boards(args.board, args.stream)
    except ValueError as exc:
        p.error(str(exc))
    nameless = [b.name for b in args.boards if not (b.url or b.stream)]
    if nameless and (args.role == 'ingest' or not args.redis):
        p.error('%s needs a URL (name=URL): %s' % (
            'the ingest' if args.redis else 'without --redis this process holds the boards and',
            ', '.join(nameless)))
    return args


async def serve(args):
    owner = '%s-%d-%s' % (os.uname().nodename, os.getpid(), os.urandom(3).hex())
    if args.redis:
        from camdot_relay.lease import RedisLeases
        from camdot_relay.redis_broker import RedisBroker
        broker = RedisBroker(args.redis, prefix=args.prefix, shared=('relay/#',))
        hub = Hub(broker)
        await broker.start()
        leases = RedisLeases(broker.redis, owner, prefix=args.prefix)
    else:
        from camdot_relay.lease import LocalLeases
        broker = None
        hub = Hub()
        leases = LocalLeases()
    tasks = []
    if args.role in ('all', 'ingest'):
        from camdot_relay.ingest import Ingest
        ingest = Ingest(hub, args.boards, leases, args.stall_timeout)
        tasks.append(asyncio.create_task(ingest.run()))
    app = None
    if args.role in ('all', 'edge'):
        from camdot_relay.edge import create_edge
        app = create_edge(hub, [b.name for b in args.boards], token=args.token,
                          base_url=args.base_url, max_viewers=args.max_viewers,
                          allowed_hosts=args.allowed_host or ('*',))
        tasks.append(asyncio.create_task(app.start_server(host=args.host, port=args.port)))
    print('camdot relay: %s (%s), boards: %s%s' % (
        args.role, 'Redis %s' % args.redis if args.redis else 'in memory',
        ', '.join(b.name for b in args.boards),
        '; edge on http://%s:%d/' % (args.host, args.port) if app else ''), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait(tasks + [waiter], return_when=asyncio.FIRST_COMPLETED)
    for t in tasks:
        if t.done() and not t.cancelled() and t.exception():
            raise t.exception()
    if app is not None:
        app.shutdown()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)  # the ingest lets its leases go
    if broker is not None:
        await broker.close()
    print('camdot relay: stopped', flush=True)


def raise_open_files():
    """A viewer is a socket: let this process have as many as the system allows."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


def main(argv=None):
    args = parse_args(argv)
    raise_open_files()
    try:
        asyncio.run(serve(args))
    except OSError as exc:
        print('camdot relay: %s' % exc, file=sys.stderr)
        return 1
    return 0
