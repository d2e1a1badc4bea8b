"""camdot.hub_socket on real camdot.websocket sockets: our client against our server in one event loop
over loopback TCP (portable: pytest on CPython, tools/mprun.py on the unix port)."""
import asyncio
import json

from microdot import Microdot

from camdot.hub import Hub
from camdot.hub_socket import PubSub, messages, pipe
from camdot.websocket import WebSocketError, connect, with_websocket
from harness import araises, serve, until




def make_app(hub, ps, events):
    app = Microdot()

    @app.route('/frames')
    @with_websocket
    async def frames(request, ws):
        # the camera-route shape: one line, a header + the frame sent as one message without a join
        await pipe(hub.subscribe('camera/frame', policy='latest'), ws,
                   encode=lambda topic, frame: (b'JPG', frame),
                   on_close=lambda: events.append('frames closed'))

    @app.route('/upper')
    @with_websocket
    async def upper(request, ws):
        async for _, msg in messages(ws, on_close=lambda: events.append('upper closed')):
            await ws.send(msg.upper())

    @app.route('/')
    @with_websocket
    async def broker(request, ws):
        await ps.serve(ws)

    return app


async def serving(test):
    hub = Hub()
    ps = PubSub(hub)
    events = []
    ps.on_close = lambda client: events.append('client %d closed' % client.id)
    app = make_app(hub, ps, events)
    task, port = await serve(app)
    try:
        await asyncio.wait_for(test('ws://127.0.0.1:%d' % port, hub, ps, events), 20)
    finally:
        app.shutdown()
        await asyncio.wait_for(task, 5)


async def test_pipe_streams_latest_frames_and_releases_on_client_close():
    async def test(url, hub, ps, events):
        ws = await connect(url + '/frames')
        await until(lambda: hub.has_subscribers('camera/frame'))
        frame = bytearray(b'\xff\xd8' + b'x' * 3000)
        assert hub.publish('camera/frame', frame) == 1
        got = await asyncio.wait_for(ws.receive(), 5)
        assert bytes(got) == b'JPG' + frame
        await ws.close()
        await until(lambda: not hub.has_subscribers('camera/frame'))
        await until(lambda: events == ['frames closed'])

    await serving(test)


async def test_messages_reads_the_socket_as_a_subscription():
    async def test(url, hub, ps, events):
        ws = await connect(url + '/upper')
        for word in ('abc', 'hub'):
            await ws.send(word)
            assert await asyncio.wait_for(ws.receive(), 5) == word.upper()
        await ws.close()
        await until(lambda: events == ['upper closed'])

    await serving(test)


async def test_json_protocol_between_two_clients():
    async def test(url, hub, ps, events):
        a = await connect(url + '/')
        b = await connect(url + '/')
        await a.send(json.dumps({'type': 'subscribe', 'topic': 'room/+'}))
        await until(lambda: hub.has_subscribers('room/1'))
        await b.send(json.dumps({'type': 'publish', 'topic': 'room/1', 'data': {'t': 20}}))
        msg = json.loads(await asyncio.wait_for(a.receive(), 5))
        assert msg == {'type': 'message', 'topic': 'room/1', 'data': {'t': 20}}
        await b.send('{"type": "subscribe", "topic": "a/#/b"}')
        err = json.loads(await asyncio.wait_for(b.receive(), 5))
        assert err['type'] == 'error' and 'last' in err['error']
        assert ps.send(min(ps.clients), 'direct') is True
        assert await asyncio.wait_for(a.receive(), 5) == 'direct'
        await a.close()
        await b.close()
        await until(lambda: ps.clients == {} and hub.subscriptions() == [])
        assert sorted(events) == ['client 1 closed', 'client 2 closed']
        await araises(WebSocketError, a.receive())

    await serving(test)
