"""A camera that does not answer at boot, a firmware without its driver (both runtimes): the app
runs without the camera and says why. Over the strict driver fake (tests/portable/fake_cnadler.py),
the camera's part of the app (board_app.camera_app: with the fake and a failing camera's retries,
the whole app is more than the 256K run has room for; tests/host/test_sim_board.py runs both
cases with the whole app on the board's path), driven over HTTP with microdot's test client."""
import asyncio

from microdot.test_client import TestClient

import fake_cnadler
from board_app import board_config, camera_app, events, remove, routes_work, scratch, stop
from camtools import use_driver
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
