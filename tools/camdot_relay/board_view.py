"""What an edge knows of one board: its state, Thing Description and property values, as the hub
brings them (all retained, so an edge that starts late knows them at once), and the board as a
Thing for the edge's Web Thing Protocol sessions and HTTP routes.

    view = BoardView(hub, 'porch', requester)
    view.state_doc()                 # {'state': 'online', ...}; 'stale' when nobody keeps it up
    view.read('quality')             # from the shadow: no round trip to the board
    await view.write('quality', 10)  # to the board, once, through whichever ingest holds it

Nothing here is state another edge needs: every edge builds the same view from the hub.
"""
import json
import time

from camdot.thing import ThingError, check

from camdot_relay import topics

STALE_S = 15.0   # a state older than this (three missed heartbeats) means no ingest keeps it


class BoardView:
    def __init__(self, hub, name, requester):
        self.hub = hub
        self.name = name
        self.id = 'urn:camdot-relay:' + name     # until the TD says
        self.requester = requester
        self.state = None
        self.td = None
        self.values = {}
        self.topics = topics.thing(name)          # what a WTP session observes
        self._subs = [
            hub.subscribe(topics.state(name), policy='latest', callback=self._on_state),
            hub.subscribe(topics.td(name), policy='latest', callback=self._on_td),
            hub.subscribe(topics.properties(name), policy='latest', callback=self._on_values),
            # changes as they happen: also makes a broker for many processes listen from the
            # start, so the first observer on this edge misses nothing
            hub.subscribe(self.topics, maxlen=16, callback=self._on_thing),
        ]

    def close(self):
        for sub in self._subs:
            sub.close()

    # ---- hub inputs ----

    def _on_state(self, topic, doc):
        if not isinstance(doc, dict):
            return
        old = self.state_doc()['state']
        self.state = doc
        new = self.state_doc()
        if new['state'] != old:
            self.tell_viewers(new)

    def status_text(self, doc=None):
        """The board's state as the device page's status message (JSON text)."""
        doc = doc or self.state_doc()
        online = doc['state'] == 'online'
        return json.dumps({'type': 'status', 'state': 'streaming' if online else 'error',
                           'message': '' if online else 'board %s: %s' % (
                               doc['state'], doc.get('detail') or ''),
                           'board_state': doc['state']})

    def tell_viewers(self, doc=None):
        """Send this edge's viewers of the board a status text (the page shows it): delivered
        on the frame topic in this process only, where the viewers' latest-wins mailboxes are."""
        self.hub.deliver(topics.frame(self.name), self.status_text(doc))

    def _on_td(self, topic, td):
        if isinstance(td, dict):
            self.td = td
            if isinstance(td.get('id'), str):
                self.id = td['id']

    def _on_thing(self, topic, value):
        rest, _, name = topic.rpartition('/')
        if rest.endswith('/property') and name in self.values:
            self.values[name] = value

    def _on_values(self, topic, values):
        if isinstance(values, dict):
            self.values = values

    # ---- state ----

    def state_doc(self):
        doc = self.state
        if doc is None:
            return {'state': 'unknown', 'detail': 'no ingest has reported this board yet'}
        t = doc.get('t')
        if isinstance(t, (int, float)) and time.time() - t / 1000 > STALE_S:
            return dict(doc, state='stale',
                        detail='no ingest has reported this board for %d s (was %s)' % (
                            time.time() - t / 1000, doc.get('state')))
        return doc

    # ---- the Thing, for wtp.Consumer and the HTTP routes ----

    @property
    def properties(self):
        return (self.td or {}).get('properties') or {}

    @property
    def actions(self):
        return (self.td or {}).get('actions') or {}

    @property
    def events(self):
        return (self.td or {}).get('events') or {}

    def schema(self, name):
        s = self.properties.get(name)
        if s is None:
            if self.td is None:
                raise ThingError(503, 'the board has not been seen yet')
            raise ThingError(404, 'no property %r' % (name,))
        return s

    def read(self, name):
        self.schema(name)
        if name not in self.values:
            raise ThingError(503, '%s has no value yet' % name)
        return self.values[name]

    def read_all(self):
        if self.td is None:
            raise ThingError(503, 'the board has not been seen yet')
        return dict(self.values)

    async def write(self, name, value):
        schema = self.schema(name)
        if schema.get('readOnly'):
            raise ThingError(403, '%s is read-only' % name)
        check(schema, value, name)   # a bad value costs no round trip
        reply = await self.requester.call(self.name, 'writeproperty', name, value=value)
        return reply.get('value', value)

    async def invoke(self, name, input=None):
        if name not in self.actions:
            raise ThingError(404, 'no action %r' % (name,))
        members = {} if input is None else {'input': input}
        reply = await self.requester.call(self.name, 'invokeaction', name, **members)
        return reply.get('output')
