"""The board's app and what it can't take (both runtimes): a saved frame size the board has no
memory for, a value the sensor refuses, settings the flash can't save. Over the strict driver
fake, the camera's part of the app (board_app.camera_app: the whole app beside the fake is more
than the 256K run has room for), driven over HTTP with microdot's test client."""
import asyncio

from microdot.test_client import TestClient

import fake_cnadler
from board_app import board_config, camera_app, detail, events, read_json, remove, scratch, stop
from camtools import use_driver
from camdot.hub import Hub


async def test_a_saved_frame_size_the_board_has_no_memory_for_rolls_back_and_is_saved():
    use_driver(fake_cnadler)
    fake_cnadler.memory_max_size = fake_cnadler.FrameSize.SVGA   # no room for UXGA buffers
    settings = scratch('big-settings.json', '{"framesize": "UXGA", "brightness": 1}')
    hub = Hub()
    refused = events(hub, 'setting_refused')
    app = camera_app(board_config(settings), hub)
    client = TestClient(app)
    try:
        assert app.cam.ready and app.cam.framesize == 'QVGA'          # the camera is not dead
        assert (await client.get('/properties/framesize')).json == 'QVGA'
        assert len(refused) == 1 and refused[0]['name'] == 'framesize'
        assert refused[0]['value'] == 'UXGA'
        assert refused[0]['kept'] == 'QVGA' and 'not enough memory' in refused[0]['detail']
        app.thing.store.flush()
        assert read_json(settings) == {'framesize': 'QVGA', 'brightness': 1}   # saved as such
        assert (await client.get('/capture')).status_code == 200
    finally:
        await stop(app)
        remove(settings)


async def test_a_value_the_sensor_refuses_is_refused_and_a_saved_one_dropped():
    use_driver(fake_cnadler)
    # the OV2640 has no sharpness
    settings = scratch('refused-settings.json', '{"sharpness": 2, "contrast": 1}')
    hub = Hub()
    refused = events(hub, 'setting_refused')
    app = camera_app(board_config(settings), hub)
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
    app = camera_app(board_config(settings), hub)
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
