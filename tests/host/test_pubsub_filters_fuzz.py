"""camdot.hub's topic routing against a reference matcher, on random filters, topics and
subscribe/unsubscribe/publish sequences (hypothesis; CPython only)."""
import re

from hypothesis import given, settings, strategies as st

from camdot.hub import Hub, TopicError, split_filter, topic_matches

LEVELS = st.sampled_from(['a', 'b', '', '$SYS', 'x$', 'sport'])
WILD = st.sampled_from(['a', 'b', '', '$SYS', '+', '#'])


def reference(pattern, topic):
    """MQTT 3.1.1 section 4.7 written as a regular expression, independently of camdot.hub."""
    if topic.startswith('$') and pattern[:1] in ('+', '#'):
        return False
    parts = []
    for level in pattern.split('/'):
        parts.append('[^/]*' if level == '+' else None if level == '#' else re.escape(level))
    if parts[-1] is None:  # '#': zero or more further levels, the parent included
        rx = '(?:%s(?:/.*)?)' % '/'.join(parts[:-1]) if len(parts) > 1 else '.*'
    else:
        rx = '/'.join(parts)
    return re.fullmatch(rx, topic) is not None


topics = st.lists(LEVELS, min_size=1, max_size=4).map('/'.join).filter(bool)
filters = st.lists(WILD, min_size=1, max_size=4).map('/'.join).filter(bool)


def valid_filter(f):
    try:
        split_filter(f)
        return True
    except TopicError:
        return False


@settings(max_examples=400, deadline=None)
@given(filters, topics)
def test_matching_agrees_with_the_reference(pattern, topic):
    if not valid_filter(pattern):
        assert '#' in pattern[:-1]  # the only invalid shape this alphabet can make
        return
    assert topic_matches(pattern, topic) == reference(pattern, topic), (pattern, topic)


ops = st.lists(st.one_of(
    st.tuples(st.just('sub'), filters.filter(valid_filter)),
    st.tuples(st.just('unsub'), st.integers(0, 20)),
    st.tuples(st.just('pub'), topics),
), max_size=40)


@settings(max_examples=200, deadline=None)
@given(ops)
def test_routing_with_the_cache_stays_right_through_subscribe_and_unsubscribe(steps):
    hub = Hub()
    live = []
    for op, arg in steps:
        if op == 'sub':
            live.append(hub.subscribe(arg, maxlen=64))
        elif op == 'unsub' and live:
            live.pop(arg % len(live)).close()
        elif op == 'pub':
            before = [s.pending for s in live]
            n = hub.publish(arg, arg)
            got = [s for s, b in zip(live, before) if s.pending == b + 1]
            want = [s for s in live if reference(s.pattern, arg)]
            assert got == want and n == len(want), (arg, [s.pattern for s in live])
            assert hub.has_subscribers(arg) == bool(want)
    assert sorted(map(id, hub.subscriptions())) == sorted(map(id, live))
