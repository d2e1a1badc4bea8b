"""A frame size change the board has no memory for, refused to whoever set it, over HTTP and
/control, with and without a viewer (both runtimes). Only the camera's parts of the app, put
together as camdot.app does: with a viewer and the driver fake, the whole app is more than the
small-heap run has room for (test_board_settings_faults builds it whole)."""
import asyncio

from microdot.test_client import TestClient

import fake_cnadler
from board_app import (board_config, camera_app, detail, events, read_json, remove, scratch,
                       stop)
from camtools import FakeWS, use_driver
from camdot.device.senders import serve_ws
from camdot.hub import Hub
async def test_a_frame_size_the_board_cannot_take_is_refused_to_whoever_set_it():
    use_driver(fake_cnadler)
    fake_cnadler.memory_max_size = fake_cnadler.FrameSize.SVGA
    settings = scratch('resize-settings.json')
    hub = Hub()
    refused = events(hub, 'setting_refused')
    app = camera_app(board_config(settings), hub)
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
        ws = FakeWS()
        viewer = asyncio.create_task(serve_ws(app.stream, ws))
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
