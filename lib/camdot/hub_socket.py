"""The hub over WebSockets: pipe a subscription into a socket, read a socket as a subscription, and
PubSub, a server of many sockets speaking a JSON topic protocol.

    from camdot.hub_socket import PubSub, pipe
    await pipe(hub.subscribe('camera/frame', policy='latest'), ws)   # a whole camera route

    ps = PubSub(hub)
    @app.route('/ws')
    @with_websocket
    async def topics(request, ws):
        await ps.serve(ws)            # one Client per socket, in ps.clients

Client protocol (text messages, JSON): {"type": "subscribe"|"unsubscribe", "topic": FILTER},
{"type": "publish", "topic": TOPIC, "data": ANY}; the server sends {"type": "message", "topic": T,
"data": ANY} and {"type": "error", "error": "..."} (the connection stays open). A bytes-like payload
goes out as {"type": "message", "topic": T, "binary": true} followed by one binary message.

The sockets are camdot.websocket's (or any object with its receive/send/send_parts API).
"""
import asyncio
import json

from microdot import iscoroutine  # type: ignore[attr-defined]  # (not in microdot's .pyi)

from camdot.compat import const, print_exception
from camdot.hub import Subscription, SubscriptionClosed, TopicError, check_topic, split_filter
from camdot.websocket import WebSocketError

BUFFERS = (bytes, bytearray, memoryview)
_ECHOED = const(40)     # characters of a client's bad value repeated in an error message
#: What ends a loop quietly, as "the socket is gone" (any other exception goes to on_error):
#: camdot.websocket's WebSocketError, a connection lost under it, the subscription closed. A
#: program on microdot.websocket's own sockets adds that module's error:
#: `hub_socket.CLOSED += (microdot.websocket.WebSocketError,)`.
CLOSED = (WebSocketError, OSError, EOFError, SubscriptionClosed)


def _encode(payload):
    # str and buffers go out as they are (text / binary, never copied here); the rest as JSON.
    if isinstance(payload, str) or isinstance(payload, BUFFERS):
        return payload
    return json.dumps(payload)


async def _send(ws, data):
    if isinstance(data, (list, tuple)):  # several buffers, one binary message, no join
        await ws.send_parts(ws.BINARY, data)
    else:
        await ws.send(data)


async def _call(fn, *args):
    # A hook may be a plain function or a coroutine function.
    result = fn(*args)
    if result is not None and iscoroutine(result):
        await result


async def _finish(error, on_close, on_error, *args):
    # The hooks once a connection ended: on_error(*args, error) (else printed), on_close(*args).
    if error is not None:
        if on_error is None:
            print_exception(error)
        else:
            await _call(on_error, *args, error)
    if on_close is not None:
        await _call(on_close, *args)


async def _one_side(work, done, state):
    # One of a connection's two loops (reader, writer): a close ends it quietly, another error is
    # kept in state[0] for the hooks; either way `done` tells the connection to end.
    try:
        await work
    except CLOSED:
        pass
    except Exception as exc:
        state[0] = exc
    finally:
        done.set()


async def _read(ws, on_message, sub, state):
    # Reads the socket so a peer's close (and pings) are seen while we only send; ends the pipe.
    try:
        while True:
            msg = await ws.receive()
            if on_message is not None:
                await _call(on_message, msg)
    except CLOSED:
        pass
    except Exception as exc:
        state[0] = exc
    sub.close()


async def pipe(sub, ws, encode=None, on_message=None, on_close=None, on_error=None):
    """Send a subscription's items to a WebSocket until either one closes; never raises for that.

        await pipe(hub.subscribe('camera/frame', policy='latest'), ws)

    Each item is sent as encode(topic, payload) (default: str -> text, bytes-like -> binary, else
    JSON; a list of buffers -> one binary message via ws.send_parts). The socket is read meanwhile:
    incoming messages go to on_message(msg), or are discarded. At the end the subscription is
    closed, on_error(exc) gets an unexpected exception (printed if no hook), then on_close() runs.
    """
    state = [None]
    reader = asyncio.create_task(_read(ws, on_message, sub, state))
    try:
        while True:
            topic, payload = await sub.get()
            await _send(ws, _encode(payload) if encode is None else encode(topic, payload))
    except CLOSED:
        pass
    except Exception as exc:
        state[0] = exc
    finally:
        sub.close()
        reader.cancel()
    await _finish(state[0], on_close, on_error)


