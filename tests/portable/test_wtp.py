"""Web Thing Protocol round trips: the sans-IO Consumer, and serve() over a fake socket + real hub."""
import asyncio
import json

from camdot import wtp
from camdot.hub import Hub, Subscription
from camdot.thing import Thing
from harness import until

ERR = 'https://w3c.github.io/web-thing-protocol/errors#'


def make_thing(hub=None):
    t = Thing('cam', 'urn:test:cam', 'Cam', hub)
    t.property('framesize', {'type': 'string', 'enum': ['QQVGA', 'QVGA', 'VGA']}, 'QVGA')
    t.property('brightness', {'type': 'integer', 'minimum': -2, 'maximum': 2}, 0)
    t.property('fps', {'type': 'number', 'readOnly': True}, 0)
    t.property('secret', {'type': 'integer', 'observable': False}, 1)
    t.action('capture', lambda inp: {'href': '/capture'}, output={'type': 'object'})
    t.action('scale', lambda inp: inp * 2, input={'type': 'integer'}, output={'type': 'integer'})
    t.event('viewer_joined', {'type': 'object'})
    return t


def req(op, name=None, corr='c-1', **extra):
    msg = {'thingID': 'urn:test:cam', 'messageID': wtp.uuid4(), 'messageType': 'request',
           'operation': op, 'correlationID': corr}
    if name is not None:
        msg['name'] = name
    msg.update(extra)
    return json.dumps(msg)


def is_timestamp(s):
    # 2026-11-21T20:08:00.123Z
    return (len(s) == 24 and s[4] == '-' and s[10] == 'T' and s[19] == '.' and s[-1] == 'Z'
            and s[:4].isdigit() and s[20:23].isdigit())


def test_uuid4_and_timestamp_formats():
    u = wtp.uuid4()
    parts = u.split('-')
    assert [len(p) for p in parts] == [8, 4, 4, 4, 12]
    assert parts[2][0] == '4' and parts[3][0] in '89ab'
    assert u != wtp.uuid4()
    assert is_timestamp(wtp.timestamp()), wtp.timestamp()


async def test_read_and_write_property_round_trip():
    s = wtp.Consumer(make_thing())
    r = await s.handle(req('readproperty', 'framesize'))
    assert r['messageType'] == 'response' and r['operation'] == 'readproperty'
    assert r['thingID'] == 'urn:test:cam' and r['name'] == 'framesize' and r['value'] == 'QVGA'
    assert r['correlationID'] == 'c-1' and is_timestamp(r['timestamp'])
    assert len(r['messageID']) == 36
    r = await s.handle(req('writeproperty', 'framesize', value='VGA', corr='c-2'))
    assert 'error' not in r and r['value'] == 'VGA' and r['correlationID'] == 'c-2'
    r = await s.handle(req('readproperty', 'framesize'))
    assert r['value'] == 'VGA'
    r = await s.handle(req('readallproperties'))
    assert r['values'] == {'framesize': 'VGA', 'brightness': 0, 'fps': 0, 'secret': 1}
    r = await s.handle(req('readmultipleproperties', names=['fps', 'brightness']))
    assert r['values'] == {'fps': 0, 'brightness': 0}


async def test_errors_are_responses_and_the_conversation_goes_on():
    s = wtp.Consumer(make_thing())
    cases = (
        (req('writeproperty', 'brightness', value=9), 400),
        (req('writeproperty', 'brightness', value=True), 400),
        (req('writeproperty', 'brightness'), 400),                 # no value
        (req('writeproperty', 'fps', value=3), 403),
        (req('readproperty', 'nope'), 404),
        (req('readproperty'), 400),                                 # no name
        (req('invokeaction', 'nope'), 404),
        (req('invokeaction', 'scale', input='x'), 400),
        (req('subscribeevent', 'nope'), 404),
        (req('observeproperty', 'secret'), 403),
        (req('frobnicate'), 400),                                   # unknown operation
        (req('readmultipleproperties', names=['fps', 'nope']), 400),
        ('{"messageType": "request", "operation": ', 400),         # malformed JSON
        ('[1, 2]', 400),                                            # not an object
        (json.dumps({'messageType': 'response', 'operation': 'readproperty'}), 400),
        (req('readproperty', 'fps').replace('urn:test:cam', 'urn:other'), 404),
    )
    for text, status in cases:
        r = await s.handle(text)
        assert r['messageType'] == 'response', text
        err = r['error']
        assert err['status'] == status, (text, err)
        assert err['type'] == ERR + str(status) and err['title'] and err['detail'], err
    r = await s.handle(req('readproperty', 'brightness'))
    assert r['value'] == 0 and 'error' not in r


