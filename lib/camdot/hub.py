"""Publish/subscribe with MQTT topic filters and bounded delivery per subscriber.

    hub = Hub()
    sub = hub.subscribe('camera/frame', policy='latest')   # keep only the newest item
    hub.publish('camera/frame', jpeg)                      # sync, never blocks, never copies
    topic, payload = await sub.get()
    hub.publish('camera/status', doc, retain=True)         # also kept for later subscribers

One event loop, no locks (not thread-safe by design). The hub never validates, copies or encodes
payloads: subscribers get the very object that was published.

Where items go is the broker's business (`Broker`): the default keeps them in this process. A
broker for many processes (the relay's Redis broker, host side: tools/camdot_relay) implements the
same small interface, so app code publishes and subscribes the same way in one process or many.
"""
import asyncio

from microdot import iscoroutine  # type: ignore[attr-defined]  # (not in microdot's .pyi)

from camdot.compat import print_exception


class TopicError(ValueError):
    """An invalid topic filter or topic name."""


class SubscriptionClosed(Exception):
    """Raised by `Subscription.get()` once the subscription is closed."""


def split_filter(pattern):
    """Validate an MQTT topic filter; return its levels as a list, or None if it has no wildcard."""
    if not isinstance(pattern, str) or not pattern:
        raise TopicError('topic filter must be a non-empty string')
    if '+' not in pattern and '#' not in pattern:
        if '\x00' in pattern:
            raise TopicError('topic filter must not contain NUL')
        return None
    levels = pattern.split('/')
    last = len(levels) - 1
    for i, level in enumerate(levels):
        if level == '#':
            if i != last:
                raise TopicError("'#' must be the last level of a filter: %r" % pattern)
        elif level != '+' and ('+' in level or '#' in level):
            raise TopicError("a wildcard must fill a whole level: %r" % pattern)
    return levels


def check_topic(topic):
    """Raise TopicError unless `topic` is a valid topic name to publish on (no wildcards)."""
    if not isinstance(topic, str) or not topic:
        raise TopicError('topic must be a non-empty string')
    if '+' in topic or '#' in topic:
        raise TopicError("a published topic must not contain the wildcards '+' or '#': %r" % topic)
    if '\x00' in topic:
        raise TopicError('topic must not contain NUL')


def _match(levels, names):
    # `levels`: a split wildcard filter; `names`: a split topic.
    if names[0][:1] == '$' and (levels[0] == '+' or levels[0] == '#'):
        return False  # MQTT: filters starting with a wildcard never match $-topics ($SYS/...)
    n = len(names)
    i = 0
    for level in levels:
        if level == '#':
            return True  # also matches the parent: 'a/#' matches 'a'
        if i >= n or (level != '+' and level != names[i]):
            return False
        i += 1
    return i == n


def _wants(sub, topic):
    # Does the subscription `sub` match the (valid) topic name `topic`?
    levels = sub._levels
    if levels is None:
        return sub.pattern == topic
    return _match(levels, topic.split('/'))


def topic_matches(pattern, topic):
    """True if the topic filter `pattern` matches `topic` (both validated)."""
    levels = split_filter(pattern)
    check_topic(topic)
    if levels is None:
        return pattern == topic
    return _match(levels, topic.split('/'))


