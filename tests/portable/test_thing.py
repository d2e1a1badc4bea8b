"""The generic Thing layer: declarations, validation on every write, hub publishing, TD chunks."""
import json

from camdot.hub import Hub
from camdot.thing import Thing, ThingError, check, problem
from harness import raises


def lamp(hub=None, changed=None):
    applied = []

    def apply(name, value):
        if value == 13:
            raise ValueError('unlucky')
        if value == 66:
            raise OSError('bus error')
        applied.append((name, value))

    t = Thing('lamp', 'urn:test:lamp', 'Lamp', hub, changed=changed)
    t.property('level', {'type': 'integer', 'minimum': 0, 'maximum': 100, 'unit': '%'}, 50,
               write=apply)
    t.property('gain', {'type': 'number', 'minimum': -1.5, 'maximum': 1.5}, 0.0)
    t.property('on', {'type': 'boolean'}, False, write=apply)
    t.property('mode', {'type': 'string', 'enum': ['day', 'night']}, 'day')
    t.property('temp', {'type': 'number', 'readOnly': True}, 20.5, read=lambda n: 21.5)
    t.property('note', {'oneOf': [{'type': 'integer'}, {'type': 'null'}], 'readOnly': True}, None)
    t.applied = applied
    return t


def status(func, *args):
    return raises(ThingError, func, *args).status


def test_type_checks_keep_booleans_integers_and_numbers_apart():
    t = lamp()
    assert status(t.write, 'level', True) == 400       # bool is not an integer (CPython: subclass)
    assert status(t.write, 'on', 1) == 400             # nor is 1 a boolean
    assert status(t.write, 'level', 1.5) == 400
    assert status(t.write, 'level', '5') == 400
    assert status(t.write, 'gain', False) == 400
    assert status(t.write, 'mode', 3) == 400
    assert t.write('level', 7.0) == 7 and isinstance(t.values['level'], int)
    assert t.write('gain', 1) == 1
    assert t.write('gain', -1.25) == -1.25
    assert t.write('on', True) is True


def test_range_enum_and_nonfinite_values_are_refused():
    t = lamp()
    assert status(t.write, 'level', -1) == 400
    assert status(t.write, 'level', 101) == 400
    assert status(t.write, 'gain', 1.6) == 400
    assert status(t.write, 'gain', float('inf')) == 400
    assert status(t.write, 'mode', 'dusk') == 400
    assert t.write('level', 0) == 0 and t.write('level', 100) == 100
    assert t.write('mode', 'night') == 'night'
    err = raises(ThingError, t.write, 'level', 200)
    assert 'level' in err.detail and '0..100' in err.detail


def test_unknown_readonly_and_failing_writes():
    t = lamp()
    assert status(t.write, 'nope', 1) == 404
    assert status(t.read, 'nope') == 404
    assert status(t.write, 'temp', 3.0) == 403
    assert status(t.write, 'level', 13) == 400         # the apply function refused (ValueError)
    assert status(t.write, 'level', 66) == 500         # applying failed otherwise
    assert t.values['level'] == 50                     # a refused value is not stored
    t.update('note', 5)                                 # device-side update of a read-only value
    assert t.read('note') == 5
    assert status(t.update, 'note', 'x') == 400


def test_write_applies_and_reads_back():
    t = lamp()
    t.write('level', 75)
    assert t.applied == [('level', 75)]
    assert t.read('level') == 75
    assert t.read('temp') == 21.5                       # computed on read
    values = t.read_all()
    assert values['level'] == 75 and values['mode'] == 'day' and values['note'] is None
    assert sorted(values) == sorted(t.order)


def test_changes_are_published_once_and_reported():
    hub = Hub()
    seen = []
    t = lamp(hub, changed=lambda n, v: seen.append((n, v)))
    sub = hub.subscribe('thing/lamp/#', maxlen=8)
    t.write('level', 10)
    t.write('level', 10)                                # no change: no publish
    t.write('on', True)
    t.update('note', 1)
    items = []
    while True:
        item = sub.get_nowait()
        if item is None:
            break
        items.append(item)
    assert items == [('thing/lamp/property/level', 10), ('thing/lamp/property/on', True),
                     ('thing/lamp/property/note', 1)]
    assert seen == [('level', 10), ('on', True), ('note', 1)]


