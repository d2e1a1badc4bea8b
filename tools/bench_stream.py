"""Fan-out figures: the unix-port device app's simulated camera (QVGA, 30 fps) to 1, 4 and 16
WebSocket viewers, then the same with one stalled viewer added (connected, never reads); then
the same app on CPython, side by side.

    .venv/bin/python tools/bench_stream.py [--seconds 4] [--viewers 1,4,16] [--fps 30]
                                           [--runtimes micropython,cpython]

Per run: source fps (distinct frames captured per second), delivered fps per viewer (min and
mean) and its ratio to the source, capture-to-receive latency p50/p95 over all frames (the
device stamps each frame with its capture time; both ends share this machine's clock), and what
became of the stalled viewer; max gap: the longest pause between two frames any viewer saw;
heap/viewer: the device's allocated heap (after a collection, its /debug/heap) midway through the
run less before the viewers came, per viewer (the unix port; CPython does not say).
Figures only: nothing is asserted (see `make bench`).
Target: 4 viewers each >= 95 % of the source fps; the stalled viewer costs the others nothing.
"""
import argparse
import asyncio
import base64
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import urllib.request

import websockets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'host'))
from servers import MPY, Server, free_port  # noqa: E402


def meta(data):
    n = (data[4] << 8) | data[5]
    words = data[6:4 + n].decode().split()
    return {k: int(v) for k, v in (w.split('=') for w in words[1:])}


async def viewer(url, stop, out):
    seqs, lats, times = [], [], []
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        while time.monotonic() < stop:
            try:
                msg = await asyncio.wait_for(ws.recv(), max(0.01, stop - time.monotonic()))
            except asyncio.TimeoutError:
                break
            if isinstance(msg, str):
                continue
            now = time.time()
            m = meta(msg)
            seqs.append(m['seq'])
            lats.append(now * 1000 - m['t'])
            times.append(now)
    out.append((seqs, lats, times))


