"""The board's app survives its own hardware at boot (both runtimes): a corrupt settings file,
a MemoryError while the app is built. The whole device app (camdot.app, the simulated camera),
driven over HTTP with microdot's test client. (A camera that does not answer and a firmware
without its driver: test_board_camera_faults.py, and on the simulated board.)"""
from microdot.test_client import TestClient

from board_app import remove, routes_work, scratch, sim_config, stop
from camdot.app import build_app, create_app


async def test_a_corrupt_settings_file_is_not_fatal():
    settings = scratch('corrupt-settings.json', b'{"quality": 1\xff\xfe')
    app = create_app(sim_config(settings))
    client = TestClient(app)
    try:
        assert (await client.get('/properties/quality')).json == 12     # the default
        assert (await client.get('/capture')).status_code == 200
    finally:
        await stop(app)
        remove(settings)


async def test_running_out_of_memory_while_building_gives_an_app_without_the_camera():
    from camdot.device import camera_routes
    real = camera_routes.install
    calls = []

    def greedy(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError('memory allocation failed, allocating 61440 bytes')
        return real(*args, **kwargs)
    camera_routes.install = greedy
    settings = scratch('oom-settings.json')
    try:
        app = build_app(sim_config(settings))
    finally:
        camera_routes.install = real
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