async def test_actions_validate_input_and_await_handlers():
    t = lamp()

    async def fade(inp):
        return {'done': inp['to']}

    t.action('fade', fade, input={'type': 'object', 'properties': {'to': {'type': 'integer'}},
                                  'required': ['to']}, output={'type': 'object'})
    t.action('ping', lambda inp: 'pong')
    t.action('boom', lambda inp: 1 // 0)
    assert await t.invoke('fade', {'to': 3}) == {'done': 3}
    assert await t.invoke('ping') == 'pong'
    for name, inp, code in (('fade', {'to': 'x'}, 400), ('fade', {}, 400), ('fade', 5, 400),
                            ('nope', None, 404), ('boom', None, 500)):
        try:
            await t.invoke(name, inp)
        except ThingError as exc:
            assert exc.status == code, (name, exc.status)
        else:
            raise AssertionError('%s did not fail' % name)


def test_events_are_checked_and_published():
    hub = Hub()
    t = lamp(hub)
    t.event('overheated', {'type': 'object', 'properties': {'temp': {'type': 'number'}}})
    sub = hub.subscribe('thing/lamp/event/+', maxlen=4)
    t.emit('overheated', {'temp': 81.5})
    assert sub.get_nowait() == ('thing/lamp/event/overheated', {'temp': 81.5})
    assert status(t.emit, 'overheated', {'temp': 'hot'}) == 400
    assert status(t.emit, 'nope') == 404


def test_check_covers_arrays_objects_and_oneof():
    s = {'type': 'array', 'items': {'type': 'integer', 'minimum': 0}, 'maxItems': 2}
    assert check(s, [1, 2.0]) == [1, 2]
    assert raises(ThingError, check, s, [1, -1]).status == 400
    assert raises(ThingError, check, s, [1, 2, 3]).status == 400
    o = {'type': 'object', 'properties': {'a': {'type': 'string', 'maxLength': 2}},
         'additionalProperties': False}
    assert check(o, {'a': 'xy'}) == {'a': 'xy'}
    assert raises(ThingError, check, o, {'a': 'xyz'}).status == 400
    assert raises(ThingError, check, o, {'b': 1}).status == 400
    n = {'oneOf': [{'type': 'integer'}, {'type': 'null'}]}
    assert check(n, None) is None and check(n, 3) == 3
    assert raises(ThingError, check, n, 'x').status == 400
    assert check({'enum': [1, 2]}, 1) == 1
    assert raises(ThingError, check, {'enum': [1, 2]}, True).status == 400


def test_problem_details_shape():
    p = problem(404, 'no property x')
    assert p['type'] == 'https://w3c.github.io/web-thing-protocol/errors#404'
    assert p['title'] == 'Not Found' and p['status'] == 404 and p['detail'] == 'no property x'


def test_td_is_streamed_in_pieces_and_parses():
    t = lamp()
    t.action('ping', lambda inp: 'pong', output={'type': 'string'})
    t.event('overheated', {'type': 'number'})
    chunks = list(t.td_chunks('http://cam.local/', 'ws://cam.local/ws'))
    assert len(chunks) > len(t.order)                   # one piece per affordance at least
    td = json.loads(''.join(chunks))
    assert td['@context'] == ['https://www.w3.org/2019/wot/td/v1', 'https://www.w3.org/2022/wot/td/v1.1']
    assert td['id'] == 'urn:test:lamp' and td['base'] == 'http://cam.local/'
    assert [n for n in t.order if n not in td['properties']] == []
    level = td['properties']['level']
    assert level['type'] == 'integer' and level['maximum'] == 100 and level['observable'] is True
    http, ws = level['forms']
    assert http['href'] == 'properties/level' and http['op'] == ['readproperty', 'writeproperty']
    assert ws['href'] == 'ws://cam.local/ws' and ws['subprotocol'] == 'webthingprotocol'
    assert 'observeproperty' in ws['op']
    assert td['properties']['temp']['forms'][0]['op'] == ['readproperty']
    assert td['actions']['ping']['forms'][0] == {'href': 'actions/ping', 'op': 'invokeaction'}
    assert td['events']['overheated']['forms'][0]['subprotocol'] == 'webthingprotocol'
    # without a socket there is nothing to deliver events on: none are offered
    assert t.description_of('http://cam.local/')['events'] == {}


def test_td_chunks_and_description_agree_also_with_empty_sections():
    t = Thing('bare', 'urn:test:bare', 'Bare')
    assert json.loads(''.join(t.td_chunks('http://x/'))) == t.description_of('http://x/')
    t.action('go', lambda inp: None)
    td = json.loads(''.join(t.td_chunks('http://x/', 'ws://x/ws')))
    assert td == t.description_of('http://x/', 'ws://x/ws')
    assert td['properties'] == {} and td['events'] == {} and list(td['actions']) == ['go']
    t = lamp()
    t.event('e', {'type': 'number'})
    td = json.loads(''.join(t.td_chunks('http://x/', 'ws://x/ws')))
    assert td == t.description_of('http://x/', 'ws://x/ws')
