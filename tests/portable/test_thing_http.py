"""The camera Thing over HTTP (microdot TestClient): TD, /properties, /actions, /status, /control."""
import asyncio
import json
import os

from microdot import Microdot
from microdot.test_client import TestClient

from camdot import config, settings
from camdot.device import board_io, camera_thing, thing_routes
from camdot.hub import Hub
from camdot.settings import Settings
from harness import remove, tmp_path, until
from thing_app import FakeStream, install_thing

JSON_HEADERS = {'Content-Type': 'application/json'}


class NowSettings(Settings):
    """Writes at once: no delayed-write task outlives a test (test_settings covers the delay)."""

    def schedule(self):
        self.flush()


class FakeCam:
    """Records cam.apply(); can't do colorbar (False), and the sensor fails on sharpness 2."""
    name = 'fake'

    def __init__(self):
        self.applied = []
        self.reinits = 0

    def apply(self, name, value):
        if name == 'sharpness' and value == 2:
            raise OSError('sensor did not answer')
        self.applied.append((name, value))
        return name != 'colorbar'

    def reinit(self):
        self.reinits += 1


def setup(stream=None):
    path = tmp_path('thing-http-%s.json' % ''.join('%02x' % b for b in os.urandom(4)))
    remove(path)
    app = Microdot()
    hub = Hub()
    cam = FakeCam()
    cfg = config.load(None)
    ct = install_thing(app, hub, cam, stream or FakeStream(fps=12.5, viewers=2), cfg,
                       store=NowSettings(path))
    return TestClient(app), ct, cam, hub, path


class FakeRequest:
    def __init__(self, host):
        self.headers = {'Host': host}
        self.scheme = 'http'


async def test_td_is_served_as_td_json_with_http_and_ws_forms():
    client, ct, cam, hub, path = setup()
    # HEAD: the headers without the body (the whole TD is checked on CPython, in
    # tests/host/test_td_schema.py; a 256K heap needs its room for the parts below)
    res = await client.request('HEAD', '/.well-known/wot', headers={'Host': 'cam.local:8080'})
    assert res.status_code == 200
    assert res.headers['Content-Type'] == 'application/td+json'
    base, ws_url = thing_routes._urls(FakeRequest('cam.local:8080'), config.load(None))
    assert (base, ws_url) == ('http://cam.local:8080/', 'ws://cam.local:8080/ws')
    td = ct.thing.description_of(base, ws_url)
    assert td['base'] == 'http://cam.local:8080/'
    fs = td['properties']['framesize']
    assert fs['type'] == 'string' and 'QVGA' in fs['enum'] and 'UXGA' in fs['enum']
    ws = [f for f in fs['forms'] if f.get('subprotocol') == 'webthingprotocol'][0]
    assert ws['href'] == 'ws://cam.local:8080/ws'
    for name in ('quality', 'brightness', 'contrast', 'saturation', 'sharpness', 'hmirror',
                 'vflip', 'special_effect', 'wb_mode', 'awb', 'aec', 'agc', 'ae_level',
                 'gainceiling', 'led_intensity', 'max_fps'):
        assert name in td['properties'], name
        assert not td['properties'][name].get('readOnly'), name
    for name in ('fps', 'viewers', 'free_heap', 'uptime', 'rssi'):
        assert td['properties'][name]['readOnly'] is True, name
    assert td['properties']['saturation']['minimum'] == -2
    assert td['properties']['led_intensity']['maximum'] == 255
    assert sorted(td['actions']) == ['capture', 'reset_settings', 'restart']
    assert sorted(td['events']) == ['capture_error', 'low_memory', 'save_failed', 'setting_refused',
                                   'viewer_joined', 'viewer_left']
    remove(path)


async def test_get_and_put_properties_with_bare_json_values():
    client, ct, cam, hub, path = setup()
    res = await client.get('/properties/framesize')
    assert res.status_code == 200 and res.json == 'QVGA'
    res = await client.put('/properties/framesize', headers=JSON_HEADERS, body='"VGA"')
    assert res.status_code == 200 and res.json == 'VGA'
    assert cam.applied[-1] == ('framesize', 'VGA')
    res = await client.put('/properties/hmirror', headers=JSON_HEADERS, body='true')
    assert res.status_code == 200 and res.json is True
    assert cam.applied[-1] == ('hmirror', 1)            # the sensor API speaks 0/1
    res = await client.put('/properties/brightness', body='-2')   # no Content-Type: still JSON
    assert res.status_code == 200 and res.json == -2
    res = await client.get('/properties/fps')
    assert res.json == 12.5
    res = await client.get('/properties/viewers')
    assert res.json == 2
    res = await client.get('/properties')
    assert res.json['framesize'] == 'VGA' and res.json['hmirror'] is True
    remove(path)


