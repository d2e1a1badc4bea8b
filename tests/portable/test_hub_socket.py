"""camdot.hub_socket against fake sockets: pipe, messages, hooks, the JSON protocol, slow clients
(portable)."""
import asyncio
import json

from camdot.hub import Hub, Subscription
from camdot import hub_socket
from camdot.hub_socket import PubSub, pipe, messages
from camdot.websocket import WebSocketError


class FakeWS:
    """The WebSocket API the helpers use: send, receive (raises WebSocketError once closed), close."""
    BINARY = 2

    def __init__(self, blocked=False, error=WebSocketError):
        self.error = error        # what receive() and send() raise once closed
        self.sent = []
        self.incoming = Subscription(maxlen=64)
        self.closed = False
        self.gate = asyncio.Event()  # send() waits on it while `blocked` (a client that never reads)
        if not blocked:
            self.gate.set()

    def client_sends(self, msg):
        self.incoming.put(None, msg)

    def client_closes(self):
        self.closed = True
        self.incoming.close()

    async def receive(self):
        if self.closed:
            raise self.error('closed')
        try:
            return (await self.incoming.get())[1]
        except Exception:
            raise self.error('closed')

    async def send(self, data, opcode=None):
        await self.gate.wait()
        if self.closed:
            raise self.error('closed')
        self.sent.append(data)

    async def send_parts(self, opcode, parts):
        assert opcode == self.BINARY
        await self.send(b''.join(parts))

    async def close(self, code=1000, reason=''):
        self.client_closes()

    def json(self):
        return [json.loads(m) for m in self.sent if isinstance(m, str)]


def test_closed_names_the_errors_of_a_socket_that_is_gone():
    for error in (WebSocketError, OSError, EOFError):
        assert error in hub_socket.CLOSED


async def test_microdot_websocket_sockets_need_their_error_added_to_closed():
    # microdot.websocket's own sockets raise its WebSocketError once closed: an unexpected error
    # unless the program adds it to CLOSED, as the module docstring says.
    from microdot.websocket import WebSocketError as MicrodotError
    for added in (False, True):
        saved = hub_socket.CLOSED
        if added:
            hub_socket.CLOSED += (MicrodotError,)
        try:
            ws = FakeWS(error=MicrodotError)
            errors = []
            hub = Hub()
            task = asyncio.create_task(pipe(hub.subscribe('t'), ws, on_error=errors.append))
            await spin()
            ws.client_closes()
            await asyncio.wait_for(task, 2)
            assert len(errors) == (0 if added else 1), (added, errors)
        finally:
            hub_socket.CLOSED = saved


async def spin(n=10):
    for _ in range(n):
        await asyncio.sleep(0)


async def test_pipe_sends_until_the_socket_closes_and_releases_the_subscription():
    hub = Hub()
    ws = FakeWS()
    closed = []
    task = asyncio.create_task(pipe(hub.subscribe('camera/frame', policy='latest'), ws,
                                    on_close=lambda: closed.append(1)))
    await spin()
    frame = b'\xff\xd8jpeg'
    assert hub.publish('camera/frame', frame) == 1
    await spin()
    assert ws.sent == [frame] and ws.sent[0] is frame
    hub.publish('camera/frame', 'text')
    hub.publish('camera/frame', {'a': 1})  # latest: only this one is sent
    await spin()
    assert ws.sent[1:] == ['{"a": 1}']
    ws.client_closes()
    await asyncio.wait_for(task, 1)
    assert closed == [1]
    assert hub.subscriptions() == []  # the socket's subscription was released


async def test_pipe_ends_when_the_subscription_closes_and_passes_incoming_messages():
    hub = Hub()
    ws = FakeWS()
    got = []
    sub = hub.subscribe('t/#')
    task = asyncio.create_task(pipe(sub, ws, encode=lambda t, p: '%s=%s' % (t, p),
                                    on_message=got.append))
    await spin()
    ws.client_sends('hello')
    hub.publish('t/a', 1)
    await spin()
    assert ws.sent == ['t/a=1'] and got == ['hello']
    sub.close()
    await asyncio.wait_for(task, 1)


async def test_pipe_sends_parts_for_a_list_of_buffers():
    hub = Hub()
    ws = FakeWS()
    task = asyncio.create_task(pipe(hub.subscribe('f'), ws, encode=lambda t, p: [b'hdr', p]))
    await spin()
    hub.publish('f', b'body')
    await spin()
    assert ws.sent == [b'hdrbody']
    ws.client_closes()
    await asyncio.wait_for(task, 1)


