"""Relay figures: how many viewers one edge process keeps at >= 90 % of the source's frames, what
they cost, and what the relay adds to the latency; beside a bare asyncio fan-out of the same
bytes from the same Redis stream (what this machine can do without a framework).

    .venv/bin/python tools/bench_relay.py [--scenarios QVGA:20,VGA:15] [--steps 100,200,...]
                                          [--seconds 4] [--servers edge,bare]

Deployment per scenario: the device app on the unix port (simulated camera at that size and
rate) -> one ingest process -> Redis (its own redis-server) -> one edge process (or the bare
server) -> N viewers (bare asyncio clients in this process, tests/host/ws_viewers.py).
Per step: the worst viewer's share of the source's frames (by sequence number: 1.0 = every
frame), latency capture -> viewer p50/p95 over every frame (the frame comment's t=, same clock),
CPU of the server process (per 100 viewers), and of this client process (if it runs near 100 %,
the clients, not the server, are the limit). Steps stop after the first that falls below 90 %.
A direct viewer of the board gives its own latency; "added" is the relay's figure minus the
board's own p50.
Figures only: nothing is asserted (see `make bench`).
Target (issue 17): one edge process keeps >= 300 QVGA viewers at >= 90 % with p95 < 50 ms added.
"""
import argparse
import asyncio
import base64
import hashlib
import json
import os
import resource
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, 'tests', 'host'), os.path.join(ROOT, 'tools'),
                os.path.join(ROOT, 'lib')]
from redisd import RedisServer  # noqa: E402
from relay_deploy import Proc, until  # noqa: E402
from servers import MPY, PY, Server, free_port  # noqa: E402
from ws_viewers import delivered, open_viewer  # noqa: E402

RELAY = os.path.join(ROOT, 'tools', 'relay.py')
TICK = os.sysconf('SC_CLK_TCK')


def cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def pct(values, p):
    if not values:
        return float('nan')
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


# ---- the bare server: the same bytes from the same stream, no framework ----