async def test_http_errors_are_problem_details():
    client, ct, cam, hub, path = setup()
    cases = (
        ('PUT', '/properties/brightness', '3', 400),            # out of range
        ('PUT', '/properties/brightness', 'true', 400),         # a boolean is not an integer
        ('PUT', '/properties/brightness', '{bad', 400),         # not JSON
        ('PUT', '/properties/brightness', '', 400),             # no body
        ('PUT', '/properties/framesize', '"HUGE"', 400),        # not in the enum
        ('PUT', '/properties/fps', '5', 403),                   # read-only
        ('PUT', '/properties/nope', '5', 404),
        ('PUT', '/properties/nope', '{bad', 404),               # unknown name first
        ('GET', '/properties/nope', None, 404),
        ('POST', '/actions/nope', None, 404),
        ('PUT', '/properties/sharpness', '2', 500),             # the sensor failed
        ('PUT', '/properties/colorbar', 'true', 400),           # this camera can't
    )
    for method, url, body, status in cases:
        res = await client.request(method, url, headers=dict(JSON_HEADERS), body=body)
        assert res.status_code == status, (method, url, body, res.status_code, res.text)
        assert res.headers['Content-Type'] == 'application/problem+json'
        p = json.loads(res.body)
        assert p['status'] == status and p['title'] and p['detail'], p
    assert ct.thing.values['brightness'] == 0 and ct.thing.values['sharpness'] == 0
    assert ct.thing.values['colorbar'] is False
    remove(path)


async def test_actions():
    client, ct, cam, hub, path = setup()
    res = await client.post('/actions/capture')
    assert res.status_code == 200
    assert res.json['href'] == '/capture' and res.json['framesize'] == 'QVGA'
    assert (res.json['width'], res.json['height']) == (320, 240)
    res = await client.post('/actions/restart')
    assert res.status_code == 200 and cam.reinits == 1   # off the board: camera re-initialised
    await client.put('/properties/quality', body='30')
    await client.put('/properties/framesize', body='"VGA"')
    res = await client.post('/actions/reset_settings')
    assert res.status_code == 200
    assert ct.thing.values['quality'] == 12 and ct.thing.values['framesize'] == 'QVGA'
    assert cam.applied[-1][0] in ct.persisted
    remove(path)


async def test_status_has_camerawebserver_shape():
    client, ct, cam, hub, path = setup()
    await client.put('/properties/framesize', body='"VGA"')
    await client.put('/properties/vflip', body='true')
    res = await client.get('/status')
    assert res.status_code == 200
    assert res.headers['Access-Control-Allow-Origin'] == '*'
    st = res.json
    assert st['framesize'] == 8                         # CameraWebServer's index of VGA
    assert st['vflip'] == 1 and st['hmirror'] == 0 and st['quality'] == 12
    assert st['led_intensity'] == 0
    for name, value in st.items():
        assert isinstance(value, int) and not isinstance(value, bool), (name, value)
    for name in ('brightness', 'contrast', 'saturation', 'special_effect', 'wb_mode', 'awb',
                 'awb_gain', 'aec', 'aec2', 'ae_level', 'aec_value', 'agc', 'agc_gain',
                 'gainceiling', 'bpc', 'wpc', 'raw_gma', 'lenc', 'dcw', 'colorbar'):
        assert name in st, name
    remove(path)


async def test_control_sets_values_like_camerawebserver():
    client, ct, cam, hub, path = setup()
    sub = hub.subscribe('thing/camera/property/+', maxlen=8)
    res = await client.get('/control?var=framesize&val=13')
    assert res.status_code == 200 and res.body == b''
    assert ct.thing.values['framesize'] == 'UXGA' and cam.applied[-1] == ('framesize', 'UXGA')
    res = await client.get('/control?var=hmirror&val=1')
    assert res.status_code == 200 and ct.thing.values['hmirror'] is True
    res = await client.get('/control?var=brightness&val=-2')
    assert res.status_code == 200 and ct.thing.values['brightness'] == -2
    res = await client.get('/control?var=led_intensity&val=128')
    assert res.status_code == 200 and ct.thing.values['led_intensity'] == 128
    topics = []
    while True:
        item = sub.get_nowait()
        if item is None:
            break
        topics.append(item[0])
    assert topics == ['thing/camera/property/framesize', 'thing/camera/property/hmirror',
                      'thing/camera/property/brightness', 'thing/camera/property/led_intensity']
    remove(path)