async def test_actions_answer_with_output():
    s = wtp.Consumer(make_thing())
    r = await s.handle(req('invokeaction', 'capture'))
    assert r['output'] == {'href': '/capture'} and r['name'] == 'capture'
    r = await s.handle(req('invokeaction', 'scale', input=21))
    assert r['output'] == 42


async def test_observations_filter_notifications_and_keep_correlation():
    t = make_thing()
    s = wtp.Consumer(t)
    topic = 'thing/cam/property/framesize'
    assert s.notification(topic, 'VGA') is None                 # nothing observed yet
    r = await s.handle(req('observeproperty', 'framesize', corr='obs-1'))
    assert 'error' not in r and s.active
    n = s.notification(topic, 'VGA')
    assert n['messageType'] == 'notification' and n['operation'] == 'observeproperty'
    assert n['name'] == 'framesize' and n['value'] == 'VGA' and n['correlationID'] == 'obs-1'
    assert s.notification('thing/cam/property/brightness', 1) is None
    await s.handle(req('observeproperty', 'framesize', corr='obs-2'))   # last one wins
    assert s.notification(topic, 'QQVGA')['correlationID'] == 'obs-2'
    await s.handle(req('unobserveproperty', 'framesize'))
    assert s.notification(topic, 'VGA') is None and not s.active
    await s.handle(req('observeallproperties', corr='all'))
    n = s.notification('thing/cam/property/brightness', 2)
    assert n['operation'] == 'observeallproperties' and n['correlationID'] == 'all'
    assert s.notification('thing/cam/property/secret', 2) is None    # not observable
    await s.handle(req('unobserveallproperties'))
    assert not s.active


async def test_event_subscriptions():
    s = wtp.Consumer(make_thing())
    topic = 'thing/cam/event/viewer_joined'
    assert s.notification(topic, {'viewers': 1}) is None
    await s.handle(req('subscribeevent', 'viewer_joined', corr='ev'))
    n = s.notification(topic, {'viewers': 2})
    assert n['operation'] == 'subscribeevent' and n['data'] == {'viewers': 2}
    assert n['correlationID'] == 'ev' and n['messageType'] == 'notification'
    await s.handle(req('unsubscribeevent', 'viewer_joined'))
    assert s.notification(topic, {'viewers': 1}) is None
    await s.handle(req('subscribeallevents'))
    assert s.notification(topic, {'viewers': 3})['operation'] == 'subscribeallevents'


class FakeSocket:
    """What serve() needs of a WebSocket: receive() (None once closed) and send()."""

    def __init__(self):
        self.inbox = Subscription(maxlen=16)
        self.sent = []

    def push(self, text):
        self.inbox.put('in', text)

    def close(self):
        self.inbox.put('in', None)

    async def receive(self):
        return (await self.inbox.get())[1]

    async def send(self, text):
        self.sent.append(json.loads(text))


async def test_serve_notifies_observers_of_changes_from_any_path():
    hub = Hub()
    t = make_thing(hub)
    a, b = FakeSocket(), FakeSocket()
    ta = asyncio.create_task(wtp.serve(a, t, hub))
    tb = asyncio.create_task(wtp.serve(b, t, hub))
    a.push(req('observeproperty', 'framesize', corr='A'))
    await until(lambda: len(a.sent) == 1)
    assert len(hub.subscriptions()) == 1                # only the observing socket subscribes
    b.push(req('writeproperty', 'framesize', value='QQVGA'))    # change over the other socket
    await until(lambda: len(a.sent) == 2)
    n = a.sent[1]
    assert n['messageType'] == 'notification' and n['value'] == 'QQVGA'
    assert n['correlationID'] == 'A'
    t.write('framesize', 'VGA')                         # change from elsewhere (HTTP, /control)
    await until(lambda: len(a.sent) == 3)
    assert a.sent[2]['value'] == 'VGA'
    assert [m['messageType'] for m in b.sent] == ['response']    # b observes nothing
    a.push('not json')
    await until(lambda: len(a.sent) == 4)
    assert a.sent[3]['error']['status'] == 400
    a.close()
    b.close()
    await ta
    await tb
    assert hub.subscriptions() == []                    # observations end with the socket


async def test_unobserving_everything_drops_the_hub_subscription():
    hub = Hub()
    t = make_thing(hub)
    a = FakeSocket()
    task = asyncio.create_task(wtp.serve(a, t, hub))
    a.push(req('observeallproperties'))
    await until(lambda: len(a.sent) == 1)
    assert len(hub.subscriptions()) == 1
    a.push(req('unobserveallproperties'))
    await until(lambda: len(a.sent) == 2)
    assert hub.subscriptions() == []
    t.write('brightness', 1)
    await asyncio.sleep(0.02)
    assert len(a.sent) == 2
    a.close()
    await task