async def bare_serve(port, redis_url, key):
    import redis.asyncio as aioredis
    clients = set()
    limit = 256 * 1024  # a client with this much unsent is skipped (latest wins, roughly)

    async def handle(reader, writer):
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = await reader.read(4096)
            if not chunk:
                return
            head += chunk
        k = [ln.split(b':', 1)[1].strip() for ln in head.split(b'\r\n')
             if ln.lower().startswith(b'sec-websocket-key:')][0]
        accept = base64.b64encode(hashlib.sha1(
            k + b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest())
        writer.write(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
                     b'Connection: Upgrade\r\nSec-WebSocket-Accept: ' + accept + b'\r\n\r\n')
        clients.add(writer)
        try:
            while await reader.read(4096):
                pass
        finally:
            clients.discard(writer)
            writer.close()

    async def fan_out():
        r = aioredis.Redis.from_url(redis_url)
        last = b'0-0'
        while True:
            resp = await r.xread({key: last}, count=1, block=1000)
            for _, entries in resp or ():
                last, fields = entries[-1]
                data = fields[b'd']
                n = len(data)
                head = bytes((0x82, 126)) + n.to_bytes(2, 'big') if n < 65536 else \
                    bytes((0x82, 127)) + n.to_bytes(8, 'big')
                for w in list(clients):
                    if w.transport.get_write_buffer_size() < limit:
                        w.write(head)
                        w.write(data)

    server = await asyncio.start_server(handle, '127.0.0.1', port, backlog=1024)
    async with server:
        await asyncio.gather(server.serve_forever(), fan_out())


# ---- one scenario ----

async def step(port, path, n, seconds):
    viewers = []
    for i in range(n):
        viewers.append(await open_viewer('127.0.0.1', port, path))
        if i % 50 == 49:
            await asyncio.sleep(0)
    await asyncio.sleep(1.0)
    return viewers


def measure(server_pid, port, path, n, seconds):
    async def main():
        viewers = await step(port, path, n, seconds)
        c0, s0, t0 = cpu_seconds(server_pid), self_cpu(), time.time()
        await asyncio.sleep(seconds)
        c1, s1, t1 = cpu_seconds(server_pid), self_cpu(), time.time()
        for v in viewers:
            v.close()
        await asyncio.sleep(0.5)
        return viewers, (c1 - c0) / (t1 - t0), (s1 - s0) / (t1 - t0), t0 * 1000, t1 * 1000
    viewers, cpu, client_cpu, start, end = asyncio.run(main())
    ratios, lats = [], []
    made = 0
    for v in viewers:
        got, m = delivered(v.frames, start, end)
        made = max(made, m)
        ratios.append(got / m if m else 0)
        lats += [r - t for s, t, r in v.frames if start <= r <= end]
    return {'viewers': n, 'worst': min(ratios), 'mean': sum(ratios) / len(ratios),
            'source_fps': made / ((end - start) / 1000), 'p50': pct(lats, 50),
            'p95': pct(lats, 95), 'cpu': cpu, 'cpu_per_100': cpu / (n / 100),
            'client_cpu': client_cpu}


def direct_latency(board, seconds=3):
    async def main():
        v = await open_viewer('127.0.0.1', board.port, '/ws/stream')
        await asyncio.sleep(seconds)
        v.close()
        return [r - t for s, t, r in v.frames]
    lats = asyncio.run(main())
    return pct(lats, 50), pct(lats, 95)


def scenario(framesize, fps, steps, seconds, servers, folder):
    results = {}
    with RedisServer() as redis:
        cfg = os.path.join(folder, 'board-%s.json' % framesize)
        with open(cfg, 'w') as f:
            json.dump({'hostname': 'bench', 'settings_file': os.path.join(folder, 's.json'),
                       'camera': {'framesize': framesize, 'fps': fps, 'fps_cap': 30}}, f)
        bport = free_port()
        with Server([MPY, 'main.py'], bport, env={'HTTP_PORT': str(bport),
                                                  'CAMDOT_CONFIG': cfg}) as board:
            prefix = 'bench%d' % os.getpid()
            ingest = Proc([PY, RELAY, '--role', 'ingest', '--board', 'cam=' + board.url,
                           '--redis', redis.url, '--prefix', prefix]).start()
            try:
                eport = free_port()
                with Server([PY, RELAY, '--role', 'edge', '--host', '127.0.0.1', '--port',
                             str(eport), '--board', 'cam', '--redis', redis.url, '--prefix',
                             prefix, '--max-viewers', '5000'], eport) as edge:
                    def online():
                        with __import__('urllib.request').request.urlopen(
                                edge.url + '/cam/properties/framesize', timeout=2) as r:
                            return json.loads(r.read()) == framesize
                    until(online, 20, 'the board through the relay')
                    results['direct'] = direct_latency(board)
                    for name in servers:
                        rows = results[name] = []
                        if name == 'edge':
                            pid, port, path = edge.proc.pid, eport, '/cam/ws/stream'
                            bare = None
                        else:
                            port = free_port()
                            bare = Server([PY, __file__, '--bare-serve', str(port), redis.url,
                                           prefix + ':r:relay/cam/frame'], port)
                            bare.__enter__()
                            pid, path = bare.proc.pid, '/'
                        try:
                            for n in steps:
                                row = measure(pid, port, path, n, seconds)
                                rows.append(row)
                                print_row(framesize, fps, name, row)
                                if row['worst'] < 0.9:
                                    break
                        finally:
                            if bare is not None:
                                bare.stop()
            finally:
                ingest.stop()
    return results


def print_row(framesize, fps, name, r):
    print('  %-5s %2d fps %-4s %4d viewers: worst %3.0f %% (mean %3.0f %%) of %4.1f fps, '
          'latency p50 %5.1f ms p95 %6.1f ms, server CPU %3.0f %% (%2.0f %% per 100), '
          'client CPU %3.0f %%' % (
              framesize, fps, name, r['viewers'], 100 * r['worst'], 100 * r['mean'],
              r['source_fps'], r['p50'], r['p95'], 100 * r['cpu'], 100 * r['cpu_per_100'],
              100 * r['client_cpu']), flush=True)


def summary(framesize, fps, results):
    d50, d95 = results['direct']
    print('%s %d fps: the board direct to one viewer: p50 %.1f ms, p95 %.1f ms' % (
        framesize, fps, d50, d95))
    for name in ('edge', 'bare'):
        rows = [r for r in results.get(name, ()) if r['worst'] >= 0.9]
        if not rows:
            if name in results:
                print('  %s: no step kept every viewer >= 90 %%' % name)
            continue
        best = rows[-1]
        fast = [r for r in rows if r['p95'] - d50 < 50]
        print('  %-4s keeps %d viewers >= 90 %% (tried up to %d); there: added latency p50 %.1f '
              'ms, p95 %.1f ms; CPU %.0f %% per 100 viewers; added p95 < 50 ms up to %s' % (
                  name, best['viewers'], results[name][-1]['viewers'], best['p50'] - d50,
                  best['p95'] - d50, 100 * best['cpu_per_100'],
                  '%d viewers' % fast[-1]['viewers'] if fast else 'none'))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--bare-serve':
        resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
        try:
            asyncio.run(bare_serve(int(sys.argv[2]), sys.argv[3], sys.argv[4]))
        except KeyboardInterrupt:
            pass
        return
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--scenarios', default='QVGA:20,VGA:15')
    p.add_argument('--steps', default='100,300,500,800,1000,1500,2000')
    p.add_argument('--seconds', type=float, default=4.0)
    p.add_argument('--servers', default='edge,bare')
    args = p.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
    steps = [int(x) for x in args.steps.split(',')]
    print('bench_relay: %d cores, load %s, steps %s, %g s windows' % (
        os.cpu_count(), '/'.join('%.1f' % x for x in os.getloadavg()), args.steps, args.seconds))
    folder = tempfile.mkdtemp(prefix='camdot-bench-relay-')
    summaries = []
    for sc in args.scenarios.split(','):
        framesize, fps = sc.split(':')
        results = scenario(framesize, int(fps), steps, args.seconds, args.servers.split(','),
                           folder)
        summaries.append((framesize, int(fps), results))
    print('--- summary ---')
    for framesize, fps, results in summaries:
        summary(framesize, fps, results)


if __name__ == '__main__':
    main()
