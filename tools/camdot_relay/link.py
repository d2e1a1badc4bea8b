"""One board's connection as the ingest holds it: connect, stream, reconnect with backoff, say
how it stands, and carry the edges' requests to the board.

    link = BoardLink(hub, board)
    task = asyncio.create_task(link.run())     # until cancelled (the ingest lost the lease)

What kind of board it is comes from asking it: a camdot board serves its Thing Description at
/.well-known/wot, Espressif's CameraWebServer (and its copies) answer /status; `--stream` makes
it an MJPEG source at once. Then a session (camdot_relay.camdot_board or .cws_board) streams
until the connection ends or the board misbehaves. The state goes out retained on
relay/<board>/state: 'connecting', 'online', 'reconnecting' (the connection failed or ended) or
'error' (the board answered, wrongly: garbage instead of MJPEG, a TD that is not JSON, a refused
token), with the reason and the seconds until the next try: 1 s doubling to 60 s, back to 1 s
after a session that streamed for a while. It is republished every HEARTBEAT seconds, so an edge
can tell a state nobody keeps up any more (the ingest died) from a live one.
"""
import asyncio
import time

from camdot_relay import topics
from camdot_relay.http_client import HTTPError, request

BACKOFF_MIN = 1.0
BACKOFF_MAX = 60.0
HEALTHY_S = 30.0     # a session that streamed this long resets the backoff
HEARTBEAT = 5.0      # seconds between republished states
PROBE_TIMEOUT = 5.0
MAX_TD = 256 * 1024


class BoardError(Exception):
    """The board answered, but not as a board should: its state becomes 'error'."""


def epoch_ms():
    return time.time_ns() // 1000000


class BoardLink:
    """The ingest's side of one board (see the module docstring)."""
    backoff_min = BACKOFF_MIN
    backoff_max = BACKOFF_MAX
    healthy_s = HEALTHY_S

    def __init__(self, hub, board, stall=10.0):
        self.hub = hub
        self.board = board
        self.stall = stall    # seconds without a frame (or MJPEG bytes): the board is stuck
        self.session = None
        self.state = {'state': 'connecting', 'detail': '', 'kind': None}
        self._requests = None

    # ---- state ----

    def set_state(self, state, detail='', **extra):
        doc = {'state': state, 'detail': detail, 'kind': self.state.get('kind')}
        doc.update(extra)
        self.state = doc
        self._publish_state()

    def _publish_state(self):
        doc = dict(self.state)
        doc['t'] = epoch_ms()
        self.hub.publish(topics.state(self.board.name), doc, retain=True)

    async def _heartbeat(self):
        while True:
            await asyncio.sleep(HEARTBEAT)
            self._publish_state()

    # ---- the loop ----

    async def run(self):
        """Keep the board connected until cancelled."""
        name = self.board.name
        self._requests = self.hub.subscribe(topics.request(name), maxlen=32,
                                            callback=self.answer)
        beat = asyncio.create_task(self._heartbeat())
        delay = self.backoff_min
        try:
            self.set_state('connecting')
            while True:
                started = asyncio.get_running_loop().time()
                state, detail = 'reconnecting', 'connection closed'
                try:
                    self.session = await self.open()
                    self.state['kind'] = self.session.kind
                    await self.session.run()
                except BoardError as exc:
                    state, detail = 'error', str(exc)
                except (HTTPError, OSError, asyncio.TimeoutError, EOFError) as exc:
                    detail = str(exc) or type(exc).__name__
                except Exception as exc:
                    # e.g. the WebSocket failed: a closed or misbehaving board, never a crash
                    if type(exc).__name__ != 'WebSocketError':
                        state = 'error'
                    detail = '%s: %s' % (type(exc).__name__, exc)
                finally:
                    session, self.session = self.session, None
                    if session is not None:
                        await session.close()
                if asyncio.get_running_loop().time() - started > self.healthy_s:
                    delay = self.backoff_min
                print('camdot relay: %s %s: %s; retry in %g s' % (name, state, detail, delay))
                self.set_state(state, detail, retry_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
        finally:
            beat.cancel()
            self._requests.close()
            session, self.session = self.session, None
            if session is not None:
                await session.close()

    async def open(self):
        """Find out what the board is and return its session (not yet running)."""
        from camdot_relay.camdot_board import CamdotSession
        from camdot_relay.cws_board import CwsSession
        board = self.board
        if board.stream:
            return CwsSession(self, await self._status(required=False))
        res = await request('GET', board.url + '/.well-known/wot', board.headers(), None,
                            PROBE_TIMEOUT)
        try:
            if res.status == 200:
                td = await res.json(MAX_TD)
                if not isinstance(td, dict) or not isinstance(td.get('properties'), dict):
                    raise BoardError('the Thing Description is not a TD object')
                return CamdotSession(self, td)
            if res.status in (401, 403):
                raise BoardError('the board refused the relay (%d): check its token' % res.status)
        except HTTPError as exc:
            raise BoardError('Thing Description: %s' % exc)
        finally:
            res.close()
        status = await self._status(required=True)
        return CwsSession(self, status)

    async def _status(self, required):
        board = self.board
        try:
            res = await request('GET', board.url + '/status', board.headers(), None, PROBE_TIMEOUT)
        except HTTPError:
            if required:
                raise
            return None
        try:
            if res.status != 200:
                if required:
                    raise BoardError('neither a camdot board (no /.well-known/wot) nor a '
                                     'CameraWebServer (/status answers %d)' % res.status)
                return None
            status = await res.json(64 * 1024)
        except HTTPError as exc:
            if required:
                raise BoardError('/status: %s' % exc)
            return None
        finally:
            res.close()
        if not isinstance(status, dict):
            if required:
                raise BoardError('/status is not a JSON object')
            return None
        return status

    # ---- what the session reports ----

    def online(self, **extra):
        if self.state.get('state') != 'online' or extra:
            self.set_state('online', **extra)

    def frame(self, jpeg):
        self.hub.publish(topics.frame(self.board.name), jpeg, retain=True)

    # ---- requests from edges ----

    async def answer(self, topic, req):
        """Carry one edge request to the board; publish the answer to the edge that asked."""
        if not isinstance(req, dict) or not isinstance(req.get('reply'), str):
            return
        reply = {'id': req.get('id')}
        session = self.session
        try:
            if session is None or self.state.get('state') != 'online':
                raise RequestError(503, 'the board is %s: %s' % (
                    self.state.get('state'), self.state.get('detail') or 'not connected'))
            op = req.get('op')
            name = req.get('name')
            if op == 'writeproperty':
                reply['value'] = await session.write(name, req.get('value'))
            elif op == 'invokeaction':
                reply['output'] = await session.invoke(name, req.get('input'))
            else:
                raise RequestError(400, 'unsupported operation %r' % (op,))
            reply['status'] = 200
        except RequestError as exc:
            reply['status'] = exc.status
            reply['detail'] = exc.detail
        except Exception as exc:  # the board went away mid-request
            reply['status'] = 503
            reply['detail'] = 'the board did not answer: %s' % (str(exc) or type(exc).__name__)
        try:
            self.hub.publish(req['reply'], reply)
        except ValueError:
            pass  # a malformed reply topic: nobody to tell


class RequestError(Exception):
    """A request the board (or the ingest) refused: `status` as HTTP, `detail` the why."""

    def __init__(self, status, detail):
        super().__init__(detail)
        self.status = status
        self.detail = detail