def messages(ws, maxlen=8, policy=None, topic=None, on_close=None, on_error=None):
    """The socket's incoming messages as a subscription of (topic, message) pairs.

        async for _, msg in messages(ws): ...

    A task reads the socket into a bounded mailbox (drops the oldest when the app falls behind,
    counted in .dropped). When the socket closes, on_close() runs and `async for` ends after the
    messages already received; closing the subscription stops the reading.
    """
    sub = Subscription(topic, policy, maxlen)

    async def reader():
        error = None
        try:
            while True:
                sub.put(topic, await ws.receive())
        except CLOSED:
            pass
        except Exception as exc:
            error = exc
        sub.end()  # the app still gets what was received before the close
        await _finish(error, on_close, on_error)

    sub.fed_by(asyncio.create_task(reader()))  # closing the subscription cancels the reader
    return sub


class Client:
    """One socket of a PubSub: `id`, `ws`, its topic filters, and a bounded outbox.

    When the client reads too slowly the oldest outgoing message is dropped (`dropped` counts).
    """

    def __init__(self, pubsub, ws, id):
        self.pubsub = pubsub
        self.ws = ws
        self.id = id
        self.subs = {}  # filter -> Subscription
        self.outbox = Subscription('client/%d' % id, maxlen=pubsub.max_queue)
        self._seq = -1  # the hub publish last delivered: overlapping filters deliver once
        self._deliver_cb = self._deliver

    def __repr__(self):
        return '<Client %d %d filters, dropped=%d>' % (self.id, len(self.subs), self.dropped)

    @property
    def dropped(self):
        return self.outbox.dropped

    def filters(self):
        return list(self.subs)

    def send(self, data):
        """Queue a message: str/bytes as is, anything else as JSON. Never blocks."""
        self.outbox.put(None, _encode(data))

    def error(self, text):
        self.outbox.put(None, json.dumps({'type': 'error', 'error': text}))

    def _deliver(self, topic, payload):
        hub = self.pubsub.hub
        if hub.seq == self._seq:
            return
        self._seq = hub.seq
        if isinstance(payload, BUFFERS):
            self.outbox.put(topic, payload)  # the writer sends a header then the binary message
        else:
            self.outbox.put(None, self.pubsub._message(topic, payload))

    def subscribe(self, pattern):
        if pattern in self.subs:
            return
        if len(self.subs) >= self.pubsub.max_filters:
            raise ValueError('too many subscriptions (max %d)' % self.pubsub.max_filters)
        self.subs[pattern] = self.pubsub.hub.subscribe(pattern, maxlen=1, callback=self._deliver_cb)

    def unsubscribe(self, pattern):
        sub = self.subs.pop(pattern, None)
        if sub is None:
            raise ValueError('not subscribed to %r' % pattern)
        sub.close()

    def close(self):
        for sub in self.subs.values():
            sub.close()
        self.subs.clear()
        self.outbox.close()