class Subscription:
    """A bounded mailbox of (topic, payload) pairs, usually made by `Hub.subscribe()`.

        async for topic, payload in sub: ...

    When full, the oldest item is dropped and counted in `dropped` (`latest` is a mailbox of 1).
    A subscription made without a hub (`Subscription()`) is a plain producer/consumer queue:
    `sub.put(topic, payload)`.
    """

    # Defaults live on the class: an instance stores only what differs (RAM per subscription).
    callback = None
    hub = None
    dropped = 0
    closed = False
    _levels = None  # the split filter of a wildcard subscription
    _event = None  # made on the first get() that has to wait
    _task = None  # worker of a coroutine callback, or the task fed_by() names: close() cancels it
    _ending = False
    _head = 0
    _count = 0

    def __init__(self, pattern=None, policy=None, maxlen=None, callback=None, hub=None,
                 default_maxlen=8):
        if policy == 'latest':
            if maxlen not in (None, 1):
                raise ValueError("policy 'latest' keeps one item; maxlen must be 1 or None")
            maxlen = 1
        elif policy in (None, 'fifo'):
            policy = 'fifo'
            if maxlen is None:
                maxlen = default_maxlen
            if not isinstance(maxlen, int) or maxlen < 1:
                raise ValueError('maxlen must be an int >= 1')
        else:
            raise ValueError("policy must be 'latest' or 'fifo': %r" % (policy,))
        self.pattern = pattern
        self.policy = policy
        self.maxlen = maxlen
        if hub is not None:
            self.hub = hub
        # The ring buffer, allocated once (a callback subscription needs it only if fn is a coroutine).
        if callback is None:
            self._alloc()
        else:
            self.callback = callback
            self._topics = self._payloads = None

    def _alloc(self):
        self._topics = [None] * self.maxlen
        self._payloads = [None] * self.maxlen

    def __repr__(self):
        return '<Subscription %r %s/%d dropped=%d%s>' % (
            self.pattern, self.policy, self.maxlen, self.dropped, ' closed' if self.closed else '')

    @property
    def pending(self):
        """How many items wait to be read."""
        return self._count

    def put(self, topic, payload):
        """Deliver one item (what `Hub.publish` calls); never blocks. Drops the oldest when full."""
        if self.closed or self._ending:
            return
        cb = self.callback
        if cb is not None and self._task is None:
            try:
                result = cb(topic, payload)
            except Exception as exc:
                self._report(exc)
                return
            if result is not None and iscoroutine(result):
                # A coroutine callback: from now on items queue here and one task awaits them in order.
                self._alloc()
                work = self._work(result)
                try:
                    self._task = asyncio.create_task(work)
                except RuntimeError as exc:  # CPython, no running loop: report, don't raise
                    work.close()
                    result.close()
                    self._report(exc)
            return
        n = self.maxlen
        i = self._head
        if self._count == n:
            self._head = i + 1 if i + 1 < n else 0
            self.dropped += 1
        else:
            i += self._count
            if i >= n:
                i -= n
            self._count += 1
        self._topics[i] = topic
        self._payloads[i] = payload
        if self._event is not None:
            self._event.set()

    def get_nowait(self):
        """The oldest (topic, payload), or None when empty; SubscriptionClosed once closed."""
        if self._count:
            i = self._head
            item = (self._topics[i], self._payloads[i])
            self._topics[i] = self._payloads[i] = None  # don't keep a big payload alive
            self._head = i + 1 if i + 1 < self.maxlen else 0
            self._count -= 1
            return item
        if self.closed or self._ending:
            self.close()
            raise SubscriptionClosed(self.pattern)
        return None

    async def get(self):
        """Wait for the next (topic, payload); raises SubscriptionClosed once closed."""
        while True:
            item = self.get_nowait()
            if item is not None:
                return item
            # No polling: put() sets the event. asyncio.Event behaves the same on MicroPython
            # (set() wakes every waiter and stays set until clear()); clearing right before the
            # wait makes a set() from an item already taken harmless.
            ev = self._event
            if ev is None:
                ev = self._event = asyncio.Event()
            ev.clear()
            await ev.wait()

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.get()
        except SubscriptionClosed:
            raise StopAsyncIteration

    def end(self):
        """No more items will come: get() returns what is pending, then the subscription closes."""
        self._ending = True
        if self._count == 0:
            self.close()
        elif self._event is not None:
            self._event.set()

    def fed_by(self, task):
        """`task` fills this subscription (e.g. by reading a socket): close() cancels it."""
        self._task = task

    def close(self):
        """Stop delivery, discard pending items, wake a waiting get(). Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self.hub is not None:
            self.hub._remove(self)
        if self._count:
            for i in range(self.maxlen):
                self._topics[i] = self._payloads[i] = None
            self._count = 0
        if self._event is not None:
            self._event.set()
        task = self._task
        self._task = None
        if task is not None:
            try:
                current = asyncio.current_task()
            except RuntimeError:  # closed outside the event loop
                current = None
            if task is not current:
                task.cancel()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    async def _work(self, first):
        # The one task of a coroutine callback: awaits each call in turn, so a slow callback
        # costs one task and at most `maxlen` queued items, never a task per publish.
        try:
            await first
        except Exception as exc:
            self._report(exc)
        first = None
        cb = self.callback
        while True:
            try:
                topic, payload = await self.get()
            except SubscriptionClosed:
                return
            try:
                await cb(topic, payload)
            except Exception as exc:
                self._report(exc)

    def _report(self, exc):
        if self.hub is not None:
            self.hub.on_error(self, exc)
        else:
            print_exception(exc)


class Broker:
    """Where a hub's items go: the interface, and the default, which keeps them in this process.

        hub = Hub()                     # Hub(Broker()): one process
        hub = Hub(RedisBroker(url))     # many processes (host side, see tools/camdot_relay)

    The hub hands the broker every publish (`publish`) and tells it of each subscription made and
    closed (`subscribed`, `unsubscribed`: a broker for many processes follows the topics this one
    wants); the broker delivers to this process's subscriptions with `hub.deliver()`, whether the
    item was published here or came from elsewhere. A retained item (retain=True) is also kept,
    the last one per topic, and handed to every later subscription that matches, as MQTT's
    retained messages; publishing None retained forgets it.
    """
    hub = None
    retained = None  # topic -> payload, made on the first retained publish (none on most hubs)

    def attach(self, hub):
        """Called once by Hub(): the hub this broker delivers to."""
        self.hub = hub

    def publish(self, topic, payload, retain=False):
        """Deliver `payload` everywhere `topic` is wanted; return how many subscriptions here."""
        if retain:
            check_topic(topic)
            if payload is None:
                if self.retained:
                    self.retained.pop(topic, None)
            else:
                if self.retained is None:
                    self.retained = {}
                self.retained[topic] = payload
        return self.hub.deliver(topic, payload)

    def subscribed(self, sub):
        """A subscription was made: hand it the retained items it matches."""
        retained = self.retained
        if retained:
            for topic in list(retained):
                if _wants(sub, topic):
                    sub.put(topic, retained[topic])

    def unsubscribed(self, sub):
        """A subscription was closed."""


class Hub:
    """A topic broker for one event loop.

        sub = hub.subscribe('thing/+/event/#', maxlen=8)
        n = hub.publish('thing/cam/event/motion', {'level': 3})
    """
    #: Default FIFO length of a subscription made without `policy`/`maxlen`.
    default_maxlen = 8
    #: Topics whose matching subscribers are remembered (cleared on any (un)subscribe).
    cache_size = 32

    def __init__(self, broker=None):
        self.seq = 0  # number of deliveries: lets a callback tell one publish from the next
        self._subs = []
        self._cache = {}
        self.broker = broker = broker or Broker()
        broker.attach(self)

    def subscribe(self, pattern, policy=None, maxlen=None, callback=None):
        """Subscribe to a topic filter.

        policy='latest': keep only the newest item; otherwise a FIFO of `maxlen` (default 8) that
        drops the oldest. callback=fn: fn(topic, payload) is called inside publish(); if fn is a
        coroutine function, one task per subscription awaits the calls in order and items wait in
        the bounded mailbox meanwhile (drops counted in `dropped`).
        """
        levels = split_filter(pattern)
        sub = Subscription(pattern, policy, maxlen, callback, self, self.default_maxlen)
        sub._levels = levels
        self._subs.append(sub)
        self._cache.clear()
        self.broker.subscribed(sub)
        return sub

    def unsubscribe(self, sub):
        """Same as sub.close()."""
        sub.close()

    def _remove(self, sub):
        try:
            self._subs.remove(sub)
        except ValueError:
            return
        self._cache.clear()
        self.broker.unsubscribed(sub)

    def subscriptions(self):
        """A list of the live subscriptions."""
        return list(self._subs)

    def _lookup(self, topic):
        try:
            subs = self._cache.get(topic)
        except TypeError:  # unhashable: not a topic, check_topic() says so
            subs = None
        if subs is None:
            check_topic(topic)
            names = None
            found = []
            for sub in self._subs:
                levels = sub._levels
                if levels is None:
                    if sub.pattern == topic:
                        found.append(sub)
                else:
                    if names is None:
                        names = topic.split('/')
                    if _match(levels, names):
                        found.append(sub)
            subs = tuple(found)
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            self._cache[topic] = subs
        return subs

    def publish(self, topic, payload, retain=False):
        """Publish through the broker: every matching subscription gets `payload` (in every
        process the broker reaches); returns how many here. Never blocks. retain=True: later
        subscriptions get it too (the last retained item per topic; None forgets it)."""
        return self.broker.publish(topic, payload, retain)

    def deliver(self, topic, payload):
        """Deliver payload to this process's matching subscriptions; return how many (what a
        broker calls)."""
        subs = self._lookup(topic)
        self.seq += 1
        for sub in subs:
            sub.put(topic, payload)
        return len(subs)

    def has_subscribers(self, topic):
        """True if publishing on `topic` would reach someone in this process."""
        return len(self._lookup(topic)) > 0

    def close(self):
        """Close every subscription."""
        for sub in list(self._subs):
            sub.close()

    def on_error(self, sub, exc):
        """Called with an exception raised by a callback; prints it. Replace to log elsewhere."""
        print_exception(exc)
