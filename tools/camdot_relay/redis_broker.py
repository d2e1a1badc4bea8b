"""The hub across processes: camdot.hub's broker interface on Redis (redis-py's asyncio client).

    from camdot.hub import Hub
    from camdot_relay.redis_broker import RedisBroker
    hub = Hub(RedisBroker('redis://127.0.0.1:6379/0'))
    await hub.broker.start()          # returns at once; connects (and reconnects) on its own
    sub = hub.subscribe('relay/+/state')
    hub.publish('relay/cam/state', {'state': 'online'}, retain=True)
    await hub.broker.close()

App code does not change: the hub delivers every item to this process's subscriptions at once
and the broker carries it to the others, in two ways chosen by the publish:
- plain items: Redis pub/sub, a channel per topic (PREFIX:p:TOPIC). Every item, in order, at most
  once; nothing is replayed to a process that was away. A subscription becomes a PSUBSCRIBE of its
  filter as a glob (the hub's own matching makes it exact).
- retained items: a stream per topic capped at one entry (XADD PREFIX:r:TOPIC MAXLEN 1). Redis
  keeps only the newest, so a late subscriber gets it at once, and a process that falls behind
  reads the newest next time instead of piling up the backlog for which Redis disconnects a slow
  pub/sub client (client-output-buffer-limit pubsub). Camera frames travel this way: no work per
  viewer in Redis, one read per frame per process. Followed are the topics a subscription here
  names, and those a wildcard subscription matches among the streams that exist (rescanned every
  `scan_interval` seconds).
Payloads go as they are: bytes-like as binary (no base64), str as text, anything else as JSON, in
an envelope of two small fields (kind, and which process sent it: a process skips its own items,
which the hub delivered at once).

Bounded everywhere: retained items wait to be sent one per topic (a newer one replaces it), plain
ones in a FIFO of `max_pending` (the oldest dropped and counted in `dropped`); what comes in goes
into the hub's bounded subscriptions. When Redis goes away every loop retries with backoff (0.1 s
doubling to 2 s) and subscribes again by itself; `connected` tells how it stands.
"""
import asyncio
import json
import os
from collections import Counter, deque

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from camdot.hub import Broker, check_topic, split_filter, topic_matches

# What a Redis call raises when the server is away or the connection broke.
LOST = (RedisError, OSError, asyncio.TimeoutError, EOFError)
GLOB_SPECIAL = '\\*?[]'


def encode(payload):
    """(kind, data) for a payload: bytes-like as is, str as UTF-8, None, else JSON (ValueError
    if it has no JSON form)."""
    if isinstance(payload, (bytes, memoryview)):
        return b'b', payload
    if isinstance(payload, bytearray):
        return b'b', bytes(payload)  # redis-py refuses bytearray
    if isinstance(payload, str):
        return b't', payload.encode()
    if payload is None:
        return b'n', b''
    try:
        return b'j', json.dumps(payload).encode()
    except (TypeError, ValueError) as exc:
        raise ValueError('a payload for other processes must be bytes, str or JSON: %s' % exc)


def decode(kind, data):
    if kind == b'b':
        return bytes(data)
    if kind == b't':
        return bytes(data).decode()
    if kind == b'n':
        return None
    if kind == b'j':
        return json.loads(bytes(data))
    raise ValueError('unknown payload kind %r' % (kind,))


def _escape(text):
    out = []
    for c in text:
        out.append('\\' + c if c in GLOB_SPECIAL else c)
    return ''.join(out)


def globs(pattern):
    """The Redis glob(s) that cover an MQTT filter (a superset: '+' becomes '*')."""
    levels = _escape(pattern).split('/')
    if levels[-1] == '#':
        if len(levels) == 1:
            return ['*']
        parent = '/'.join('*' if lv == '+' else lv for lv in levels[:-1])
        return [parent, parent + '/*']
    return ['/'.join('*' if lv == '+' else lv for lv in levels)]