def stalled_viewer(port):
    """A WebSocket client that completes the handshake and then never reads."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(('127.0.0.1', port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(('GET /ws/stream HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n'
               'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n'
               % (port, key)).encode())
    head = b''
    while b'\r\n\r\n' not in head:
        head += s.recv(1)
    assert b' 101 ' in head.split(b'\r\n')[0], head
    return s


def fate(sock):
    # After the run: was the stalled viewer's connection dropped by the device?
    sock.setblocking(False)
    total = 0
    try:
        while True:
            b = sock.recv(1 << 20)
            if not b:
                return 'closed by the device after %d buffered bytes' % total
            total += len(b)
    except BlockingIOError:
        return 'still open (%d bytes buffered)' % total
    except ConnectionResetError:
        return 'reset by the device'


def pct(values, p):
    if not values:
        return float('nan')
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100 * len(v)))]


def allocated(port):
    # the device's heap in use after a collection (config 'debug': true serves /debug/heap)
    with urllib.request.urlopen('http://127.0.0.1:%d/debug/heap' % port, timeout=10) as res:
        return json.loads(res.read())['alloc']


async def run(port, n, seconds, stalled):
    url = 'ws://127.0.0.1:%d/ws/stream' % port
    stuck = stalled_viewer(port) if stalled else None
    await asyncio.sleep(0.3 if stalled else 0)
    out = []
    warm = 1.0
    before = await asyncio.to_thread(allocated, port)
    stop = time.monotonic() + warm + seconds
    tasks = [asyncio.create_task(viewer(url, stop, out)) for _ in range(n)]
    await asyncio.sleep(warm + seconds / 2)
    during = await asyncio.to_thread(allocated, port)
    await asyncio.gather(*tasks)
    what = fate(stuck) if stuck else ''
    if stuck:
        stuck.close()
    # Drop the warm-up (connection set-up) from every viewer: count frames from the first seq
    # any viewer saw after the warm-up window's start.
    all_seqs = sorted(s for seqs, _, _ in out for s in seqs)
    span = all_seqs[-1] - all_seqs[0] + 1 if all_seqs else 0
    first = all_seqs[0] if all_seqs else 0
    lo = first + int(span * warm / (warm + seconds))
    src = len(set(s for s in all_seqs if s >= lo)) / seconds
    per = [len([s for s in seqs if s >= lo]) / seconds for seqs, _, _ in out]
    lats = [lt for seqs, ls, _ in out for s, lt in zip(seqs, ls) if s >= lo]
    gap = 0
    for seqs, _, times in out:
        kept = [t for s, t in zip(seqs, times) if s >= lo]
        for a, b in zip(kept, kept[1:]):
            gap = max(gap, b - a)
    heap = None if before is None else (during - before) / n   # None: CPython does not say
    return src, per, lats, gap * 1000, what, heap


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--seconds', type=float, default=4.0)
    p.add_argument('--viewers', default='1,4,16')
    p.add_argument('--fps', type=int, default=30)
    p.add_argument('--runtimes', default='micropython,cpython',
                   help='the device app on the unix port and/or on CPython (side by side)')
    p.add_argument('--stall-seconds', type=float, default=15.0,
                   help='run length with a stalled viewer: loopback socket buffers take ~10 s '
                        'at 30 fps QVGA to fill before the device sees the stall')
    args = p.parse_args(argv)
    counts = [int(x) for x in args.viewers.split(',')]
    folder = tempfile.mkdtemp(prefix='camdot-bench-')
    cfg = os.path.join(folder, 'config.json')
    with open(cfg, 'w') as f:
        json.dump({'camera': {'backend': 'sim', 'framesize': 'QVGA', 'fps': args.fps,
                              'fps_cap': args.fps},
                   # camdot.limits: room for every viewer, and for them all connecting at once
                   'max_clients': max(counts) + 2, 'limits': {'max_requests': max(counts) + 4},
                   'settings_file': os.path.join(folder, 'settings.json'), 'debug': True}, f)
    try:
        for runtime in args.runtimes.split(','):
            bench(runtime.strip(), counts, args, cfg)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def bench(runtime, counts, args, cfg):
    argv = [MPY, 'main.py'] if runtime == 'micropython' else [sys.executable, 'main.py']
    env = {'CAMDOT_CONFIG': cfg, 'PYTHONPATH': 'lib:.deps'}
    port = free_port()
    env['HTTP_PORT'] = str(port)
    print('\nstream fan-out: the device app on %s, simulated camera QVGA at %d fps, %.0f s per run '
          '(%.0f s with a stalled viewer)' % (
              'the unix port' if runtime == 'micropython' else 'CPython', args.fps, args.seconds,
              args.stall_seconds))
    print('%-16s %7s %8s %8s %6s %7s %7s %8s %12s  %s' % (
        'viewers', 'src fps', 'min fps', 'mean fps', 'min %', 'p50 ms', 'p95 ms', 'max gap',
        'heap/viewer', 'stalled viewer'))
    with Server(argv, port, env=env) as srv:
        for stalled in (False, True):
            for n in counts:
                secs = args.stall_seconds if stalled else args.seconds
                src, per, lats, gap, what, heap = asyncio.run(run(port, n, secs, stalled))
                label = '%d%s' % (n, ' + 1 stalled' if stalled else '')
                print('%-16s %7.1f %8.1f %8.1f %5.0f%% %7.1f %7.1f %6.0fms %12s  %s' % (
                    label, src, min(per), sum(per) / len(per), 100 * min(per) / src if src else 0,
                    pct(lats, 50), pct(lats, 95), gap,
                    '-' if heap is None else '%.0f B' % heap, what))
                sys.stdout.flush()
                time.sleep(0.5)
        code = srv.stop()
    if code not in (0, None):
        print('server exit code', code)
        print(srv.output[-2000:])


if __name__ == '__main__':
    main()
