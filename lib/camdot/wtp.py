"""The Web Thing Protocol (W3C CG draft, WebSocket subprotocol 'webthingprotocol') for a Thing.

    consumer = Consumer(thing)                    # sans-IO: the one on the other end of a socket
    reply = await consumer.handle(text)           # a request (JSON text or dict) -> response dict
    note = consumer.notification(topic, payload)  # a hub item -> notification dict, or None

    await serve(ws, thing, hub)                   # the socket loop: requests in, responses and
                                                  # notifications out, until the socket closes

Every request gets exactly one response; a bad message (malformed JSON, unknown operation,
unknown name, invalid value) gets an error response and the socket stays usable. Observations and
event subscriptions belong to the consumer and end with its socket.
"""
import asyncio
import json
import os
import time
from binascii import hexlify

from camdot.thing import ThingError, problem

SUBPROTOCOL = 'webthingprotocol'
#: Notifications waiting for a slow socket; beyond this the oldest are dropped (hub FIFO).
QUEUE = 16


def uuid4():
    """A random UUID (version 4) as a string."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = hexlify(bytes(b)).decode()
    return '%s-%s-%s-%s-%s' % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def timestamp():
    """Now as RFC 3339 UTC with milliseconds ('2000-01-01T00:00:05.123Z' on a board whose clock
    was never set: still well formed)."""
    ms = time.time_ns() // 1000000 if hasattr(time, 'time_ns') else int(time.time() * 1000)
    t = time.gmtime(ms // 1000)
    return '%04d-%02d-%02dT%02d:%02d:%02d.%03dZ' % (t[0], t[1], t[2], t[3], t[4], t[5], ms % 1000)


class Consumer:
    """One consumer of the Thing, as the protocol sees it over one socket: its requests answered,
    its observed properties and subscribed events, each with the operation and correlationID that
    registered it (a later registration replaces it)."""

    def __init__(self, thing):
        self.thing = thing
        self.observed = {}     # property name -> (operation, correlationID or None)
        self.subscribed = {}   # event name -> (operation, correlationID or None)

    @property
    def active(self):
        """True while this consumer wants notifications."""
        return bool(self.observed or self.subscribed)

    def message(self, mtype, op, corr, **members):
        msg = {'thingID': self.thing.id, 'messageID': uuid4(), 'messageType': mtype,
               'operation': op}
        msg.update(members)
        if corr is not None:
            msg['correlationID'] = corr
        return msg

    def error(self, op, corr, status, detail, name=None):
        msg = self.message('response', op, corr, error=problem(status, detail),
                           timestamp=timestamp())
        if name is not None:
            msg['name'] = name
        return msg

    async def handle(self, request):
        """Answer one request (JSON text or an already decoded dict) with a response dict."""
        if not isinstance(request, dict):
            try:
                request = json.loads(request)
            except (ValueError, TypeError):
                return self.error('unknown', None, 400, 'message is not valid JSON')
            if not isinstance(request, dict):
                return self.error('unknown', None, 400, 'message must be a JSON object')
        op = request.get('operation')
        corr = request.get('correlationID')
        name = request.get('name')
        if not isinstance(op, str):
            return self.error('unknown', corr, 400, 'operation missing')
        if request.get('messageType') != 'request':
            return self.error(op, corr, 400, "messageType must be 'request'", name)
        thing_id = request.get('thingID')
        if thing_id is not None and thing_id != self.thing.id:
            return self.error(op, corr, 404, 'no thing %r here' % (thing_id,), name)
        method = getattr(self, 'op_' + op, None)
        if method is None:
            return self.error(op, corr, 400, 'unsupported operation %r' % op, name)
        try:
            return await method(request, op, corr, name)
        except ThingError as exc:
            return self.error(op, corr, exc.status, exc.detail, name)
        except Exception as exc:  # a bug must not end the conversation
            return self.error(op, corr, 500, '%s: %s' % (type(exc).__name__, exc), name)

    def _named(self, name, table, what):
        if not isinstance(name, str):
            raise ThingError(400, 'name missing')
        if name not in table:
            raise ThingError(404, 'no %s %r' % (what, name))
        return name

    # ---- properties ----
    async def op_readproperty(self, req, op, corr, name):
        self._named(name, self.thing.properties, 'property')
        return self.message('response', op, corr, name=name, value=self.thing.read(name),
                            timestamp=timestamp())

    async def op_writeproperty(self, req, op, corr, name):
        self._named(name, self.thing.properties, 'property')
        if 'value' not in req:
            raise ThingError(400, 'value missing')
        value = self.thing.write(name, req['value'])
        return self.message('response', op, corr, name=name, value=value, timestamp=timestamp())

    async def op_readallproperties(self, req, op, corr, name):
        return self.message('response', op, corr, values=self.thing.read_all(),
                            timestamp=timestamp())

    async def op_readmultipleproperties(self, req, op, corr, name):
        names = req.get('names')
        if not isinstance(names, list) or not names:
            raise ThingError(400, 'names must be a non-empty list')
        values = {}
        for n in names:
            if not isinstance(n, str) or n not in self.thing.properties:
                raise ThingError(400, 'no property %r' % (n,))
            values[n] = self.thing.read(n)
        return self.message('response', op, corr, values=values, timestamp=timestamp())

    async def op_observeproperty(self, req, op, corr, name):
        self._named(name, self.thing.properties, 'property')
        if not self.thing.properties[name].get('observable', True):
            raise ThingError(403, '%s is not observable' % name)
        self.observed[name] = (op, corr)
        return self.message('response', op, corr, name=name)

    async def op_unobserveproperty(self, req, op, corr, name):
        self._named(name, self.thing.properties, 'property')
        self.observed.pop(name, None)
        return self.message('response', op, corr, name=name)

    async def op_observeallproperties(self, req, op, corr, name):
        props = self.thing.properties
        for n in props:
            if props[n].get('observable', True):
                self.observed[n] = (op, corr)
        return self.message('response', op, corr)

    async def op_unobserveallproperties(self, req, op, corr, name):
        self.observed.clear()
        return self.message('response', op, corr)

    # ---- actions ----
    async def op_invokeaction(self, req, op, corr, name):
        self._named(name, self.thing.actions, 'action')
        out = await self.thing.invoke(name, req.get('input'))
        msg = self.message('response', op, corr, name=name, timestamp=timestamp())
        if out is not None:
            msg['output'] = out
        return msg

    # ---- events ----
    async def op_subscribeevent(self, req, op, corr, name):
        self._named(name, self.thing.events, 'event')
        self.subscribed[name] = (op, corr)
        return self.message('response', op, corr, name=name)

    async def op_unsubscribeevent(self, req, op, corr, name):
        self._named(name, self.thing.events, 'event')
        self.subscribed.pop(name, None)
        return self.message('response', op, corr, name=name)

    async def op_subscribeallevents(self, req, op, corr, name):
        for n in self.thing.events:
            self.subscribed[n] = (op, corr)
        return self.message('response', op, corr)

    async def op_unsubscribeallevents(self, req, op, corr, name):
        self.subscribed.clear()
        return self.message('response', op, corr)

    # ---- notifications ----
    def notification(self, topic, payload):
        """The notification for a hub item on 'thing/<name>/property|event/<x>', or None when
        this consumer does not observe it."""
        parts = topic.rsplit('/', 2)
        if len(parts) != 3:
            return None
        kind, name = parts[1], parts[2]
        if kind == 'property':
            reg = self.observed.get(name)
            if reg is None:
                return None
            return self.message('notification', reg[0], reg[1], name=name, value=payload,
                                timestamp=timestamp())
        if kind == 'event':
            reg = self.subscribed.get(name)
            if reg is None:
                return None
            msg = self.message('notification', reg[0], reg[1], name=name, timestamp=timestamp())
            if payload is not None:
                msg['data'] = payload
            return msg
        return None


async def serve(ws, thing, hub, consumer=None):
    """Run the protocol on an open WebSocket until it closes. The hub subscription that feeds
    notifications exists only while the consumer observes something, and is closed at the end.
    `consumer`: a Consumer (subclass) to use instead of Consumer(thing)."""
    consumer = consumer or Consumer(thing)
    lock = asyncio.Lock()   # responses and notifications come from two tasks: one frame at a time
    sub = None
    pump = None

    async def send(msg):
        text = json.dumps(msg)
        async with lock:
            await ws.send(text)

    async def forward(sub):
        try:
            async for topic, payload in sub:
                msg = consumer.notification(topic, payload)
                if msg is not None:
                    await send(msg)
        except Exception:  # the socket went away: the receive loop ends the conversation
            pass

    try:
        while True:
            text = await ws.receive()
            if text is None:
                break
            if not isinstance(text, str):
                try:
                    text = bytes(text).decode()
                except (UnicodeError, ValueError):
                    text = ''
            reply = await consumer.handle(text)
            # Subscribe before answering, so no change slips between the response and the first
            # notification (the response takes the send lock first: it still goes out first).
            if consumer.active and sub is None and hub is not None:
                sub = hub.subscribe(thing.topics, maxlen=QUEUE)
                pump = asyncio.create_task(forward(sub))
            elif not consumer.active and sub is not None:
                sub.close()
                sub = pump = None
            await send(reply)
    finally:
        if sub is not None:
            sub.close()
        if pump is not None:
            pump.cancel()
