"""The broker behind camdot.hub: the in-memory default, retained items, and the interface a broker
for many processes implements (a recording broker stands in for one here) (portable)."""
from camdot.hub import Broker, Hub, TopicError
from harness import pending as drain, raises


def test_default_broker_delivers_in_this_process():
    hub = Hub()
    assert isinstance(hub.broker, Broker) and hub.broker.hub is hub
    sub = hub.subscribe('a/+')
    payload = bytearray(b'jpeg')
    assert hub.publish('a/b', payload) == 1
    assert hub.publish('c', 1) == 0
    topic, got = sub.get_nowait()
    assert topic == 'a/b' and got is payload  # the very object
    assert hub.broker.retained is None  # nothing kept unless asked


def test_retained_item_goes_to_later_matching_subscriptions_only():
    hub = Hub()
    hub.publish('relay/cam1/state', {'state': 'online'}, retain=True)
    hub.publish('relay/cam1/state', {'state': 'reconnecting'}, retain=True)  # the last one wins
    hub.publish('relay/cam2/state', {'state': 'online'}, retain=True)
    hub.publish('relay/cam1/event', 'not kept')
    exact = hub.subscribe('relay/cam1/state')
    assert drain(exact) == [('relay/cam1/state', {'state': 'reconnecting'})]
    wild = hub.subscribe('relay/+/state')
    assert sorted(t for t, _ in drain(wild)) == ['relay/cam1/state', 'relay/cam2/state']
    assert drain(hub.subscribe('relay/cam1/event')) == []
    # a live subscription gets a retained publish once, like any other
    assert hub.publish('relay/cam2/state', {'state': 'error'}, retain=True) == 1
    assert drain(wild) == [('relay/cam2/state', {'state': 'error'})]


def test_retained_none_forgets_and_latest_subscription_keeps_one():
    hub = Hub()
    for i in range(3):
        hub.publish('f', i, retain=True)
    late = hub.subscribe('f', policy='latest')
    assert drain(late) == [('f', 2)] and late.dropped == 0
    hub.publish('f', None, retain=True)
    assert drain(late) == [('f', None)]  # delivered as usual
    assert drain(hub.subscribe('f')) == []  # and no longer kept
    assert hub.broker.retained == {}


def test_retained_publish_checks_the_topic():
    hub = Hub()
    raises(TopicError, hub.publish, 'a/+', 1, True)
    raises(TopicError, hub.publish, '', 1, True)
    assert not hub.broker.retained


def test_callback_subscription_gets_retained_items_when_made():
    hub = Hub()
    hub.publish('t', 'v', retain=True)
    seen = []
    hub.subscribe('#', callback=lambda topic, payload: seen.append((topic, payload)))
    assert seen == [('t', 'v')]


class Recording(Broker):
    """What a broker for many processes sees: publishes go out, items from elsewhere come in."""

    def __init__(self):
        self.sent = []
        self.events = []

    def publish(self, topic, payload, retain=False):
        self.sent.append((topic, payload, retain))
        return self.hub.deliver(topic, payload)  # local subscribers still get it at once

    def subscribed(self, sub):
        self.events.append(('+', sub.pattern))

    def unsubscribed(self, sub):
        self.events.append(('-', sub.pattern))


def test_a_broker_sees_publishes_and_subscriptions_and_delivers_remote_items():
    broker = Recording()
    hub = Hub(broker)
    assert broker.hub is hub
    sub = hub.subscribe('relay/#', maxlen=4)
    with hub.subscribe('x') as other:
        pass
    assert broker.events == [('+', 'relay/#'), ('+', 'x'), ('-', 'x')]
    assert other.closed
    sub.close()
    sub.close()  # idempotent: one 'unsubscribed'
    assert broker.events[-1] == ('-', 'relay/#') and len(broker.events) == 4
    sub = hub.subscribe('relay/#', maxlen=4)
    assert hub.publish('relay/a', b'1', retain=True) == 1
    assert broker.sent == [('relay/a', b'1', True)]
    # an item from another process: delivered here, not sent out again
    assert hub.deliver('relay/b', 'remote') == 1
    assert broker.sent == [('relay/a', b'1', True)]
    assert drain(sub) == [('relay/a', b'1'), ('relay/b', 'remote')]
    raises(TopicError, hub.deliver, 'relay/#', 1)


def test_has_subscribers_and_seq_count_local_deliveries():
    hub = Hub()
    hub.subscribe('a')
    seq = hub.seq
    hub.publish('a', 1)
    hub.deliver('a', 2)
    assert hub.seq == seq + 2
    assert hub.has_subscribers('a') and not hub.has_subscribers('b')
