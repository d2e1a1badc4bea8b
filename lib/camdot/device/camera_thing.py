"""The camera as a W3C Web Thing: its properties (the camera's settings, read-only figures),
actions and events, how a written value reaches the camera, and what happens when it can't.

    from camdot.device import camera_thing
    ct = camera_thing.build(hub, cam, stream, config)    # saved settings restored
    ct.thing                                              # the camdot.thing.Thing

Its routes are camdot.device.thing_routes' (TD, /properties, /actions, /ws) and camdot.device.cws'
(CameraWebServer's /status and /control); the LED, Wi-Fi signal, uptime and reset are
camdot.device.board_io's. Property names are CameraWebServer's; every write path goes through
Thing.write(), which checks the value, applies it (CameraThing.apply: the camera, the LED or the
capture loop's pace), publishes it on 'thing/camera/property/<name>' and lets the settings file
(camdot.settings) remember it.

What the camera can't take is undone and said: a value the sensor refuses is a 400 (the property
keeps its value); a frame size the board has no memory for goes back to the last one that worked
(HTTP writers wait for the change and get a 400 saying so; every observer sees the property come
back), the setting_refused event says why, and the settings file keeps the value that works. A
settings file that can't be written (a full flash) keeps its old content: the save_failed event
and the console say so. Read-only `camera_error` says why the camera does not work (null when it
does), `wifi` how the board's Wi-Fi is (camdot.wifi_supervisor publishes it on 'board/wifi').
"""
import asyncio
import json

from camdot.camera import FRAMESIZES, RANGES
from camdot.compat import mem_free, ticks_ms, ticks_diff, print_exception
from camdot.device import board_io
from camdot.settings import Settings, settings_path
from camdot.thing import Thing, ThingError

TOPIC_WIFI = 'board/wifi'    # camdot.wifi_supervisor's state: {'state': ..., 'detail': ...}
#: How long an HTTP write of the frame size waits for the capture loop to make the change.
RESIZE_WAIT_MS = 3000
#: Seconds between refreshes of fps/free_heap/uptime/rssi while a WebSocket consumer is
#: connected (observers see them change; HTTP reads compute them fresh).
SAMPLE_S = 2
#: Below this many free heap bytes a low_memory event fires (once, until it recovers).
LOW_MEMORY = 16384


# The camera's settings as Thing properties: (name, default, title, description), in the order
# the page shows them; the names and titles are CameraWebServer's. A boolean default makes a
# boolean property; an integer one an integer in camdot.camera.RANGES (the camera checks the same
# range), max_fps from 1 to the config's camera.fps_cap (the capture loop's pace). The defaults of
# quality and max_fps are the config's camera.quality and camera.fps.
SETTINGS = (
    ('quality', 12, 'Quality', 'JPEG: lower is better'),
    ('brightness', 0, 'Brightness', None),
    ('contrast', 0, 'Contrast', None),
    ('saturation', 0, 'Saturation', None),
    ('sharpness', 0, 'Sharpness', None),
    ('special_effect', 0, 'Effect',
     '0 none, 1 negative, 2 grayscale, 3 red, 4 green, 5 blue, 6 sepia'),
    ('wb_mode', 0, 'WB mode', '0 auto, 1 sunny, 2 cloudy, 3 office, 4 home'),
    ('awb', True, 'AWB', 'Auto white balance'),
    ('awb_gain', True, 'AWB gain', None),
    ('aec', True, 'AEC sensor', 'Auto exposure (sensor)'),
    ('aec2', False, 'AEC DSP', 'Auto exposure (DSP)'),
    ('ae_level', 0, 'AE level', 'Auto exposure level'),
    ('aec_value', 300, 'Exposure', 'Manual exposure (AEC off)'),
    ('agc', True, 'AGC', 'Auto gain'),
    ('agc_gain', 0, 'Gain', 'Manual gain (AGC off)'),
    ('gainceiling', 0, 'Gain ceiling', '2x to 128x'),
    ('bpc', False, 'BPC', 'Black pixel correction'),
    ('wpc', True, 'WPC', 'White pixel correction'),
    ('raw_gma', True, 'Raw gamma', None),
    ('lenc', True, 'Lens correction', None),
    ('hmirror', False, 'H-Mirror', 'Horizontal mirror'),
    ('vflip', False, 'V-Flip', 'Vertical flip'),
    ('dcw', True, 'DCW', 'Downsize'),
    ('colorbar', False, 'Colour bar', 'Test pattern'),
    ('led_intensity', 0, 'LED', 'Flash LED intensity (GPIO 4)'),
    ('max_fps', 20, 'Max fps', 'Frame rate limit'),
)


