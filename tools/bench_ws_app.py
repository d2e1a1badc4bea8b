"""The tiny app `make bench` drives (tools/bench_ws.py), with either WebSocket module.

    .venv/bin/micropython tools/bench_ws_app.py microdot|camdot PORT [bytes|bytearray]

(camdot: binary messages arrive as bytes, the default, or as bytearray: the opt-in without a copy.)

/echo echoes every message. /push: a text message 'N K' makes the server send N binary messages
of 50 KB (one buffer, allocated once), then K more with the GC off, then the text
'alloc BYTES' = gc.mem_alloc() growth per send over those K. /echo_alloc: a text message 'N'
makes the server echo the next N messages with the GC off, then send 'alloc BYTES' (growth per
echo). /heap: any message gets the heap in use after a collection (gc.mem_alloc()), as text.
"""
import gc
import sys

import repo_paths  # noqa: E402,F401  (lib/ and .deps/ first)

from microdot import Microdot  # noqa: E402

if sys.argv[1] == 'camdot':
    from camdot.websocket import WebSocket, with_websocket
    if sys.argv[3:] == ['bytearray']:
        WebSocket.binary_type = bytearray
else:
    from microdot.websocket import WebSocket, with_websocket

# The same limit for both (microdot's 0 would refuse everything).
WebSocket.max_message_length = 1 << 20
PAYLOAD = bytearray(50000)
app = Microdot()


@app.route('/echo')
@with_websocket
async def echo(request, ws):
    while True:
        await ws.send(await ws.receive())


@app.route('/push')
@with_websocket
async def push(request, ws):
    while True:
        n, k = [int(v) for v in (await ws.receive()).split()]
        for _ in range(n):
            await ws.send(PAYLOAD)
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        for _ in range(k):
            await ws.send(PAYLOAD)
        grown = gc.mem_alloc() - before
        gc.enable()
        await ws.send('alloc %d' % (grown // k))


@app.route('/echo_alloc')
@with_websocket
async def echo_alloc(request, ws):
    while True:
        n = int(await ws.receive())
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        for _ in range(n):
            await ws.send(await ws.receive())
        grown = gc.mem_alloc() - before
        gc.enable()
        await ws.send('alloc %d' % (grown // n))


@app.route('/heap')
@with_websocket
async def heap(request, ws):
    while True:
        await ws.receive()
        gc.collect()
        await ws.send(str(gc.mem_alloc()))


print('bench_ws_app: %s on port %s' % (sys.argv[1], sys.argv[2]))
try:
    app.run(host='127.0.0.1', port=int(sys.argv[2]))
except KeyboardInterrupt:
    pass
