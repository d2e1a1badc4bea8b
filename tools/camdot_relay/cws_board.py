"""An Espressif CameraWebServer board (or a copy of it) as the ingest holds it, made a Web Thing.

    session = CwsSession(link, status)        # status: its /status JSON, or None (MJPEG only)
    await session.run()                       # MJPEG from :81/stream until it ends or stalls
    await session.write('quality', 10)        # GET /control?var=quality&val=10

One MJPEG connection (camdot_relay.mjpeg takes the firmwares' quirks), its frames stamped with
a camdot comment ("camdot seq=N t=EPOCH_MS v=1": t is when the ingest got it, the board's own
X-Timestamp counts from its boot) so every viewer reads frames the same way. The settings from
/status become properties of a Thing Description the relay writes for the board (integers, with
CameraWebServer's ranges where known), polled every POLL_S seconds for changes; writes go to
/control.
"""
import asyncio

from camdot_relay import topics
from camdot_relay.http_client import HTTPError, request
from camdot_relay.link import BoardError, RequestError, epoch_ms
from camdot_relay.mjpeg import MjpegError, MjpegParser, boundary_of

POLL_S = 2.0
TIMEOUT = 5.0
# CameraWebServer's /control variables with their ranges (esp32-camera's sensor API).
RANGES = {
    'framesize': (0, 21), 'quality': (0, 63), 'brightness': (-2, 2), 'contrast': (-2, 2),
    'saturation': (-2, 2), 'sharpness': (-2, 2), 'special_effect': (0, 6), 'wb_mode': (0, 4),
    'awb': (0, 1), 'awb_gain': (0, 1), 'aec': (0, 1), 'aec2': (0, 1), 'ae_level': (-2, 2),
    'aec_value': (0, 1200), 'agc': (0, 1), 'agc_gain': (0, 30), 'gainceiling': (0, 6),
    'bpc': (0, 1), 'wpc': (0, 1), 'raw_gma': (0, 1), 'lenc': (0, 1), 'hmirror': (0, 1),
    'vflip': (0, 1), 'dcw': (0, 1), 'colorbar': (0, 1), 'led_intensity': (0, 255),
}
READ_ONLY = ('xclk', 'pixformat')
WTP = 'webthingprotocol'   # the edges serve it for every board (the href becomes theirs)


def thing_description(name, status):
    """A TD for a CameraWebServer board: one integer property per /status key, with the forms
    an edge serves (relative, and the Web Thing Protocol's, which the edge points at itself)."""
    props = {}
    for key in sorted(status or {}):
        value = status[key]
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        p = {'type': 'integer', 'title': key.replace('_', ' ').capitalize()}
        if key in RANGES:
            p['minimum'], p['maximum'] = RANGES[key]
        if key in READ_ONLY or key not in RANGES:
            p['readOnly'] = True
        ops = ['readproperty'] if p.get('readOnly') else ['readproperty', 'writeproperty']
        p['forms'] = [{'href': 'properties/' + key, 'op': ops},
                      {'href': 'ws', 'subprotocol': WTP,
                       'op': ops + ['observeproperty', 'unobserveproperty']}]
        props[key] = p
    return {'@context': 'https://www.w3.org/2022/wot/td/v1.1', '@type': 'Thing',
            'id': 'urn:camdot-relay:' + name, 'title': name + ' (CameraWebServer)',
            'description': 'An ESP32-CAM running CameraWebServer, through the camdot relay',
            'securityDefinitions': {'nosec_sc': {'scheme': 'nosec'}}, 'security': 'nosec_sc',
            'properties': props, 'actions': {}, 'events': {},
            'forms': [{'href': 'properties', 'op': ['readallproperties']},
                      {'href': 'ws', 'subprotocol': WTP,
                       'op': ['readallproperties', 'readmultipleproperties',
                              'observeallproperties', 'unobserveallproperties']}]}