def filters_overlap(a, b):
    """True when a topic can match both MQTT filters (a subscription may want a shared topic)."""
    la, lb = a.split('/'), b.split('/')
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else None
        y = lb[i] if i < len(lb) else None
        if x == '#' or y == '#':
            return True
        if x is None or y is None:
            return False
        if x != y and x != '+' and y != '+':
            return False
    return True


class RedisBroker(Broker):
    """camdot.hub's broker across processes (see the module docstring)."""
    #: Plain items waiting for Redis before the oldest is dropped.
    max_pending = 256
    #: Seconds between rescans for the streams a wildcard subscription matches.
    scan_interval = 5.0
    #: Milliseconds an XREAD waits for new retained items before it looks at the topics again.
    block_ms = 250
    #: Seconds between PINGs while there is nothing to send (keeps `connected` true to life).
    ping_interval = 1.0

    def __init__(self, url, prefix='camdot', shared=('#',), client=None):
        self.url = url
        self.prefix = prefix
        self.shared = tuple(shared)  # topic filters that leave this process
        for f in self.shared:
            split_filter(f)
        self.origin = os.urandom(8)
        self.redis = client
        self.connected = False
        self.dropped = 0       # plain items dropped before they reached Redis
        self.errors = 0        # Redis failures seen (each followed by a retry)
        self._wanted = Counter()            # filter -> subscriptions here
        self._plain_out = deque()           # (topic, kind, data)
        self._retained_out = {}             # topic -> (kind, data)
        self._wake = asyncio.Event()
        self._changed_ps = asyncio.Event()       # the wanted filters changed (pub/sub loop)
        self._changed_streams = asyncio.Event()  # (stream loop)
        self._last = {}                     # followed stream key -> last id read
        self._cache = {}                    # followed stream key -> (id, topic, payload)
        self._waiting = {}                  # stream key -> new subscriptions to hand the newest
        self._scanned = {}                  # wildcard filter -> stream keys found
        self._scan_due = 0.0
        self._tasks = []
        self._p = prefix + ':p:'
        self._r = prefix + ':r:'
        self._pb = self._p.encode()

    # ---- the hub's side (sync, never blocks) ----

    def is_shared(self, topic):
        for f in self.shared:
            if f == '#' or f == topic or filters_overlap(f, topic):
                return True
        return False

    def publish(self, topic, payload, retain=False):
        n = self.hub.deliver(topic, payload)  # here at once (this also checks the topic)
        if not self.is_shared(topic):
            return n
        kind, data = encode(payload)
        if retain:
            self._retained_out[topic] = (kind, data)
            key = self._r + topic
            if key in self._last:
                self._cache[key] = (None, topic, payload)
        else:
            if len(self._plain_out) >= self.max_pending:
                self._plain_out.popleft()
                self.dropped += 1
            self._plain_out.append((topic, kind, data))
        self._wake.set()
        return n

    def subscribed(self, sub):
        pattern = sub.pattern
        if pattern is None or not self.is_shared(pattern):
            return
        self._wanted[pattern] += 1
        if self._wanted[pattern] == 1:
            self._note_change()
        if sub._levels is None:  # a topic: hand over its newest retained item
            key = self._r + pattern
            pending = self._retained_out.get(pattern)
            if pending is not None:
                sub.put(pattern, decode(*pending))
            elif key in self._cache:
                sub.put(pattern, self._cache[key][2])
            else:
                waiting = self._waiting.setdefault(key, [])
                waiting.append(sub)
                if len(waiting) == 1:
                    self._spawn(self._fetch(key, pattern))
        else:
            for key in self._scanned.get(pattern, ()):
                entry = self._cache.get(key)
                if entry is not None:
                    sub.put(entry[1], entry[2])

    def unsubscribed(self, sub):
        pattern = sub.pattern
        if pattern is None or pattern not in self._wanted:
            return
        self._wanted[pattern] -= 1
        if self._wanted[pattern] <= 0:
            del self._wanted[pattern]
            self._note_change()

    def _note_change(self):
        self._changed_ps.set()
        self._changed_streams.set()

    # ---- life ----

    async def start(self):
        """Start the loops (connecting in the background: Redis may come later)."""
        if self.redis is None:
            self.redis = aioredis.Redis.from_url(
                self.url, socket_connect_timeout=2, socket_timeout=5, retry=Retry(NoBackoff(), 0))
        for loop in (self._writer, self._listener, self._follower):
            self._spawn(loop())

    async def close(self):
        # Cancel the loops and wait for them; again if one goes on: Python 3.11's wait_for()
        # swallows a cancellation that lands just as the event it waits for is set.
        tasks, self._tasks = self._tasks, []
        while tasks:
            for t in tasks:
                t.cancel()
            done, tasks = await asyncio.wait(tasks, timeout=0.5)
            for t in done:
                if not t.cancelled():
                    t.exception()  # (retrieved: asyncio would warn about it)
        if self.redis is not None:
            await self.redis.aclose()

    def _spawn(self, coro):
        task = asyncio.create_task(coro)
        self._tasks.append(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task):
        try:
            self._tasks.remove(task)
        except ValueError:
            pass

    def _lost(self, exc):
        if self.connected:
            print('camdot relay: Redis at %s lost: %s' % (self.url, exc or type(exc).__name__))
        self.connected = False
        self.errors += 1

    def _bug(self, exc):
        import traceback
        self.errors += 1
        traceback.print_exception(type(exc), exc, exc.__traceback__)

    def _up(self):
        if not self.connected:
            self.connected = True

    # ---- out: one pipeline per batch ----

    async def _writer(self):
        delay = 0.1
        while True:
            if not self._plain_out and not self._retained_out:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.ping_interval)
                except asyncio.TimeoutError:
                    pass
            retained, self._retained_out = self._retained_out, {}
            plain = list(self._plain_out)
            self._plain_out.clear()
            pipe = self.redis.pipeline(transaction=False)
            if not retained and not plain:
                pipe.ping()  # idle: is Redis still there? (`connected`)
            for topic, (kind, data) in retained.items():
                pipe.xadd(self._r + topic, {'o': self.origin, 'k': kind, 'd': data},
                          maxlen=1, approximate=False)
            for topic, kind, data in plain:
                pipe.publish(self._p + topic, b''.join((self.origin, kind, data)))
            try:
                await pipe.execute()
                self._up()
                delay = 0.1
            except Exception as exc:
                if isinstance(exc, LOST):
                    self._lost(exc)
                else:
                    self._bug(exc)
                self.dropped += len(plain)  # at most once: plain items are not retried
                for topic, item in retained.items():
                    self._retained_out.setdefault(topic, item)  # unless a newer one came
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    # ---- in: pub/sub ----

    async def _listener(self):
        delay = 0.1
        while True:
            ps = self.redis.pubsub()
            current = set()
            try:
                while True:
                    self._changed_ps.clear()
                    want = set()
                    for pattern in self._wanted:
                        for g in globs(pattern):
                            want.add(_escape(self._p) + g)
                    if want - current:
                        await ps.psubscribe(*(want - current))
                    if current - want:
                        await ps.punsubscribe(*(current - want))
                    current = want
                    if not current:  # nothing to listen to: wait for a subscription
                        try:
                            await asyncio.wait_for(self._changed_ps.wait(), 1.0)
                        except asyncio.TimeoutError:
                            pass
                        continue
                    msg = await ps.get_message(ignore_subscribe_messages=True, timeout=0.25)
                    self._up()
                    delay = 0.1
                    while msg is not None:
                        self._received(msg)
                        msg = await ps.get_message(ignore_subscribe_messages=True, timeout=0)
            except LOST as exc:
                self._lost(exc)
            except Exception as exc:  # a bug: say so, and listen again
                self._bug(exc)
            finally:
                try:
                    await ps.aclose()
                except Exception:
                    pass
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _received(self, msg):
        if msg.get('type') != 'pmessage':
            return
        channel = msg['channel']
        data = msg['data']
        if not channel.startswith(self._pb) or len(data) < 9 or data[:8] == self.origin:
            return
        try:
            topic = channel[len(self._pb):].decode()
            payload = decode(data[8:9], memoryview(data)[9:])
            self.hub.deliver(topic, payload)
        except ValueError as exc:  # a foreign writer: bad topic, JSON or UTF-8
            self.errors += 1
            print('camdot relay: ignoring an item on %r: %s' % (channel[:80], exc))

    # ---- in: retained items (streams) ----

    def _keys(self):
        keys = set()
        for pattern in self._wanted:
            if '+' in pattern or '#' in pattern:
                keys.update(self._scanned.get(pattern, ()))
            else:
                keys.add(self._r + pattern)
        return keys

    async def _rescan(self):
        loop = asyncio.get_running_loop()
        wild = [p for p in self._wanted if '+' in p or '#' in p]
        self._scan_due = loop.time() + self.scan_interval
        found = {}
        for pattern in wild:
            keys = []
            for g in globs(pattern):
                match = _escape(self._r) + g
                async for key in self.redis.scan_iter(match=match, count=500, _type='stream'):
                    key = key.decode()
                    if _matches(pattern, key[len(self._r):]):
                        keys.append(key)
            found[pattern] = keys
        self._scanned = found

    async def _follower(self):
        delay = 0.1
        loop = asyncio.get_running_loop()
        while True:
            try:
                if self._changed_streams.is_set() or loop.time() >= self._scan_due:
                    self._changed_streams.clear()
                    await self._rescan()
                keys = self._keys()
                for key in list(self._last):
                    if key not in keys:
                        del self._last[key]
                        self._cache.pop(key, None)
                for key in keys:
                    self._last.setdefault(key, b'0-0')
                if not keys:
                    try:
                        await asyncio.wait_for(self._changed_streams.wait(), self.scan_interval)
                    except asyncio.TimeoutError:
                        pass
                    continue
                resp = await self.redis.xread(dict(self._last), count=1, block=self.block_ms)
                self._up()
                delay = 0.1
                for key, entries in resp or ():
                    if entries:
                        self._entry(key.decode(), *entries[-1])
            except Exception as exc:
                if isinstance(exc, LOST):
                    self._lost(exc)
                else:
                    self._bug(exc)
                for key in self._last:   # Redis may have restarted empty: read what it has
                    self._last[key] = b'0-0'
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _entry(self, key, id, fields):
        if key not in self._last or _id_le(id, self._last[key]):
            return
        self._last[key] = id
        cached = self._cache.get(key)
        if cached is not None and cached[0] == id:
            return
        topic = key[len(self._r):]
        try:
            payload = decode(fields.get(b'k'), fields.get(b'd', b''))
        except ValueError as exc:
            self.errors += 1
            print('camdot relay: ignoring a retained item on %r: %s' % (topic[:80], exc))
            return
        self._cache[key] = (id, topic, payload)
        if fields.get(b'o') != self.origin:
            try:
                self.hub.deliver(topic, payload)
            except ValueError:
                self.errors += 1

    async def _fetch(self, key, topic):
        # A new subscription to a topic not followed yet: its newest retained item, now.
        try:
            entries = await self.redis.xrevrange(key, count=1)
            self._up()
        except LOST as exc:
            self._lost(exc)
            entries = None
        subs = self._waiting.pop(key, ())
        if not entries:
            return
        id, fields = entries[0]
        try:
            payload = decode(fields.get(b'k'), fields.get(b'd', b''))
        except ValueError:
            return
        last = self._last.get(key)
        if last is None or not _id_le(id, last):
            self._last[key] = id  # the stream loop goes on after it: no second delivery
            self._cache[key] = (id, topic, payload)
        for sub in subs:
            if not sub.closed:
                sub.put(topic, payload)


def _id_le(a, b):
    """Stream ids compared: a <= b."""
    ma, _, sa = bytes(a).partition(b'-')
    mb, _, sb = bytes(b).partition(b'-')
    return (int(ma), int(sa or 0)) <= (int(mb), int(sb or 0))


def _matches(pattern, topic):
    try:
        check_topic(topic)
        return topic_matches(pattern, topic)
    except ValueError:
        return False