async def test_pipe_reports_unexpected_errors_to_on_error_then_on_close():
    hub = Hub()
    ws = FakeWS()
    events = []

    def bad_encode(topic, payload):
        raise RuntimeError('encode failed')

    task = asyncio.create_task(pipe(hub.subscribe('t'), ws, encode=bad_encode,
                                    on_error=lambda e: events.append(str(e)),
                                    on_close=lambda: events.append('closed')))
    await spin()
    hub.publish('t', 1)
    await asyncio.wait_for(task, 1)
    assert events == ['encode failed', 'closed']
    assert hub.subscriptions() == []


async def test_messages_reads_a_socket_as_a_subscription():
    ws = FakeWS()
    closed = []
    sub = messages(ws, maxlen=2, on_close=lambda: closed.append(1))
    for m in ('a', 'b', 'c'):
        ws.client_sends(m)
    await spin()
    assert sub.dropped == 1
    got = []
    ws.client_closes()
    async for _, msg in sub:
        got.append(msg)
    assert got == ['b', 'c']  # what arrived before the close is still delivered
    assert closed == [1] and sub.closed


async def test_messages_async_for_gets_messages_in_order():
    ws = FakeWS()
    sub = messages(ws)
    got = []

    async def reader():
        async for _, msg in sub:
            got.append(msg)

    task = asyncio.create_task(reader())
    for m in ('x', b'y', 'z'):
        ws.client_sends(m)
        await spin(3)
    ws.client_closes()
    await asyncio.wait_for(task, 1)
    assert got == ['x', b'y', 'z']


async def test_closing_messages_stops_reading():
    ws = FakeWS()
    sub = messages(ws)
    await spin()
    task = sub._task
    sub.close()
    await spin()
    assert task.done()


async def serve(ps, ws):
    task = asyncio.create_task(ps.serve(ws))
    await spin()
    return task


async def test_protocol_subscribe_publish_unsubscribe():
    hub = Hub()
    ps = PubSub(hub)
    a, b = FakeWS(), FakeWS()
    ta, tb = await serve(ps, a), await serve(ps, b)
    a.client_sends('{"type": "subscribe", "topic": "room/+"}')
    await spin()
    b.client_sends(json.dumps({'type': 'publish', 'topic': 'room/1', 'data': {'t': 21.5}}))
    await spin()
    assert a.json() == [{'type': 'message', 'topic': 'room/1', 'data': {'t': 21.5}}]
    assert b.sent == []
    hub.publish('room/2', [1, 'two'])  # device code publishes straight into the hub
    await spin()
    assert a.json()[-1] == {'type': 'message', 'topic': 'room/2', 'data': [1, 'two']}
    a.client_sends('{"type": "unsubscribe", "topic": "room/+"}')
    await spin()
    assert hub.subscriptions() == []
    b.client_closes()
    a.client_closes()
    await asyncio.wait_for(ta, 1)
    await asyncio.wait_for(tb, 1)
    assert ps.clients == {}


async def test_protocol_errors_keep_the_connection_open():
    hub = Hub()
    ps = PubSub(hub)
    ws = FakeWS()
    task = await serve(ps, ws)
    bad = ['{not json', '[1, 2]', '"str"', '{"type": "dance"}', '{"topic": "a"}',
           '{"type": "subscribe"}', '{"type": "subscribe", "topic": 5}',
           '{"type": "subscribe", "topic": "a/#/b"}', '{"type": "subscribe", "topic": "a+/b"}',
           '{"type": "publish", "topic": "a/+", "data": 1}', '{"type": "publish", "topic": "", "data": 1}',
           '{"type": "publish", "topic": "$SYS/x", "data": 1}',
           '{"type": "unsubscribe", "topic": "never/subscribed"}', b'\xff\xfe']
    for msg in bad:
        ws.client_sends(msg)
        await spin(3)
    replies = ws.json()
    assert len(replies) == len(bad), replies
    for r in replies:
        assert r['type'] == 'error' and isinstance(r['error'], str) and r['error'], r
    assert replies[0]['error'] == 'malformed JSON'
    assert 'unknown type' in replies[3]['error']
    assert 'last' in replies[7]['error']
    assert 'wildcard' in replies[9]['error']
    assert 'reserved' in replies[11]['error']
    assert 'not subscribed' in replies[12]['error']
    # still working after all that
    ws.client_sends('{"type": "subscribe", "topic": "ok"}')
    await spin()
    hub.publish('ok', None)
    await spin()
    assert ws.json()[-1] == {'type': 'message', 'topic': 'ok', 'data': None}
    ws.client_closes()
    await asyncio.wait_for(task, 1)


