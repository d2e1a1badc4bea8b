"""microdot.websocket vs camdot.websocket, side by side on the same unix-port binary.

    .venv/bin/python tools/bench_ws.py [--seconds 9] [--binary bytearray]

Both servers run tools/bench_ws_app.py (the same app, one with each module) on the unix port;
one `websockets` client drives them by turns: one connection to each server, turns of 10-30 ms
on each, so that both see the same machine (on a shared VM its speed drifts by 2x within
seconds); each rate is the total over its turns. Figures and the camdot/microdot ratios; nothing
is asserted.
Targets (issue 3): 64 KiB masked echo >= 10x, 16 B echo >= 1.0x, 50 KB sends >= 1.0x with
< 1 KB allocated per send. --binary bytearray runs camdot with WebSocket.binary_type = bytearray
(binary messages handed over in the buffer they were read into, no copy: the opt-in).
"""
import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time

from websockets.asyncio.client import connect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'host'))
from servers import MICROPYPATH, MPY, Server, free_port  # noqa: E402
from romfs_image import MOUNT, build as build_romfs  # noqa: E402

IMPLS = ('microdot', 'camdot')
MPY_BUILD = 'build/mpy-x64'   # `make` compiles lib/ and microdot to .mpy here (the board's form)
HEAP = '8M'        # room for microdot's per-send copies while the GC is off (alloc figure)
KB64 = 65536
PAYLOAD64K = os.urandom(KB64)

# Heap growth of each import; and of the interned-name (qstr) table alone, which MicroPython grows
# by doubling: the import that adds the first name past its room pays for the whole new block.
# GROW (optional) first interns 100 throwaway names, which makes the table allocate its next
# block before the measured imports: their figure then shows only what they add themselves.
# The first slot (optional) mounts the .mpy build as a ROMFS image (tools/romfs_image.py), from
# which the imports then use bytecode in place, as from flash.
IMPORT = '''
import gc, micropython
%s
gc.collect(); a = gc.mem_alloc()
import microdot
%s
gc.collect(); b = gc.mem_alloc()
micropython.qstr_info()
import %s
gc.collect(); c = gc.mem_alloc()
import %s
gc.collect(); d = gc.mem_alloc()
micropython.qstr_info()
print(b - a, c - b, d - c)
'''


def ws(url):
    return connect(url, max_size=None, compression=None, ping_interval=None, open_timeout=10)


async def echoes_for(c, payload, seconds=0.02):
    """Round trips of `payload` on `c` for about `seconds`: (round trips, elapsed)."""
    n = 0
    start = time.perf_counter()
    while True:
        await c.send(payload)
        reply = await c.recv()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    assert len(reply) == len(payload)
    return n, elapsed


async def pushes(c, n=200):
    """Ask /push for n 50 KB messages (~10-30 ms): (n, elapsed until the last arrived)."""
    start = time.perf_counter()
    await c.send('%d 1' % n)
    for _ in range(n):
        msg = await c.recv()
    elapsed = time.perf_counter() - start
    assert len(msg) == 50000
    await c.recv()                              # the one sent with the GC off, and its figure
    await c.recv()
    return n, elapsed


async def rates_by_turns(urls, path, turn, seconds):
    """One connection per server; `turn(c)` -> (count, elapsed) on each by turns, until each has
    had `seconds` in all: {impl: count per second}."""
    conns = {impl: await ws(urls[impl] + path) for impl in IMPLS}
    done = {impl: [0, 0.0] for impl in IMPLS}            # count, seconds
    try:
        for c in conns.values():                         # warm-up
            await turn(c)
        turns = 0
        while min(t for n, t in done.values()) < seconds:
            order = IMPLS if turns % 2 == 0 else IMPLS[::-1]     # alternate who goes first
            turns += 1
            for impl in order:
                n, t = await turn(conns[impl])
                done[impl][0] += n
                done[impl][1] += t
    finally:
        for c in conns.values():
            await c.close()
    return {impl: n / t for impl, (n, t) in done.items()}


async def alloc_per_send(url, k=10):
    """Bytes the server allocates per 50 KB send, over k sends with its GC off (the same figure
    run after run)."""
    async with ws(url) as c:
        await c.send('5 %d' % k)
        for _ in range(5 + k):
            msg = await c.recv()
        assert len(msg) == 50000
        alloc = await c.recv()
    return int(alloc.split()[1])