class PubSub:
    """Many WebSocket clients over one Hub, speaking the JSON topic protocol (module docstring).

        ps = PubSub(hub)
        await ps.serve(ws)            # in a WebSocket route, until the client goes
        ps.broadcast({'t': 1})        # every client
        ps.send(client_id, 'hello')   # one client; False if it is gone
        ps.clients                    # {id: Client}

    Hooks (plain or coroutine functions, None by default): on_connect(client), on_close(client),
    on_error(client, exc) (exceptions other than a closed socket; printed without a hook), and
    allow(client, action, topic) -> bool for 'subscribe'/'publish' (an access check).
    """
    #: Outgoing messages queued per client before the oldest is dropped.
    max_queue = 16
    #: Topic filters per client.
    max_filters = 16

    def __init__(self, hub, max_queue=None, max_filters=None):
        self.hub = hub
        if max_queue is not None:
            self.max_queue = max_queue
        if max_filters is not None:
            self.max_filters = max_filters
        self.clients = {}
        self.on_connect = self.on_close = self.on_error = self.allow = None
        self._next_id = 1
        self._msg_seq = -1
        self._msg_text = None

    def _message(self, topic, payload):
        # One JSON encoding per publish, shared by every client it reaches.
        if self.hub.seq != self._msg_seq:
            try:
                text = '{"type": "message", "topic": %s, "data": %s}' % (
                    json.dumps(topic), json.dumps(payload))
            except Exception:
                text = json.dumps({'type': 'error', 'error': 'topic %s: payload is not JSON' % topic})
            self._msg_seq = self.hub.seq
            self._msg_text = text
        return self._msg_text

    def broadcast(self, data):
        """Queue data (str/bytes as is, else JSON, encoded once) on every client; return how many."""
        data = _encode(data)
        for client in self.clients.values():
            client.outbox.put(None, data)
        return len(self.clients)

    def send(self, client_id, data):
        """Queue data on one client; False if there is no such client."""
        client = self.clients.get(client_id)
        if client is None:
            return False
        client.send(data)
        return True

    async def serve(self, ws):
        """Run the JSON protocol on ws until the client closes; releases everything after."""
        client = Client(self, ws, self._next_id)
        self._next_id += 1
        self.clients[client.id] = client
        # A reader and a writer task: a writer stuck on a client that does not read must not stop
        # us from seeing that client's close, and the other way round. The first to end ends both.
        done = asyncio.Event()
        state = [None]
        tasks = (asyncio.create_task(_one_side(self._read(client), done, state)),
                 asyncio.create_task(_one_side(self._write(client), done, state)))
        try:
            if self.on_connect is not None:
                await _call(self.on_connect, client)
            await done.wait()
        except Exception as exc:
            state[0] = exc
        finally:
            for task in tasks:
                task.cancel()
            client.close()
            self.clients.pop(client.id, None)
        await _finish(state[0], self.on_close, self.on_error, client)

    async def _write(self, client):
        # The only task that sends on this socket: messages leave one at a time, in order.
        ws = client.ws
        outbox = client.outbox
        while True:
            topic, data = await outbox.get()
            if topic is not None:
                await ws.send('{"type": "message", "topic": %s, "binary": true}'
                              % json.dumps(topic))
            await ws.send(data)

    async def _read(self, client):
        ws = client.ws
        while True:
            await self.handle(client, await ws.receive())

    async def handle(self, client, msg):
        """Process one client message (bad input gets an error message, never an exception)."""
        try:
            req = json.loads(msg)
        except Exception:
            return client.error('malformed JSON')
        if not isinstance(req, dict):
            return client.error('expected a JSON object')
        kind = req.get('type')
        topic = req.get('topic')
        if kind not in ('subscribe', 'unsubscribe', 'publish'):
            return client.error('unknown type: %s' % (json.dumps(kind)[:_ECHOED],))
        if not isinstance(topic, str):
            return client.error('%s needs a "topic" string' % kind)
        try:
            if kind == 'publish':
                check_topic(topic)
                if topic[0] == '$':
                    raise TopicError('topics starting with $ are reserved to the server')
            else:
                split_filter(topic)
            if kind != 'unsubscribe' and self.allow is not None:
                ok = self.allow(client, kind, topic)
                if ok is not None and iscoroutine(ok):
                    ok = await ok
                if not ok:
                    return client.error('%s not allowed on %s' % (kind, topic))
            if kind == 'subscribe':
                client.subscribe(topic)
            elif kind == 'unsubscribe':
                client.unsubscribe(topic)
            else:
                self.hub.publish(topic, req.get('data'))
        except ValueError as exc:  # TopicError is a ValueError
            client.error(str(exc))
