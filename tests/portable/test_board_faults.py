"""The board's app survives its own hardware (both runtimes): a camera that does not answer at
boot, a firmware without its driver, a corrupt settings file, a MemoryError while the app is built,
a setting the camera can't take, a flash that can't be written. Each builds the whole device app
(camdot.app) over the strict driver fake (tests/portable/fake_cnadler.py) and drives it over HTTP
with microdot's test client."""
import asyncio
import gc
import json as _json
import os as _os

from microdot.test_client import TestClient

import fake_cnadler
from camtools import use_driver
from harness import remove, tmp_path
from camdot import config as _config
from camdot.app import build_app, create_app
from camdot.hub import Hub


async def routes_work(client):
    # The app's non-camera routes answer (the device page and the TD are test_app's and
    # test_thing_http's: their bodies are more than the small-heap run has room for beside a
    # whole app and the driver fake; tests/host/test_sim_board.py loads the page on the board).
    gc.collect()
    for path in ('/status', '/properties/quality'):
        res = await client.get(path)
        if res.status_code != 200:
            return False
    return True


def scratch(name, content=None):
    """A per-run settings file path; with `content` (bytes or str), the file as the board left it."""
    path = tmp_path('%s-%s' % (''.join('%02x' % b for b in _os.urandom(4)), name))
    remove(path)
    if content is not None:
        with open(path, 'wb') as f:
            f.write(content.encode() if isinstance(content, str) else content)
    return path


def board_config(settings, **camera):
    cfg = _config.load(None)
    cfg['camera'].update({'backend': 'cnadler'})
    cfg['camera'].update(camera)
    cfg['settings_file'] = settings
    return cfg


def events(hub, name):
    got = []
    hub.subscribe('thing/camera/event/' + name, callback=lambda t, d: got.append(d))
    return got


def detail(res):
    return _json.loads(res.text)['detail']   # application/problem+json


def read_json(path):
    with open(path) as f:
        return _json.loads(f.read())


async def stop(app):
    # Cancel what the app left running (the capture loop, a pending settings write) and let the
    # cancellations run: a task left in the queue keeps the whole app alive into the next test.
    app.stream.stop()
    task = app.thing.store._task
    if task is not None:
        task.cancel()
    await asyncio.sleep(0.01)
    gc.collect()


async def test_a_camera_that_does_not_answer_at_boot_leaves_the_app_running_and_says_why():
    use_driver(fake_cnadler)
    fake_cnadler.sensor_present = False                 # a loose ribbon cable
    hub = Hub()
    errors = events(hub, 'capture_error')
    settings = scratch('dead-settings.json')
    app = create_app(board_config(settings), hub)
    app.stream._backoff = 50
    client = TestClient(app)
    try:
        assert await routes_work(client)                            # the Thing, /status ...
        res = await client.get('/capture')
        assert res.status_code == 503
        assert res.json['error'].startswith('camera not detected: check the ribbon cable')
        assert 'ESP_ERR_NOT_SUPPORTED' in res.json['error']       # the driver's own words
        assert int(res.headers['Retry-After']) >= 1
        res = await client.get('/stream')
        assert res.status_code == 503 and 'ribbon cable' in res.json['error']
        res = await client.get('/properties/camera_error')
        assert res.json.startswith('camera not detected')
        assert errors and 'ribbon cable' in errors[0]['detail']
        # settings still work (kept for when the camera starts)
        res = await client.put('/properties/vflip', body='true')
        assert res.status_code == 200
        fake_cnadler.sensor_present = True                         # reseated: retried, no viewer
        for _ in range(300):
            if not app.stream.failing:
                break
            await asyncio.sleep(0.01)
        assert not app.stream.failing
        assert (await client.get('/properties/camera_error')).json is None
        res = await client.get('/capture')
        assert res.status_code == 200 and res.headers['Content-Type'] == 'image/jpeg'
        assert fake_cnadler.Camera.instances[0].vflip is True
    finally:
        await stop(app)
        remove(settings)


async def test_a_firmware_without_the_driver_runs_the_app_and_says_so():
    import sys
    use_driver(fake_cnadler)
    sys.modules.pop('camera', None)                      # this firmware has no camera module
    settings = scratch('nodriver-settings.json')
    app = create_app(board_config(settings))
    client = TestClient(app)
    try:
        assert app.cam.name == 'none'
        assert await routes_work(client)
        res = await client.get('/capture')
        assert res.status_code == 503 and 'cnadler camera backend cannot run here' in res.json['error']
    finally:
        await stop(app)
        remove(settings)


async def test_a_corrupt_settings_file_is_not_fatal():
    use_driver(fake_cnadler)
    settings = scratch('corrupt-settings.json', b'{"quality": 1\xff\xfe')
    app = create_app(board_config(settings))
    client = TestClient(app)
    try:
        assert (await client.get('/properties/quality')).json == 12     # the default
        assert (await client.get('/capture')).status_code == 200
    finally:
        await stop(app)
        remove(settings)