async def test_control_errors():
    client, ct, cam, hub, path = setup()
    cases = (
        ('/control', 400),                                  # nothing
        ('/control?var=quality', 400),                      # no val
        ('/control?val=3', 400),                            # no var
        ('/control?var=quality&val=abc', 400),              # not an integer
        ('/control?var=quality&val=1.5', 400),
        ('/control?var=quality&val=64', 400),               # out of range
        ('/control?var=hmirror&val=2', 400),                # a switch is 0 or 1
        ('/control?var=framesize&val=99', 400),
        ('/control?var=framesize&val=-1', 400),
        ('/control?var=no_such_thing&val=1', 404),
        ('/control?var=fps&val=1', 403),
    )
    for url, status in cases:
        res = await client.get(url)
        assert res.status_code == status, (url, res.status_code, res.text)
        assert json.loads(res.body)['detail']
    assert ct.thing.values['quality'] == 12 and ct.thing.values['hmirror'] is False
    remove(path)


async def test_settings_are_saved_and_restored_by_a_new_install():
    client, ct, cam, hub, path = setup()
    await client.put('/properties/quality', body='20')
    await client.get('/control?var=vflip&val=1')
    ct.store.flush()
    with open(path) as f:
        saved = json.loads(f.read())
    assert saved['quality'] == 20 and saved['vflip'] is True
    app = Microdot()
    cam2 = FakeCam()
    ct2 = install_thing(app, Hub(), cam2, None, config.load(None), store=NowSettings(path))
    assert ct2.thing.values['quality'] == 20 and ct2.thing.values['vflip'] is True
    assert ('quality', 20) in cam2.applied and ('vflip', 1) in cam2.applied
    assert ct2.store.writes == 0                        # restoring does not rewrite the file
    remove(path)


async def test_a_bad_saved_value_keeps_its_default():
    path = tmp_path('thing-badsaved-%s.json' % ''.join('%02x' % b for b in os.urandom(4)))
    with open(path, 'w') as f:
        f.write(json.dumps({'quality': 99, 'brightness': 1, 'fps': 5, 'bogus': 1}))
    ct = install_thing(Microdot(), Hub(), FakeCam(), None, config.load(None),
                       store=NowSettings(path))
    assert ct.thing.values['quality'] == 12 and ct.thing.values['brightness'] == 1
    remove(path)


def test_viewer_and_status_topics_become_events():
    client, ct, cam, hub, path = setup(FakeStream(fps=0))
    sub = hub.subscribe('thing/camera/event/+', maxlen=8)
    hub.publish('camera/viewers', 1)
    hub.publish('camera/viewers', 2)
    hub.publish('camera/viewers', 1)
    hub.publish('camera/status', {'type': 'status', 'state': 'error', 'message': 'capture failed'})
    hub.publish('camera/status', {'type': 'status', 'state': 'streaming', 'message': 'recovered'})
    events = []
    while True:
        item = sub.get_nowait()
        if item is None:
            break
        events.append(item)
    assert events == [('thing/camera/event/viewer_joined', {'viewers': 1}),
                      ('thing/camera/event/viewer_joined', {'viewers': 2}),
                      ('thing/camera/event/viewer_left', {'viewers': 1}),
                      ('thing/camera/event/capture_error', {'detail': 'capture failed'})]
    assert ct.thing.read('viewers') == 1
    remove(path)


def test_sampler_refreshes_read_only_values_and_warns_on_low_memory():
    client, ct, cam, hub, path = setup(FakeStream(fps=9.96, viewers=0))
    sub = hub.subscribe('thing/camera/#', maxlen=16)
    ct.sample()
    assert ct.thing.values['fps'] == 10.0
    old = camera_thing.LOW_MEMORY
    try:
        camera_thing.LOW_MEMORY = 1 << 40      # everything is low now
        ct.thing.read = (lambda orig: (lambda n: 1000 if n == 'free_heap' else orig(n)))(
            ct.thing.read)
        ct.thing.values['free_heap'] = 1000
        ct.sample()
        ct.sample()                             # once per crossing, not every sample
    finally:
        camera_thing.LOW_MEMORY = old
    lows = []
    while True:
        item = sub.get_nowait()
        if item is None:
            break
        if item[0] == 'thing/camera/event/low_memory':
            lows.append(item[1])
    assert lows == [{'free_heap': 1000}]
    remove(path)