async def test_overlapping_filters_deliver_once_and_limits_apply():
    hub = Hub()
    ps = PubSub(hub, max_filters=2)
    ws = FakeWS()
    task = await serve(ps, ws)
    for f in ('a/#', 'a/+', 'a/+', 'x'):
        ws.client_sends(json.dumps({'type': 'subscribe', 'topic': f}))
        await spin(3)
    assert 'too many' in ws.json()[-1]['error']
    hub.publish('a/b', 1)
    hub.publish('a/b', 1)
    await spin()
    msgs = [m for m in ws.json() if m['type'] == 'message']
    assert len(msgs) == 2  # two publishes, each once despite two matching filters
    ws.client_closes()
    await asyncio.wait_for(task, 1)
    assert hub.subscriptions() == []


async def test_broadcast_send_to_id_hooks_and_binary_payloads():
    hub = Hub()
    ps = PubSub(hub)
    events = []
    ps.on_connect = lambda client: events.append(('open', client.id))
    ps.on_close = lambda client: events.append(('close', client.id))
    a, b = FakeWS(), FakeWS()
    ta, tb = await serve(ps, a), await serve(ps, b)
    ids = sorted(ps.clients)
    assert events == [('open', ids[0]), ('open', ids[1])]
    assert ps.broadcast({'hello': 1}) == 2
    assert ps.send(ids[1], 'just b') is True
    assert ps.send(9999, 'nobody') is False
    await spin()
    assert a.sent == ['{"hello": 1}'] and b.sent == ['{"hello": 1}', 'just b']
    b.client_sends('{"type": "subscribe", "topic": "camera/frame"}')
    await spin()
    frame = bytearray(b'\xff\xd8')
    hub.publish('camera/frame', frame)
    await spin()
    assert json.loads(b.sent[-2]) == {'type': 'message', 'topic': 'camera/frame', 'binary': True}
    assert b.sent[-1] is frame
    a.client_closes()
    await asyncio.wait_for(ta, 1)
    assert events[-1] == ('close', ids[0]) and list(ps.clients) == [ids[1]]
    b.client_closes()
    await asyncio.wait_for(tb, 1)


async def test_allow_hook_denies():
    hub = Hub()
    ps = PubSub(hub)
    ps.allow = lambda client, action, topic: not topic.startswith('camera/')
    ws = FakeWS()
    task = await serve(ps, ws)
    ws.client_sends('{"type": "publish", "topic": "camera/frame", "data": 1}')
    ws.client_sends('{"type": "subscribe", "topic": "camera/#"}')
    await spin()
    assert [r['type'] for r in ws.json()] == ['error', 'error']
    assert 'not allowed' in ws.json()[0]['error']
    assert hub.subscriptions() == []
    ws.client_closes()
    await asyncio.wait_for(task, 1)


async def test_a_client_that_never_reads_does_not_block_the_others():
    hub = Hub()
    ps = PubSub(hub, max_queue=4)
    slow, fast = FakeWS(blocked=True), FakeWS()
    ts, tf = await serve(ps, slow), await serve(ps, fast)
    for ws in (slow, fast):
        ws.client_sends('{"type": "subscribe", "topic": "n"}')
    await spin()
    for i in range(40):
        hub.publish('n', i)
        await asyncio.sleep(0)
    await spin()
    assert [m['data'] for m in fast.json()] == list(range(40))
    slow_client = [c for c in ps.clients.values() if c.ws is slow][0]
    assert slow_client.outbox.pending == 4  # bounded: the rest was dropped and counted
    assert slow_client.dropped == 40 - 4 - 1  # one more is stuck in the blocked send
    slow.gate.set()
    await spin()
    assert [m['data'] for m in slow.json()] == [0, 36, 37, 38, 39]
    slow.client_closes()
    fast.client_closes()
    await asyncio.wait_for(ts, 1)
    await asyncio.wait_for(tf, 1)
    assert hub.subscriptions() == [] and ps.clients == {}
