"""MQTT topic filters in camdot.hub: the spec's examples, edge cases, invalid filters (portable)."""
from camdot.hub import Hub, TopicError, topic_matches, split_filter, check_topic
from harness import raises


def test_spec_multi_level_wildcard():
    # MQTT 3.1.1 section 4.7.1.2
    f = 'sport/tennis/player1/#'
    assert topic_matches(f, 'sport/tennis/player1')
    assert topic_matches(f, 'sport/tennis/player1/ranking')
    assert topic_matches(f, 'sport/tennis/player1/score/wimbledon')
    assert not topic_matches(f, 'sport/tennis/player2')
    assert not topic_matches(f, 'sport/tennis')
    assert topic_matches('sport/#', 'sport')  # '#' also matches the parent level
    assert topic_matches('sport/#', 'sport/')
    assert not topic_matches('sport/#', 'sports')


def test_hash_alone_matches_everything_but_dollar_topics():
    for t in ('a', 'a/b/c', '/', '/finance', 'a//b'):
        assert topic_matches('#', t), t
    assert not topic_matches('#', '$SYS/mem')
    assert not topic_matches('#', '$SYS')


def test_spec_single_level_wildcard():
    # MQTT 3.1.1 section 4.7.1.3
    f = 'sport/tennis/+'
    assert topic_matches(f, 'sport/tennis/player1')
    assert topic_matches(f, 'sport/tennis/player2')
    assert not topic_matches(f, 'sport/tennis/player1/ranking')
    assert not topic_matches('sport/+', 'sport')
    assert topic_matches('sport/+', 'sport/')
    assert topic_matches('+', 'finance')
    assert not topic_matches('+', '/finance')
    assert topic_matches('+/+', '/finance')
    assert topic_matches('/+', '/finance')
    assert not topic_matches('/+', 'finance')
    assert topic_matches('+/tennis/#', 'sport/tennis/player1')
    assert topic_matches('+/+/+', 'a/b/c')
    assert not topic_matches('+/+/+', 'a/b')
    assert not topic_matches('+/+', 'a/b/c')


def test_empty_levels_are_levels():
    assert topic_matches('a//b', 'a//b')
    assert topic_matches('a/+/b', 'a//b')
    assert not topic_matches('a/+/b', 'a/b')
    raises(TopicError, topic_matches, '+', '')  # a topic has at least one character
    assert topic_matches('/', '/')
    assert topic_matches('+/+', '/')
    assert not topic_matches('+', '/')
    assert topic_matches('/#', '/') and topic_matches('/#', '/x')
    assert not topic_matches('/#', 'a')  # its parent is the (invalid) empty topic
    assert topic_matches('a/', 'a/')
    assert not topic_matches('a/', 'a')


def test_exact_filters_match_only_themselves():
    assert topic_matches('camera/frame', 'camera/frame')
    assert not topic_matches('camera/frame', 'camera/frame/x')
    assert not topic_matches('camera/frame', 'Camera/frame')  # case-sensitive


def test_dollar_topics():
    # MQTT 4.7.2: a filter starting with a wildcard does not match a topic starting with '$'
    assert not topic_matches('+/mem', '$SYS/mem')
    assert not topic_matches('+', '$SYS')
    assert topic_matches('$SYS/#', '$SYS/mem')
    assert topic_matches('$SYS/+', '$SYS/mem')
    assert topic_matches('$SYS/mem', '$SYS/mem')
    assert topic_matches('#', 'a/$SYS')  # only the first level counts
    assert topic_matches('a/+', 'a/$x')


def test_invalid_filters_raise_clear_errors():
    for bad in ('a/#/b', '#/a', 'a+/b', 'a/+b', '#a', 'a#', 'a/b#', '++', '##', '', 'x\x00y'):
        exc = raises(TopicError, split_filter, bad)
        assert str(exc), bad
    assert 'last' in str(raises(TopicError, split_filter, 'a/#/b'))
    assert 'whole level' in str(raises(TopicError, split_filter, 'a+/b'))
    assert raises(TopicError, split_filter, None)
    assert raises(TopicError, split_filter, b'a/b')
    # TopicError is a ValueError, so generic handlers catch it too
    assert isinstance(raises(TopicError, split_filter, 'a/#/b'), ValueError)


def test_valid_filters_split_once():
    assert split_filter('a/b') is None  # no wildcard: compared as a string
    assert split_filter('#') == ['#']
    assert split_filter('+/+') == ['+', '+']
    assert split_filter('a/+/#') == ['a', '+', '#']
    assert split_filter('/+') == ['', '+']


def test_published_topics_must_not_have_wildcards():
    hub = Hub()
    for bad in ('a/+', 'a/#', '#', '+', 'a+b', '', None, 5, 'a\x00', ['a'], b'a'):
        raises(TopicError, hub.publish, bad, 1)
        raises(TopicError, hub.has_subscribers, bad)
        raises(TopicError, check_topic, bad)
    raises(TopicError, topic_matches, '#', 'a/+')


def test_subscribe_rejects_invalid_filters():
    hub = Hub()
    for bad in ('a/#/b', 'a+/b', '#a', ''):
        raises(TopicError, hub.subscribe, bad)
    assert hub.subscriptions() == []


def test_hub_routes_by_filter():
    hub = Hub()
    subs = {}
    for f in ('sport/tennis/player1/#', 'sport/#', '+/+', '/+', '+', '#', '$SYS/#', 'a/b'):
        subs[f] = hub.subscribe(f, maxlen=8)

    def got(f):
        out = []
        while True:
            item = subs[f].get_nowait()
            if item is None:
                return out
            out.append(item[0])

    for t in ('sport/tennis/player1', 'sport', '/finance', 'finance', '$SYS/mem', 'a/b'):
        hub.publish(t, t)
    assert got('sport/tennis/player1/#') == ['sport/tennis/player1']
    assert got('sport/#') == ['sport/tennis/player1', 'sport']
    assert got('+/+') == ['/finance', 'a/b']
    assert got('/+') == ['/finance']
    assert got('+') == ['sport', 'finance']
    assert got('#') == ['sport/tennis/player1', 'sport', '/finance', 'finance', 'a/b']
    assert got('$SYS/#') == ['$SYS/mem']
    assert got('a/b') == ['a/b']


def test_publish_counts_and_has_subscribers():
    hub = Hub()
    assert hub.publish('camera/frame', b'x') == 0
    assert not hub.has_subscribers('camera/frame')
    s1 = hub.subscribe('camera/frame', policy='latest')
    assert hub.has_subscribers('camera/frame')  # the cached 'no subscribers' was forgotten
    s2 = hub.subscribe('camera/#')
    assert hub.publish('camera/frame', b'x') == 2
    assert hub.publish('camera/status', 'ok') == 1
    s1.close()
    assert hub.publish('camera/frame', b'x') == 1
    hub.unsubscribe(s2)
    assert hub.publish('camera/frame', b'x') == 0
    assert not hub.has_subscribers('camera/frame')


def test_many_topics_keep_cache_bounded():
    hub = Hub()
    sub = hub.subscribe('t/+', maxlen=1)
    for i in range(200):
        assert hub.publish('t/%d' % i, i) == 1
    assert len(hub._cache) <= hub.cache_size
    assert sub.get_nowait() == ('t/199', 199)
    assert sub.dropped == 199
