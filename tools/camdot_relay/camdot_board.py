"""A camdot board as the ingest holds it: two WebSockets, the only connections the board sees.

    session = CamdotSession(link, td)
    await session.run()           # until a socket ends or the board stalls (raises why)
    await session.write('quality', 10)       # through the board's Web Thing Protocol socket

/ws/stream brings the frames (each binary message one JPEG with its camdot comment: published as
it came, no copy), so the board counts one viewer however many watch the relay. /ws speaks the
Web Thing Protocol: the ingest observes every property and subscribes to every event, keeps the
values (published retained as the shadow edges read from) and passes on each change; writes and
actions from edges go through the same socket, answered by correlationID.
"""
import asyncio
import json

from camdot.websocket import connect
from camdot.wtp import uuid4

from camdot_relay import topics
from camdot_relay.link import BoardError, RequestError

# The largest frame the ingest takes from a board (UXGA JPEGs stay well under it).
MAX_MESSAGE = 4 * 1024 * 1024

REQUEST_TIMEOUT = 5.0
MAX_PENDING = 64      # requests waiting for the board's answer


class CamdotSession:
    kind = 'camdot'

    def __init__(self, link, td):
        self.link = link
        self.board = link.board
        self.td = td
        self.values = {}
        self.stream = None
        self.things = None
        self.pending = {}   # correlationID -> future
        self._last_frame = 0.0
        self._send_lock = asyncio.Lock()

    async def run(self):
        board = self.board
        name = board.name
        hub = self.link.hub
        headers = board.headers()
        try:
            self.stream = await connect(board.ws_url('/ws/stream'), headers=headers,
                                        max_message_length=MAX_MESSAGE, timeout=REQUEST_TIMEOUT)
            self.things = await connect(board.ws_url('/ws'), protocols=['webthingprotocol'],
                                        headers=headers, timeout=REQUEST_TIMEOUT)
        except asyncio.TimeoutError:
            raise OSError('the board did not open its WebSockets in %g s' % REQUEST_TIMEOUT)
        hub.publish(topics.td(name), self.td, retain=True)
        for op in ('readallproperties', 'observeallproperties', 'subscribeallevents'):
            await self._send({'messageType': 'request', 'operation': op, 'messageID': uuid4(),
                              'correlationID': op})
        loop = asyncio.get_running_loop()
        self._last_frame = loop.time()
        tasks = [asyncio.create_task(c) for c in (self._frames(), self._messages(),
                                                  self._watch())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                t.result()  # raises why it ended
            raise OSError('the board closed a WebSocket')
        finally:
            for t in tasks:
                t.cancel()

    async def close(self):
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(OSError('the connection to the board ended'))
        self.pending.clear()
        for ws in (self.stream, self.things):
            if ws is not None:
                try:
                    await asyncio.wait_for(ws.close(), 2)
                except Exception:
                    ws.abort()

    async def _frames(self):
        link = self.link
        loop = asyncio.get_running_loop()
        while True:
            msg = await self.stream.receive()
            if isinstance(msg, str):
                self._status(msg)
                continue
            if msg[:2] != b'\xff\xd8':
                raise BoardError('a /ws/stream message that is not a JPEG')
            self._last_frame = loop.time()
            link.frame(msg)
            link.online()

    def _status(self, text):
        try:
            doc = json.loads(text)
        except ValueError:
            raise BoardError('a /ws/stream text that is not JSON')
        if isinstance(doc, dict) and doc.get('type') == 'status':
            # the board's camera failed or recovered: the connection itself is fine
            if doc.get('state') == 'error':
                self.link.set_state('error', 'camera: %s' % doc.get('message', ''))
            else:
                self.link.online()

    async def _watch(self):
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(1)
            idle = loop.time() - self._last_frame
            if idle > self.link.stall:
                raise OSError('no frame for %d s' % idle)

    async def _send(self, msg):
        async with self._send_lock:
            await self.things.send(json.dumps(msg))

    async def _messages(self):
        hub = self.link.hub
        name = self.board.name
        while True:
            text = await self.things.receive()
            try:
                msg = json.loads(text if isinstance(text, str) else bytes(text).decode())
            except ValueError:
                raise BoardError('a Web Thing Protocol message that is not JSON')
            if not isinstance(msg, dict):
                continue
            kind = msg.get('messageType')
            corr = msg.get('correlationID')
            if kind == 'response':
                if corr == 'readallproperties' and isinstance(msg.get('values'), dict):
                    self.values = msg['values']
                    hub.publish(topics.properties(name), dict(self.values), retain=True)
                fut = self.pending.pop(corr, None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
            elif kind == 'notification':
                prop = msg.get('name')
                if not isinstance(prop, str):
                    continue
                if msg.get('operation') in ('observeproperty', 'observeallproperties'):
                    self._changed(prop, msg.get('value'))
                elif msg.get('operation') in ('subscribeevent', 'subscribeallevents'):
                    try:
                        hub.publish(topics.event(name, prop), msg.get('data'))
                    except ValueError:
                        pass

    def _changed(self, prop, value):
        if prop in self.values and self.values[prop] == value:
            return
        self.values[prop] = value
        hub = self.link.hub
        name = self.board.name
        try:
            hub.publish(topics.property_changed(name, prop), value)
        except ValueError:
            return  # a name that is not a topic level
        hub.publish(topics.properties(name), dict(self.values), retain=True)

    async def _request(self, op, name, **members):
        if len(self.pending) >= MAX_PENDING:
            raise RequestError(503, 'too many requests waiting for the board')
        corr = uuid4()
        fut = asyncio.get_running_loop().create_future()
        self.pending[corr] = fut
        msg = {'thingID': self.td.get('id'), 'messageID': uuid4(), 'messageType': 'request',
               'operation': op, 'name': name, 'correlationID': corr}
        msg.update(members)
        try:
            await self._send(msg)
            reply = await asyncio.wait_for(fut, REQUEST_TIMEOUT)
        except asyncio.TimeoutError:
            raise RequestError(504, 'the board did not answer in %g s' % REQUEST_TIMEOUT)
        finally:
            self.pending.pop(corr, None)
        err = reply.get('error')
        if isinstance(err, dict):
            raise RequestError(err.get('status') or _status_of(err.get('type')),
                               err.get('detail') or err.get('title') or 'refused')
        return reply

    async def write(self, name, value):
        reply = await self._request('writeproperty', name, value=value)
        value = reply.get('value', value)
        self._changed(name, value)  # the board notifies too; this is for the edge that asked
        return value

    async def invoke(self, name, input):
        members = {} if input is None else {'input': input}
        reply = await self._request('invokeaction', name, **members)
        return reply.get('output')


def _status_of(error_type):
    tail = str(error_type or '').rpartition('#')[2]
    return int(tail) if tail.isdigit() else 500