async def test_running_out_of_memory_while_building_gives_an_app_without_the_camera():
    from camdot import stream
    use_driver(fake_cnadler)
    real = stream.install
    calls = []

    def greedy(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError('memory allocation failed, allocating 61440 bytes')
        return real(*args, **kwargs)
    stream.install = greedy
    settings = scratch('oom-settings.json')
    try:
        app = build_app(board_config(settings))
    finally:
        stream.install = real
    client = TestClient(app)
    try:
        assert len(calls) == 2 and app.cam.name == 'none'
        assert await routes_work(client)
        res = await client.get('/capture')
        assert res.status_code == 503 and res.json['error'].startswith('not enough memory')
        assert (await client.get('/properties/camera_error')).json.startswith('not enough memory')
    finally:
        await stop(app)
        remove(settings)


async def test_a_saved_frame_size_the_board_has_no_memory_for_rolls_back_and_is_saved():
    use_driver(fake_cnadler)
    fake_cnadler.memory_max_size = fake_cnadler.FrameSize.SVGA   # no room for UXGA buffers
    settings = scratch('big-settings.json', '{"framesize": "UXGA", "brightness": 1}')
    hub = Hub()
    refused = events(hub, 'setting_refused')
    app = create_app(board_config(settings), hub)
    client = TestClient(app)
    try:
        assert app.cam.ready and app.cam.framesize == 'QVGA'          # the camera is not dead
        assert (await client.get('/properties/framesize')).json == 'QVGA'
        assert refused and refused[0]['name'] == 'framesize' and refused[0]['value'] == 'UXGA'
        assert refused[0]['kept'] == 'QVGA' and 'not enough memory' in refused[0]['detail']
        app.thing.store.flush()
        assert read_json(settings) == {'framesize': 'QVGA', 'brightness': 1}   # saved as such
        assert (await client.get('/capture')).status_code == 200
    finally:
        await stop(app)
        remove(settings)


async def test_a_frame_size_the_board_cannot_take_is_refused_to_whoever_set_it():
    use_driver(fake_cnadler)
    fake_cnadler.memory_max_size = fake_cnadler.FrameSize.SVGA
    settings = scratch('resize-settings.json')
    hub = Hub()
    refused = events(hub, 'setting_refused')
    app = create_app(board_config(settings), hub)
    client = TestClient(app)
    try:
        # nobody watches: the change is made at once, the answer says it did not work
        res = await client.put('/properties/framesize', body='"UXGA"')
        assert res.status_code == 400 and 'not enough memory' in detail(res)
        assert (await client.get('/properties/framesize')).json == 'QVGA'
        assert refused[-1]['kept'] == 'QVGA'
        res = await client.get('/control?var=framesize&val=13')     # CameraWebServer's UXGA
        assert res.status_code == 400 and 'not enough memory' in detail(res)
        res = await client.put('/properties/framesize', body='"SVGA"')   # one that fits
        assert res.status_code == 200 and app.cam.framesize == 'SVGA'
        # with a viewer: the capture loop makes the change; the writer waits for it
        from camtools import FakeWS
        ws = FakeWS()
        viewer = asyncio.create_task(app.stream.serve_ws(ws))
        for _ in range(200):
            if ws.frames:
                break
            await asyncio.sleep(0.01)
        res = await client.put('/properties/framesize', body='"UXGA"')
        assert res.status_code == 400 and 'not enough memory' in detail(res)
        assert app.cam.framesize == 'SVGA'
        n = len(ws.frames)
        for _ in range(200):
            if len(ws.frames) > n + 2:
                break
            await asyncio.sleep(0.01)
        assert len(ws.frames) > n + 2                                # still streaming
        ws.hang_up()
        await viewer
        app.thing.store.flush()
        assert read_json(settings)['framesize'] == 'SVGA'
    finally:
        await stop(app)
        remove(settings)


async def test_a_value_the_sensor_refuses_is_refused_and_a_saved_one_dropped():
    use_driver(fake_cnadler)
    # the OV2640 has no sharpness
    settings = scratch('refused-settings.json', '{"sharpness": 2, "contrast": 1}')
    hub = Hub()
    refused = events(hub, 'setting_refused')
    app = create_app(board_config(settings), hub)
    client = TestClient(app)
    try:
        assert app.cam.ready
        assert refused and refused[0]['name'] == 'sharpness' and refused[0]['kept'] == 0
        app.thing.store.flush()
        assert read_json(settings) == {'sharpness': 0, 'contrast': 1}
        res = await client.put('/properties/sharpness', body='1')
        assert res.status_code == 400 and 'refused sharpness=1' in detail(res)
        assert (await client.get('/properties/sharpness')).json == 0
        assert (await client.get('/capture')).status_code == 200
    finally:
        await stop(app)
        remove(settings)


async def test_settings_that_cannot_be_saved_keep_the_old_file_and_are_reported():
    from fake_flash import FailingFlash
    use_driver(fake_cnadler)
    settings = scratch('full-settings.json', '{"brightness": 1}')
    hub = Hub()
    failed = events(hub, 'save_failed')
    app = create_app(board_config(settings), hub)
    client = TestClient(app)
    flash = FailingFlash('write', after=4, times=1000).install()
    try:
        res = await client.put('/properties/brightness', body='2')
        assert res.status_code == 200                     # the camera took it
        app.thing.store.flush()
        assert failed and failed[0]['file'] == settings and 'old file is kept' in failed[0]['detail']
        with open(settings) as f:
            assert f.read() == '{"brightness": 1}'        # the old file, whole
        assert (await client.get('/capture')).status_code == 200   # and the app runs on
    finally:
        flash.uninstall()
        await stop(app)
        remove(settings)