def with_comment(jpeg, seq, t):
    """SOI + a camdot comment segment + the rest of the JPEG (one copy, once per frame)."""
    text = b'camdot seq=%d t=%d v=1' % (seq, t)
    n = len(text) + 2
    return b''.join((b'\xff\xd8\xff\xfe', bytes((n >> 8, n & 255)), text,
                     memoryview(jpeg)[2:]))


class CwsSession:
    kind = 'cameraweb'

    def __init__(self, link, status):
        self.link = link
        self.board = link.board
        self.status = status
        self.values = {}
        self.td = thing_description(self.board.name, status)
        self.seq = 0
        self._res = None

    async def run(self):
        hub = self.link.hub
        name = self.board.name
        hub.publish(topics.td(name), self.td, retain=True)
        self._take_status(self.status or {})
        tasks = [asyncio.create_task(self._stream())]
        if self.status is not None and self.board.url:
            tasks.append(asyncio.create_task(self._poll()))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                t.result()
            raise OSError('the MJPEG stream ended')
        finally:
            for t in tasks:
                t.cancel()

    async def close(self):
        if self._res is not None:
            self._res.close()

    async def _stream(self):
        url = self.board.stream_url()
        res = self._res = await request('GET', url, self.board.headers(), None, TIMEOUT)
        if res.status != 200:
            raise BoardError('%s answers %d' % (url, res.status))
        ctype = res.headers.get('content-type', '')
        if not ctype.lower().startswith('multipart/'):
            raise BoardError('%s is not MJPEG (Content-Type %r)' % (url, ctype[:60]))
        parser = MjpegParser(boundary_of(ctype))
        link = self.link
        try:
            async for piece in res.pieces(stall=link.stall):
                for jpeg in parser.feed(piece):
                    self.seq += 1
                    link.frame(with_comment(jpeg, self.seq, epoch_ms()))
                    link.online()
        except MjpegError as exc:
            raise BoardError('the stream is not usable MJPEG: %s' % exc)

    async def _poll(self):
        while True:
            await asyncio.sleep(POLL_S)
            status = await self._get_status()
            self._take_status(status)

    async def _get_status(self):
        res = await request('GET', self.board.url + '/status', self.board.headers(), None, TIMEOUT)
        try:
            if res.status != 200:
                raise BoardError('/status answers %d' % res.status)
            status = await res.json(64 * 1024)
        except HTTPError as exc:
            raise BoardError('/status: %s' % exc)
        finally:
            res.close()
        if not isinstance(status, dict):
            raise BoardError('/status is not a JSON object')
        return status

    def _take_status(self, status):
        hub = self.link.hub
        name = self.board.name
        changed = False
        for key, p in self.td['properties'].items():
            value = status.get(key)
            if not isinstance(value, int) or isinstance(value, bool):
                continue
            if self.values.get(key) != value:
                self.values[key] = value
                changed = True
                hub.publish(topics.property_changed(name, key), value)
        if changed or not self.values:
            hub.publish(topics.properties(name), dict(self.values), retain=True)

    async def write(self, name, value):
        p = self.td['properties'].get(name)
        if p is None:
            raise RequestError(404, 'no property %r' % (name,))
        if p.get('readOnly'):
            raise RequestError(403, '%s is read-only' % name)
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int) or not p['minimum'] <= value <= p['maximum']:
            raise RequestError(400, '%s must be an integer %d..%d' % (
                name, p['minimum'], p['maximum']))
        res = await request('GET', '%s/control?var=%s&val=%d' % (self.board.url, name, value),
                            self.board.headers(), None, TIMEOUT)
        try:
            if res.status == 404:
                raise RequestError(404, 'the board has no setting %r' % name)
            if res.status == 500:  # what CameraWebServer answers when the sensor refuses
                raise RequestError(400, 'the board refused %s=%d' % (name, value))
            if res.status != 200:
                raise RequestError(502, '/control answers %d' % res.status)
        except HTTPError as exc:
            raise RequestError(502, '/control: %s' % exc)
        finally:
            res.close()
        self._take_status(dict(self.values, **{name: value}))
        return value

    async def invoke(self, name, input):
        raise RequestError(404, 'no action %r' % (name,))
