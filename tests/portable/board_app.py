"""Helpers for the board fault tests (test_board_faults*.py): the whole device app over the
strict driver fake, driven with microdot's test client (both runtimes)."""
import asyncio
import gc
import json as _json
import os as _os

from harness import remove, tmp_path
from camdot import config as _config
from camdot.hub import Hub
from thing_app import install_thing


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


def sim_config(settings):
    """The default config with the simulated camera (small frames: the test client holds a whole
    body) and a scratch settings file."""
    cfg = _config.load(None)
    cfg['camera'].update({'backend': 'sim', 'framesize': 'QQVGA'})
    cfg['settings_file'] = settings
    return cfg


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


def camera_app(config, hub=None):
    """camdot.app.create_app's camera part, in its order (stream, its camera started, the Thing,
    then finish_start): a whole app, a viewer and the driver fake are more than the 256K run has
    room for in some tests; the whole app is built in others and on the simulated board."""
    from microdot import Microdot
    from camdot.camera import open_camera
    from camdot.device import camera_routes
    from camdot.device.stream import Stream
    app = Microdot()
    app.hub = hub = hub or Hub()
    cam = app.cam = open_camera(config['camera'])
    app.stream = Stream(hub, cam, config)
    camera_routes.install(app, app.stream)
    app.stream.start_camera()
    app.thing = install_thing(app, hub, cam, app.stream, config)
    app.stream.finish_start()
    return app

