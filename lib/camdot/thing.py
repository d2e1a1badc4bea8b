"""A small W3C Web Thing: properties, actions and events, validated and published on a hub.

    from camdot.thing import Thing, ThingError
    lamp = Thing('lamp', 'urn:dev:lamp', 'Lamp', hub=hub)
    lamp.property('level', {'type': 'integer', 'minimum': 0, 'maximum': 100}, 50, write=apply)
    lamp.action('fade', fade, input={'type': 'integer'}, output={'type': 'boolean'})
    lamp.event('overheated', {'type': 'number'})
    lamp.write('level', 75)   # checked, applied, published on 'thing/lamp/property/level'
    lamp.emit('overheated', 81.5)   # published on 'thing/lamp/event/overheated'

Affordances are kept as the plain dicts the Thing Description shows (no class per property);
`td_chunks()` streams the TD one affordance at a time so the board never holds all of it.
Every write path (HTTP, WebSocket, /control, settings file) goes through `write()`.
"""
import json

from microdot import iscoroutine  # type: ignore[attr-defined]  # (not in microdot's .pyi)

OP_TYPE = 'https://w3c.github.io/web-thing-protocol/errors#'
# TD 1.1's context after TD 1.0's (the form TD 1.1 section 5.3.1.1 allows): consumers built for
# TD 1.0, such as node-wot 0.9 (Eclipse Thingweb), validate the first entry against 1.0's URI.
TD_CONTEXT = ['https://www.w3.org/2019/wot/td/v1', 'https://www.w3.org/2022/wot/td/v1.1']


class ThingError(Exception):
    """A failed interaction: `status` is the HTTP status (400/403/404/500/503), `detail` the why."""

    def __init__(self, status, detail=''):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def title_of(status):
    return {400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found',
            503: 'Service Unavailable'}.get(status, 'Internal Server Error')


def problem(status, detail=''):
    """A problem-details object (RFC 9457 shape, WTP error type) for `status`."""
    return {'type': OP_TYPE + str(status), 'title': title_of(status), 'status': status,
            'detail': detail}


def _finite(value):
    # NaN and +-inf have no JSON form; x - x is 0 only for finite numbers.
    return value - value == 0


def _type_ok(kind, value):
    # bool first: on CPython bool is an int subclass, on MicroPython it is not; be strict on both.
    if isinstance(value, bool):
        return kind == 'boolean'
    if kind == 'integer':
        return isinstance(value, int) or (isinstance(value, float) and _finite(value)
                                          and value == int(value))
    if kind == 'number':
        return isinstance(value, int) or (isinstance(value, float) and _finite(value))
    if kind == 'string':
        return isinstance(value, str)
    if kind == 'object':
        return isinstance(value, dict)
    if kind == 'array':
        return isinstance(value, list)
    if kind == 'null':
        return value is None
    return False


def _json_name(value):
    if isinstance(value, bool):
        return 'boolean'
    if value is None:
        return 'null'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, dict):
        return 'object'
    return 'array' if isinstance(value, list) else type(value).__name__


def check(schema, value, where='value'):
    """Return `value` if it fits the data schema `schema` (integral floats become ints for
    'integer'), else raise ThingError(400). Covers type, enum, minimum/maximum (and exclusive),
    string lengths, object properties/required, array items/lengths and oneOf."""
    alts = schema.get('oneOf')
    if alts is not None:
        for alt in alts:
            try:
                return check(alt, value, where)
            except ThingError:
                pass
        raise ThingError(400, '%s fits none of its allowed schemas' % where)
    kind = schema.get('type')
    if kind is not None:
        if not _type_ok(kind, value):
            raise ThingError(400, '%s must be %s, not %s' % (where, _article(kind),
                                                              _json_name(value)))
        if kind == 'integer' and isinstance(value, float):
            value = int(value)
    enum = schema.get('enum')
    if enum is not None and not any(_same(value, e) for e in enum):
        raise ThingError(400, '%s must be one of %s' % (where, json.dumps(enum)))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not _finite(value):
            raise ThingError(400, '%s must be a finite number' % where)
        lo = schema.get('minimum')
        hi = schema.get('maximum')
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ThingError(400, '%s %s out of range %s..%s' % (where, value, _s(lo), _s(hi)))
        lo = schema.get('exclusiveMinimum')
        hi = schema.get('exclusiveMaximum')
        if (lo is not None and value <= lo) or (hi is not None and value >= hi):
            raise ThingError(400, '%s %s out of range' % (where, value))
    elif isinstance(value, str):
        n = len(value)
        if n < schema.get('minLength', 0) or n > schema.get('maxLength', n):
            raise ThingError(400, '%s has a bad length (%d)' % (where, n))
    elif isinstance(value, dict):
        props = schema.get('properties')
        for key in schema.get('required', ()):
            if key not in value:
                raise ThingError(400, '%s lacks %r' % (where, key))
        if props:
            for key in value:
                sub = props.get(key)
                if sub is not None:
                    value[key] = check(sub, value[key], where + '.' + key)
                elif schema.get('additionalProperties') is False:
                    raise ThingError(400, '%s has no member %r' % (where, key))
    elif isinstance(value, list):
        n = len(value)
        if n < schema.get('minItems', 0) or n > schema.get('maxItems', n):
            raise ThingError(400, '%s has a bad length (%d)' % (where, n))
        items = schema.get('items')
        if isinstance(items, dict):
            for i in range(n):
                value[i] = check(items, value[i], '%s[%d]' % (where, i))
    return value