async def test_the_stream_gives_its_figures_and_takes_max_fps_as_its_pace():
    stream = FakeStream(fps=7.5, viewers=3, target_fps=20, error=None)
    client, ct, cam, hub, path = setup(stream)
    assert (await client.get('/properties/fps')).json == 7.5
    assert (await client.get('/properties/viewers')).json == 3
    res = await client.put('/properties/max_fps', body='10')
    assert res.status_code == 200
    assert stream.paced == [10] and stream.stats['target_fps'] == 10
    assert (await client.put('/properties/max_fps', body='0')).status_code == 400
    assert stream.paced == [10]
    stream.stats['error'] = 'camera not detected'
    assert (await client.get('/properties/camera_error')).json == 'camera not detected'
    remove(path)


async def test_max_fps_takes_rates_up_to_the_configured_cap():
    # camera.fps_cap is the property's maximum (one meaning: max_fps the pace, fps_cap its limit)
    path = tmp_path('thing-cap-%s.json' % ''.join('%02x' % b for b in os.urandom(4)))
    remove(path)
    app = Microdot()
    cfg = config.load(None)
    cfg['camera']['fps_cap'] = 15   # below camera.fps (20): the pace starts at the cap
    stream = FakeStream(fps=0.0, viewers=0, target_fps=15, error=None)
    ct = install_thing(app, Hub(), FakeCam(), stream, cfg, store=NowSettings(path))
    client = TestClient(app)
    assert (await client.get('/properties/max_fps')).json == 15
    schema = ct.thing.schema('max_fps')
    assert (schema['minimum'], schema['maximum']) == (1, 15)
    assert (await client.put('/properties/max_fps', body='16')).status_code == 400
    assert (await client.put('/properties/max_fps', body='15')).status_code == 200
    assert stream.paced == [15]
    remove(path)


class FakeMachine:
    """Stands in for the board's `machine` module: PWM on a Pin, reset()."""

    def __init__(self):
        self.duties = []
        self.pins = []
        self.resets = 0
        machine = self

        class Pin:
            def __init__(self, n):
                machine.pins.append(n)

        class PWM:
            def __init__(self, pin, freq=0):
                self.freq = freq

            def duty_u16(self, d):
                machine.duties.append(d)

        self.Pin = Pin
        self.PWM = PWM

    def reset(self):
        self.resets += 1


async def test_on_the_board_the_led_is_pwm_on_gpio4_and_restart_resets():
    import sys
    fake = FakeMachine()
    saved = sys.modules.get('machine')
    sys.modules['machine'] = fake
    board_io.ON_BOARD = True
    try:
        client, ct, cam, hub, path = setup()
        res = await client.get('/control?var=led_intensity&val=255')
        assert res.status_code == 200
        await client.put('/properties/led_intensity', body='0')
        assert fake.pins == [4] and fake.duties == [65535, 0]
        assert ('led_intensity', 255) not in cam.applied      # the LED is not a sensor setting
        res = await client.post('/actions/restart')
        assert res.status_code == 200 and res.json == 'resetting'
        assert fake.resets == 0                                 # the answer goes out first
        await until(lambda: fake.resets, what='the reset')
        assert fake.resets == 1 and cam.reinits == 0
        remove(path)
    finally:
        board_io.ON_BOARD = False
        if saved is None:
            del sys.modules['machine']
        else:
            sys.modules['machine'] = saved


def test_settings_path_follows_config_env_and_board():
    assert settings.settings_path({'settings_file': 'x/s.json'}) in ('x/s.json',
                                                                     _env('CAMDOT_SETTINGS'))
    settings.ON_BOARD = True
    try:
        assert settings.settings_path({'settings_file': 'settings.json'}) == '/settings.json'
        assert settings.settings_path({}) == '/settings.json'
        assert settings.settings_path({'settings_file': '/data/s.json'}) == '/data/s.json'
    finally:
        settings.ON_BOARD = False


def _env(name):
    from camdot.compat import getenv
    return getenv(name)
