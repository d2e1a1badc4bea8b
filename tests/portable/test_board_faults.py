"""The board's app survives its own hardware at boot (both runtimes): a camera that does not
answer, a firmware without its driver, a corrupt settings file, a MemoryError while the app is
built. Over the strict driver fake (tests/portable/fake_cnadler.py), driven over HTTP with
microdot's test client: the whole device app (camdot.app), or its camera part where a failing
camera's retries leave the 256K run too little room beside the whole app (tests/host/
test_sim_board.py has the dead camera with the whole app on the board's path)."""
import asyncio

from microdot.test_client import TestClient

import fake_cnadler
from board_app import board_config, camera_app, events, remove, routes_work, scratch, stop
from camtools import use_driver
from camdot.app import build_app, create_app
from camdot.hub import Hub


async def test_a_camera_that_does_not_answer_at_boot_leaves_the_app_running_and_says_why():
    use_driver(fake_cnadler)
    fake_cnadler.sensor_present = False                 # a loose ribbon cable
    hub = Hub()
    errors = events(hub, 'capture_error')
    settings = scratch('dead-settings.json')
    app = camera_app(board_config(settings), hub)
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
        app.stream._backoff = 50                                   # (after the try under way)
        for _ in range(600):
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
    app = camera_app(board_config(settings))
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