def _same(a, b):
    # `1 == True` in Python; JSON keeps them apart.
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _s(x):
    return '' if x is None else str(x)


def _article(kind):
    return ('an ' if kind[0] in 'aeiou' else 'a ') + kind


def _app_error(exc, name, failed='%s failed: %s'):
    """The ThingError for an exception raised by app code (a writer or an action handler):
    its own ThingError, 400 for a ValueError (a value the device refuses), else 500."""
    if isinstance(exc, ThingError):
        return exc
    if isinstance(exc, ValueError):
        return ThingError(400, '%s: %s' % (name, exc))
    return ThingError(500, failed % (name, exc))


class Thing:
    """One Web Thing. `name` keys its hub topics ('thing/<name>/...'), `id` is the TD's URI.

    `changed(name, value)` (optional) is called after a property value changed, e.g. to save it.
    """

    def __init__(self, name, id, title, hub=None, description=None, changed=None):
        self.name = name
        self.id = id
        self.title = title
        self.description = description
        self.hub = hub
        self.changed = changed
        #: (name, TD security scheme) the TD announces; set it to match how the app checks access
        self.security = ('nosec_sc', {'scheme': 'nosec'})
        self.properties = {}   # name -> data schema dict (as in the TD, forms added on output)
        self.actions = {}      # name -> (handler, affordance dict)
        self.events = {}       # name -> affordance dict
        self.order = []        # property names in declaration order (MicroPython dicts are unordered)
        self.values = {}
        self._readers = {}     # name -> fn(name) for values computed on read
        self._writers = {}     # name -> fn(name, value) applying a value (ValueError: refused)
        self._topic = 'thing/' + name + '/'
        self.topics = self._topic + '#'   # the hub filter for all its changes and events

    # ---- declarations ----
    def property(self, name, schema, value=None, read=None, write=None):
        """Declare a property. `schema` is a TD data schema plus optional readOnly, observable,
        unit, title, description. `read(name)` computes the value; `write(name, value)` applies it
        (one function can serve many properties: no closure per property)."""
        self.properties[name] = schema   # 'observable' defaults to True (not stored: RAM)
        self.order.append(name)
        self.values[name] = value
        if read is not None:
            self._readers[name] = read
        if write is not None:
            self._writers[name] = write

    def action(self, name, handler, input=None, output=None, **extra):
        """Declare an action; `handler(input)` (plain or async) returns its output."""
        aff = dict(extra)
        if input is not None:
            aff['input'] = input
        if output is not None:
            aff['output'] = output
        self.actions[name] = (handler, aff)

    def event(self, name, data=None, **extra):
        """Declare an event whose payload follows the data schema `data`."""
        aff = dict(extra)
        if data is not None:
            aff['data'] = data
        self.events[name] = aff

    # ---- interactions ----
    def schema(self, name):
        s = self.properties.get(name)
        if s is None:
            raise ThingError(404, 'no property %r' % (name,))
        return s

    def read(self, name):
        """The current value of a property (ThingError 404 if unknown)."""
        self.schema(name)
        reader = self._readers.get(name)
        if reader is not None:
            try:
                value = reader(name)
            except Exception as exc:
                raise ThingError(500, 'reading %s failed: %s' % (name, exc))
            self._store(name, value)
            return value
        return self.values[name]

    def read_all(self):
        """{name: value} of every property, in one dict."""
        out = {}
        for name in self.order:
            out[name] = self.read(name)
        return out

    def write(self, name, value, force=False):
        """Validate, apply and store a property value; publish it if it changed; return it.

        ThingError: 404 unknown, 403 read-only (unless `force`), 400 invalid or refused by the
        apply function (ValueError), 500 when applying fails otherwise.
        """
        schema = self.schema(name)
        if schema.get('readOnly') and not force:
            raise ThingError(403, '%s is read-only' % name)
        value = check(schema, value, name)
        writer = self._writers.get(name)
        if writer is not None:
            try:
                writer(name, value)
            except Exception as exc:
                raise _app_error(exc, name, 'applying %s failed: %s')
        self._store(name, value)
        return value

    def update(self, name, value):
        """Set a (read-only) value from the device side: stored and published, not applied."""
        self._store(name, check(self.schema(name), value, name))

    def _store(self, name, value):
        old = self.values.get(name)
        if _same(old, value) and name in self.values:
            return
        self.values[name] = value
        if self.hub is not None:
            self.hub.publish(self._topic + 'property/' + name, value)
        if self.changed is not None:
            self.changed(name, value)

    async def invoke(self, name, input=None):
        """Run an action and return its output. ThingError 404/400/500 as for write()."""
        entry = self.actions.get(name)
        if entry is None:
            raise ThingError(404, 'no action %r' % (name,))
        handler, aff = entry
        schema = aff.get('input')
        if schema is not None:
            if input is None and schema.get('type') == 'object' and not schema.get('required'):
                input = {}
            input = check(schema, input, 'input')
        try:
            out = handler(input)
            if out is not None and iscoroutine(out):
                out = await out
        except Exception as exc:
            raise _app_error(exc, name)
        return out

    def emit(self, name, data=None):
        """Publish an event on 'thing/<name>/event/<event>'."""
        aff = self.events.get(name)
        if aff is None:
            raise ThingError(404, 'no event %r' % (name,))
        if 'data' in aff:
            data = check(aff['data'], data, name)
        if self.hub is not None:
            self.hub.publish(self._topic + 'event/' + name, data)

    # ---- Thing Description ----
    def td_head(self, base, ws=None):
        """The TD's top level without its affordances (see td_chunks)."""
        sec_name, sec_scheme = self.security
        head = {'@context': TD_CONTEXT, '@type': 'Thing', 'id': self.id, 'title': self.title,
                'base': base, 'securityDefinitions': {sec_name: sec_scheme}, 'security': sec_name}
        if self.description:
            head['description'] = self.description
        # contentType is left out: application/json is the TD default.
        forms = [{'href': 'properties', 'op': ['readallproperties']}]
        if ws:
            forms.append({'href': ws, 'subprotocol': 'webthingprotocol',
                          'op': ['readallproperties', 'readmultipleproperties',
                                 'observeallproperties', 'unobserveallproperties',
                                 'subscribeallevents', 'unsubscribeallevents']})
        head['forms'] = forms
        return head

    def td_affordances(self, ws=None):
        """Yield (section, name, affordance dict with forms), one at a time."""
        for name in self.order:
            aff = dict(self.properties[name])
            ops = ['readproperty'] if aff.get('readOnly') else ['readproperty', 'writeproperty']
            aff['forms'] = f = [{'href': 'properties/' + name, 'op': ops}]
            aff['observable'] = obs = aff.get('observable', True)
            if ws:
                ops = list(ops)
                if obs:
                    ops += ['observeproperty', 'unobserveproperty']
                f.append({'href': ws, 'subprotocol': 'webthingprotocol', 'op': ops})
            yield 'properties', name, aff
        for name in self.actions:
            aff = dict(self.actions[name][1])
            aff['forms'] = f = [{'href': 'actions/' + name, 'op': 'invokeaction'}]
            if ws:
                f.append({'href': ws, 'subprotocol': 'webthingprotocol', 'op': 'invokeaction'})
            yield 'actions', name, aff
        # Events are only delivered over the Web Thing Protocol: without a socket, none are listed.
        for name in (self.events if ws else ()):
            aff = dict(self.events[name])
            aff['forms'] = [{'href': ws, 'subprotocol': 'webthingprotocol',
                             'op': ['subscribeevent', 'unsubscribeevent']}]
            yield 'events', name, aff

    def td_chunks(self, base, ws=None):
        """Yield the TD as JSON text pieces, one per affordance, so the board never holds all of
        it. `base` is 'http://host/' (HTTP forms are relative to it); `ws` the absolute WebSocket
        URL for the Web Thing Protocol forms, or None."""
        dumps = json.dumps
        yield dumps(self.td_head(base, ws))[:-1]
        current = None
        sep = ''
        sections = ['properties', 'actions', 'events']
        for section, name, aff in self.td_affordances(ws):
            while current != section:   # open the next section (empty ones included)
                yield ('}, "' if current else ', "') + sections[0] + '": {'
                current = sections.pop(0)
                sep = ''
            yield sep + dumps(name) + ': ' + dumps(aff)
            sep = ', '
        while sections:
            yield ('}, "' if current else ', "') + sections[0] + '": {'
            current = sections.pop(0)
        yield '}}'

    def description_of(self, base, ws=None):
        """The whole TD as a dict, built from the same parts (tests and tools)."""
        td = self.td_head(base, ws)
        td['properties'] = {}
        td['actions'] = {}
        td['events'] = {}
        for section, name, aff in self.td_affordances(ws):
            td[section][name] = aff
        return td