async def alloc_per_echo(url, payload, n=20):
    """Bytes the server allocates per echo of `payload` (receive + send), over n echoes with its
    GC off."""
    async with ws(url) as c:
        await c.send(str(n))
        for _ in range(n):
            await c.send(payload)
            reply = await c.recv()
        assert len(reply) == len(payload)
        alloc = await c.recv()
    return int(alloc.split()[1])


async def ram_per_connection(url, n=20):
    """Heap each open connection holds (after a collection) once it has echoed one 16 B message
    and waits in receive(): the average over n connections."""
    async with ws(url + '/heap') as heap:
        await heap.send('?')
        before = int(await heap.recv())
        conns = [await ws(url + '/echo') for _ in range(n)]
        try:
            for c in conns:
                await c.send('x' * 16)
                await c.recv()
            await heap.send('?')
            after = int(await heap.recv())
        finally:
            for c in conns:
                await c.close()
    return (after - before) / n


GROW = "for i in range(100): getattr(gc, 'unused_name_%d' % i, None)"


def import_ram(impl, path=MICROPYPATH, grow=False, rom=False):
    env = dict(os.environ, MICROPYPATH=path)
    # Each one's helper module first (microdot.helpers / camdot.compat), then the package.
    modules = ('microdot.helpers', 'microdot.websocket') if impl == 'microdot' else \
        ('camdot.compat', 'camdot.websocket')
    script = IMPORT % ((MOUNT if rom else '', GROW if grow else '') + modules)
    out = subprocess.run([MPY, '-c', script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=30).stdout.splitlines()
    # qstr_info(): '... n_total_bytes=N', before and after the two imports
    qstr = [int(line.split('n_total_bytes=')[1].split()[0]) for line in out[:2]]
    return [int(v) for v in out[2].split()] + [qstr[1] - qstr[0]]


async def echoes(url, n):
    async with ws(url) as c:
        for _ in range(n):
            await c.send('x' * 16)
            await c.recv()


def instructions(impl, n):
    """User-space instructions the server executes over a connection that echoes n 16 B messages
    (valgrind counts them: the same figure run after run, whatever else the machine does)."""
    port = free_port()
    os.makedirs(os.path.join(ROOT, 'build'), exist_ok=True)
    out = os.path.join(ROOT, 'build', 'callgrind.%s.%d' % (impl, n))
    srv = Server(['valgrind', '--tool=callgrind', '--callgrind-out-file=' + out, MPY,
                  '-X', 'heapsize=' + HEAP, 'tools/bench_ws_app.py', impl, str(port)], port,
                 timeout=120).__enter__()
    try:
        asyncio.run(echoes('ws://127.0.0.1:%d/echo' % port, n))
    finally:
        srv.stop(timeout=60)               # valgrind writes its counts on the way out
    with open(out) as f:
        total = int(f.read().split('\nsummary: ')[1].split()[0])
    os.remove(out)
    return total


def instructions_per_echo(impl):
    # The difference of two runs leaves out start-up, the upgrade and the close.
    return (instructions(impl, 1200) - instructions(impl, 200)) / 1000


async def measure(urls, seconds):
    figures = {impl: {} for impl in IMPLS}
    for key, path, turn, unit in (
            ('echo16', '/echo', lambda c: echoes_for(c, 'x' * 16), 1),
            ('echo64k', '/echo', lambda c: echoes_for(c, PAYLOAD64K), KB64 / (1 << 20)),
            ('push', '/push', pushes, 1)):
        rates = await rates_by_turns(urls, path, turn, seconds)
        for impl in IMPLS:
            figures[impl][key] = rates[impl] * unit
    for impl in IMPLS:
        figures[impl]['alloc'] = await alloc_per_send(urls[impl] + '/push')
        figures[impl]['alloc16'] = await alloc_per_echo(urls[impl] + '/echo_alloc', 'x' * 16)
        figures[impl]['alloc4k'] = await alloc_per_echo(urls[impl] + '/echo_alloc',
                                                        PAYLOAD64K[:4096])
        figures[impl]['conn_ram'] = await ram_per_connection(urls[impl])
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seconds', type=float, default=9.0, help='per figure and server')
    ap.add_argument('--binary', choices=('bytes', 'bytearray'), default='bytes',
                    help="camdot's WebSocket.binary_type")
    args = ap.parse_args()
    if not shutil.which('valgrind'):
        sys.exit('bench_ws: valgrind not found (apt-get install -y valgrind)')
    servers = {}
    urls = {}
    try:
        for impl in IMPLS:
            port = free_port()
            servers[impl] = Server([MPY, '-X', 'heapsize=' + HEAP, 'tools/bench_ws_app.py', impl,
                                    str(port), args.binary], port).__enter__()
            urls[impl] = 'ws://127.0.0.1:%d' % port
        figures = asyncio.run(measure(urls, args.seconds))
    finally:
        for srv in servers.values():
            srv.stop()
    if os.path.exists(os.path.join(ROOT, MPY_BUILD, '.stamp')):
        build_romfs()       # the import rows from .mpy used in place
    for impl in IMPLS:
        figures[impl]['echo16_instr'] = instructions_per_echo(impl)
        base, dep, mod, names = import_ram(impl)
        figures[impl]['import'] = dep + mod
        figures[impl]['import_names'] = names
        figures[impl]['import_dep'] = dep
        figures[impl]['import_own'] = mod
        figures[impl]['import_total'] = base + dep + mod
        if os.path.exists(os.path.join(ROOT, MPY_BUILD, '.stamp')):   # as the board loads them
            base, dep, mod, names = import_ram(impl, MPY_BUILD + ':.frozen')
            figures[impl]['import_mpy'] = dep + mod
            figures[impl]['import_mpy_names'] = names
            base, dep, mod, names = import_ram(impl, MPY_BUILD + ':.frozen', grow=True)
            figures[impl]['import_mpy_grown'] = dep + mod
            if names > 3000:
                raise SystemExit('bench_ws: the name table grew during the "grown" import '
                                 '(%d B): raise the count in GROW' % names)
            base, dep, mod, names = import_ram(impl, '.frozen', rom=True)
            figures[impl]['import_rom'] = dep + mod
            figures[impl]['import_rom_names'] = names
    m, c = figures['microdot'], figures['camdot']
    rows = [
        ('16 B text echo, round trips/s', 'echo16', '%.0f', '>= 1.0x'),
        ('  server instructions per echo', 'echo16_instr', '%.0f', '(valgrind; fewer is better)'),
        ('64 KiB binary echo (masked), MiB/s', 'echo64k', '%.1f', '>= 10x'),
        ('50 KB server->client, msg/s', 'push', '%.0f', '>= 1.0x'),
        ('bytes allocated per 50 KB send', 'alloc', '%d', '< 1 KB'),
        ('bytes allocated per 16 B echo', 'alloc16', '%d', ''),
        ('bytes allocated per 4 KiB binary echo', 'alloc4k', '%d', ''),
        ('heap per open connection (B)', 'conn_ram', '%.0f', ''),
        ('import RAM after microdot (B)', 'import', '%d', ''),
        ('  of which helpers / compat (B)', 'import_dep', '%d', ''),
        ('  of which the websocket package (B)', 'import_own', '%d', ''),
        ('  of which interned names (B)', 'import_names', '%d', ''),
        ('import RAM, microdot + all that (B)', 'import_total', '%d', ''),
    ]
    if 'import_mpy' in c:
        rows.append(('import RAM after microdot, .mpy (B)', 'import_mpy', '%d', ''))
        rows.append(('  of which interned names (B)', 'import_mpy_names', '%d', ''))
        rows.append(('  .mpy, name table already grown (B)', 'import_mpy_grown', '%d', ''))
        rows.append(('import RAM, .mpy in place (ROMFS) (B)', 'import_rom', '%d', ''))
        rows.append(('  of which interned names (B)', 'import_rom_names', '%d', ''))
    print('unix port %s, heap %s; each rate: %g s per server, in turns; camdot binary_type %s'
          % (MPY, HEAP, args.seconds, args.binary))
    print('%-36s %12s %12s %8s  %s' % ('figure', 'microdot', 'camdot', 'ratio', 'target'))
    for label, key, fmt, target in rows:
        ratio = c[key] / m[key] if m[key] else float('inf')
        print('%-36s %12s %12s %7.2fx  %s' % (label, fmt % m[key], fmt % c[key], ratio, target))
    os.makedirs(os.path.join(ROOT, 'reports'), exist_ok=True)
    with open(os.path.join(ROOT, 'reports', 'bench_ws.json'), 'w') as f:
        json.dump(figures, f, indent=1)


if __name__ == '__main__':
    main()