def _schema(name, default, title, description, ranges):
    # The property's JSON schema, from its SETTINGS row; `ranges`: the integers' (min, max).
    schema = {'type': 'boolean' if isinstance(default, bool) else 'integer', 'title': title}
    if description:
        schema['description'] = description
    if schema['type'] == 'integer':
        schema['minimum'], schema['maximum'] = ranges[name]
    return schema


class CameraThing:
    """The camera Thing on `cam` (a camdot.camera backend, or None) and `stream` (the capture
    loop, a camdot.device.stream.Stream, or None: its figures and its pace)."""

    def __init__(self, cam, hub, stream, config, store=None):
        self.cam = cam
        self.hub = hub
        self.stream = stream
        self.store = store
        self.defaults = {}
        self._led = board_io.FlashLed(config.get('led_pin', board_io.LED_PIN))  # null: none
        self._uptime = board_io.Uptime()
        self._low = False
        self._viewers = None
        self._sampler = None
        self._consumers = 0
        self._restoring = False
        self._refusal = None     # why the camera last undid a setting
        self._wifi = None
        name = config.get('hostname', 'camdot')
        self.thing = t = Thing('camera', 'urn:camdot:' + name, name + ' camera', hub,
                               'ESP32-CAM camera (camdot)', self._changed)
        if config.get('token'):
            # camdot.login then wants `Authorization: Bearer <token>` (or its login cookie)
            t.security = ('bearer_sc', {'scheme': 'bearer', 'in': 'header',
                                        'name': 'Authorization'})
        self._settings(t, cam, config)
        self.persisted = tuple(t.order)   # the settings are what the settings file keeps
        self._figures(t)
        self._actions(t)
        self._events(t)
        if cam is not None:
            cam.on_rollback = self._rolled_back
        if store is not None:
            store.on_error = self._save_failed

    def _settings(self, t, cam, config):
        # The writable properties: the frame size, then SETTINGS, their defaults from the config.
        sizes = list(FRAMESIZES)   # the HAL's names, in its order
        # the camera's own frame size (it validated the config) is where we start
        fs = getattr(cam, 'framesize', None) or (config.get('camera') or {}).get('framesize')
        if fs not in sizes:
            fs = 'QVGA' if 'QVGA' in sizes else sizes[0]
        t.property('framesize', {'type': 'string', 'enum': sizes, 'title': 'Frame size'}, fs,
                   write=self.apply)
        self.defaults['framesize'] = fs
        cam_cfg = config.get('camera') or {}
        fps_cap = cam_cfg.get('fps_cap') or 30
        ranges = dict(RANGES, max_fps=(1, fps_cap))
        configured = {'quality': cam_cfg.get('quality'), 'max_fps': cam_cfg.get('fps')}
        for name, fallback, title, description in SETTINGS:
            value = configured.get(name)
            default = fallback if value is None else value
            if name == 'max_fps':
                default = max(1, min(default, fps_cap))
            t.property(name, _schema(name, default, title, description, ranges), default,
                       write=self.apply)
            self.defaults[name] = default

    def _figures(self, t):
        # The read-only properties: what the stream, the board and its Wi-Fi are doing.
        ro = self.read_stat
        t.property('fps', {'type': 'number', 'readOnly': True, 'unit': 'Hz',
                           'title': 'Stream fps'}, 0, read=ro)
        t.property('viewers', {'type': 'integer', 'readOnly': True, 'minimum': 0,
                               'title': 'Viewers'}, 0, read=ro)
        t.property('free_heap', {'oneOf': [{'type': 'integer'}, {'type': 'null'}],
                                 'readOnly': True, 'unit': 'byte', 'title': 'Free heap'},
                   None, read=ro)
        t.property('uptime', {'type': 'integer', 'readOnly': True, 'unit': 's',
                              'title': 'Uptime'}, 0, read=ro)
        t.property('rssi', {'oneOf': [{'type': 'integer'}, {'type': 'null'}], 'readOnly': True,
                            'unit': 'dBm', 'title': 'Wi-Fi RSSI',
                            'description': 'Signal strength; null off the board'},
                   None, read=ro)
        text_or_null = {'oneOf': [{'type': 'string'}, {'type': 'null'}], 'readOnly': True}
        t.property('camera_error', dict(text_or_null, title='Camera problem'), None, read=ro)
        t.property('wifi', dict(text_or_null, title='Wi-Fi'), None, read=ro)

    def _actions(self, t):
        t.action('capture', self.capture, output={'type': 'object', 'properties': {
            'href': {'type': 'string'}, 'framesize': {'type': 'string'},
            'width': {'type': 'integer'}, 'height': {'type': 'integer'}}},
            title='Snapshot', description='Where to fetch a JPEG of the current frame size',
            safe=True, idempotent=True, synchronous=True)
        t.action('restart', self.restart, output={'type': 'string'}, title='Restart',
                 description='Reset the board (off the board: re-initialise the camera)',
                 synchronous=True)
        t.action('reset_settings', self.reset_settings, title='Reset settings',
                 description='Restore every setting to its default', idempotent=True,
                 synchronous=True)

    def _events(self, t):
        count = {'type': 'object', 'properties': {'viewers': {'type': 'integer'}}}
        t.event('viewer_joined', count, title='A stream viewer joined')
        t.event('viewer_left', count, title='A stream viewer left')
        t.event('low_memory', {'type': 'object', 'properties': {'free_heap': {'type': 'integer'}}},
                title='Free heap is low')
        t.event('capture_error', {'type': 'object', 'properties': {'detail': {'type': 'string'}}},
                title='The camera failed to capture')
        text = {'type': 'string'}
        t.event('setting_refused', {'type': 'object', 'properties': {
            'name': text, 'value': {}, 'kept': {}, 'detail': text}},
            title='A setting did not work: back to one that does')
        t.event('save_failed', {'type': 'object', 'properties': {'file': text, 'detail': text}},
                title='Settings not saved (the old file is kept)')

    # ---- boot ----
    def restore(self):
        """Apply the values saved in the settings file; a bad entry keeps its default."""
        if self.store is None:
            return
        saved = self.store.load()
        refused = []
        self._restoring = True  # the file already holds these: don't write them back
        try:
            for name in list(saved):
                if name not in self.persisted:
                    continue
                self._refusal = None
                try:
                    self.thing.write(name, saved[name])
                except ThingError as exc:
                    print('camdot settings: ignoring saved %s: %s' % (name, exc.detail))
                    # (a camera rollback has reported it already)
                    refused.append((name, saved[name], exc.detail, self._refusal is None))
        finally:
            self._restoring = False
        for name, value, detail, unreported in refused:
            # the file keeps what works from now on, and whoever watches hears why
            kept = self.thing.values.get(name)
            self.store.set(name, kept)
            if unreported:
                self._report_refused(name, value, kept, detail)

    def listen(self):
        """Follow the stream's viewer count and capture errors on the hub."""
        if self.hub is None:
            return
        self.hub.subscribe('camera/viewers', callback=self._on_viewers)
        self.hub.subscribe('camera/status', callback=self._on_status)
        self.hub.subscribe(TOPIC_WIFI, callback=self._on_wifi)

    # ---- applying values ----
    def apply(self, name, value):
        """The write function of every setting: to the LED, the stream, or cam.apply()."""
        if name == 'led_intensity':
            self._led.set(value)   # (recorded only off the board)
            return None
        if name == 'max_fps':
            if self.stream is not None:
                self.stream.set_fps(value)   # the capture loop's pace (at most camera.fps_cap)
            return None
        if self.cam is None:
            return None
        if isinstance(value, bool):
            value = int(value)  # the sensor API (and CameraWebServer) speak 0/1
        cam = self.cam
        if cam.apply(name, value) is False:
            # this backend can't (e.g. lemariva's driver has no AWB switch): say so (400), and
            # don't claim a value the camera doesn't have
            raise ValueError('the %s camera cannot set this' % getattr(cam, 'name', ''))
        if name == 'framesize' and getattr(cam, 'pending_size', False) and self._stream_idle():
            # Nothing holds a frame: change it now, so a size the board can't take is refused
            # here (400) rather than after the answer.
            cam.apply_pending()
            if cam.framesize != value:
                raise ValueError(self._refusal or 'the camera cannot use %s' % value)
        return None

    def _stream_idle(self):
        stream = self.stream
        return (stream is not None and not stream.viewers and not stream.frame.users and
                getattr(self.cam, 'ready', False))

    def _stat(self, key):
        return self.stream.stats.get(key) if self.stream is not None else None

    async def settled(self, name, value):
        """After an HTTP write: None once the camera has `value` for `name`, or why it has not
        (the capture loop makes frame size changes; this waits for it, RESIZE_WAIT_MS at most)."""
        cam = self.cam
        if name != 'framesize' or cam is None:
            return None
        start = ticks_ms()
        while getattr(cam, 'pending_size', False) and ticks_diff(ticks_ms(), start) < RESIZE_WAIT_MS:
            await asyncio.sleep(0.02)
        if getattr(cam, 'framesize', value) != value:
            return self._refusal or 'the camera went back to %s' % cam.framesize
        return None

    def _rolled_back(self, name, refused, kept, reason):
        # The camera undid a setting it could not take (camdot.camera.base): the property follows
        # the camera (published, saved), and whoever watches hears why.
        if name not in self.thing.properties:
            return
        if kept is None:
            kept = self.defaults.get(name)
        if name != 'framesize' and isinstance(self.thing.values.get(name), bool):
            kept = bool(kept)
        self.thing.update(name, kept)
        self._report_refused(name, refused, kept, reason)

    def _report_refused(self, name, value, kept, detail):
        self._refusal = '%s=%s did not work, kept %s: %s' % (name, value, kept, detail)
        print('camdot thing:', self._refusal)
        self.thing.emit('setting_refused', {'name': name, 'value': value, 'kept': kept,
                                            'detail': detail})

    def _save_failed(self, path, exc):
        self.thing.emit('save_failed', {'file': path, 'detail': '%s (the old file is kept)' % exc})

    def _changed(self, name, value):
        if self.store is not None and name in self.persisted and not self._restoring:
            self.store.set(name, value)

    # ---- read-only values ----
    def read_stat(self, name):
        if name == 'fps':
            v = self._stat('fps')
            return round(float(v), 1) if v is not None else 0
        if name == 'viewers':
            v = self._stat('viewers')
            if v is None:
                v = self._viewers
            return int(v) if v is not None else 0
        if name == 'free_heap':
            return mem_free()
        if name == 'uptime':
            return self._uptime.seconds()
        if name == 'rssi':
            return board_io.rssi()
        if name == 'camera_error':
            return self._stat('error')
        if name == 'wifi':
            return self._wifi
        raise ThingError(404, name)

    def sample(self):
        """Refresh the read-only values (publishing changes); fire low_memory on the way down."""
        t = self.thing
        for name in ('fps', 'viewers', 'free_heap', 'uptime', 'rssi', 'camera_error', 'wifi'):
            try:
                t.read(name)
            except ThingError as exc:
                print('camdot thing: %s' % exc.detail)
        free = t.values.get('free_heap')
        if free is not None:
            if free < LOW_MEMORY and not self._low:
                self._low = True
                t.emit('low_memory', {'free_heap': free})
            elif free > LOW_MEMORY * 3 // 2:
                self._low = False

    async def run_sampler(self):
        while True:
            try:
                self.sample()
            except Exception as exc:  # keep sampling whatever happens
                print_exception(exc)
            await asyncio.sleep(SAMPLE_S)

    def attach(self):
        """A WebSocket consumer arrived: sample while at least one is connected."""
        self._consumers += 1
        if self._sampler is None:
            self._sampler = asyncio.create_task(self.run_sampler())

    def detach(self):
        self._consumers -= 1
        if self._consumers <= 0 and self._sampler is not None:
            self._consumers = 0
            self._sampler.cancel()
            self._sampler = None

    # ---- hub inputs ----
    def _on_viewers(self, topic, count):
        try:
            count = int(count)
        except (TypeError, ValueError):
            return
        old = self._viewers if self._viewers is not None else self.thing.values.get('viewers', 0)
        self._viewers = count
        self.thing.update('viewers', count)
        if count > old:
            self.thing.emit('viewer_joined', {'viewers': count})
        elif count < old:
            self.thing.emit('viewer_left', {'viewers': count})

    def _on_wifi(self, topic, payload):
        if isinstance(payload, dict):
            state = payload.get('state') or '?'
            detail = payload.get('detail')
            payload = '%s (%s)' % (state, detail) if detail else state
        self._wifi = payload if isinstance(payload, str) else None
        self.thing.update('wifi', self._wifi)

    def _on_status(self, topic, payload):
        # the capture loop publishes {'type': 'status', 'state': 'error'|'streaming', 'message': ...}
        if isinstance(payload, dict):
            if payload.get('state', 'error') != 'error':
                return  # a recovery, not an error
            detail = payload.get('message') or payload.get('error') or json.dumps(payload)
        else:
            detail = payload
        self.thing.emit('capture_error', {'detail': str(detail)})

    # ---- actions ----
    def capture(self, _input):
        fs = self.thing.values['framesize']
        out = {'href': '/capture', 'framesize': fs}
        dims = FRAMESIZES.get(fs)
        if dims:
            out['width'], out['height'] = dims[0], dims[1]
        return out

    async def restart(self, _input):
        if self.store is not None:
            self.store.flush()
        if board_io.reset_soon():
            return 'resetting'
        cam = self.cam
        if cam is not None:
            if hasattr(cam, 'reinit'):
                cam.reinit()
            else:
                cam.deinit()
                cam.init()
        return 'camera reinitialised'

    def reset_settings(self, _input):
        t = self.thing
        for name in self.persisted:
            try:
                t.write(name, self.defaults[name])
            except ThingError:
                pass  # a setting this camera can't change keeps its (default) value
        if self.store is not None:
            self.store.replace({})
        return None


def build(hub, cam, stream, config, store=None):
    """The camera Thing for `cam` (and the capture loop `stream`), its saved settings restored
    (from `store`, else the file camdot.settings.settings_path(config) names), following the
    hub's camera and Wi-Fi news. Its routes: camdot.device.thing_routes and camdot.device.cws."""
    if store is None:
        store = Settings(settings_path(config))
    ct = CameraThing(cam, hub, stream, config, store)
    ct.restore()
    ct.listen()
    return ct
