"""The device app: one function that assembles routes for a given config.

    from camdot import app, config
    device = app.create_app(config.load(None))
    device.run(port=8080)
    device = app.build_app(cfg)   # main.py: create_app, and an app without the camera when
                                  # building it runs out of memory (never no app at all)

Feature modules add their routes here, each through its own `install(app, ...)`, so this file stays
the single place that shows what the device serves.
"""
import gc

from microdot import Microdot

from camdot.hub import Hub

NO_MEMORY = ('not enough memory to start the camera (%s): the app runs without it; '
             'reset the board, or use a smaller frame size or fewer viewers')


def create_app(config, hub=None, cam=None):
    app = Microdot()
    app.hub = hub = hub or Hub()

    # Security first (before_request hooks run in order): Host/Origin checks and CORS (origins),
    # the optional token (login), then the budgets, timeouts and viewer cap (limits): a refused
    # client never takes a viewer slot. The keepalive closes idle or dead WebSockets.
    from camdot import limits, origins
    from camdot.websocket import WebSocket
    origins.install(app, config)
    if config.get('token'):
        from camdot import login   # ~9 KB of RAM a device without a token doesn't need
        login.install(app, config)
    limits.install(app, config)
    if config.get('debug'):
        from camdot import debug
        debug.install(app)
    WebSocket.ping_interval = config['limits']['ping_interval']

    # The camera: the capture loop (app.stream, its `stats`) with its routes /ws/stream, /stream
    # (MJPEG) and /capture, and the device page at /. open_camera() never fails: without a usable
    # camera the app runs and says why.
    from camdot.camera import open_camera
    from camdot.device import camera_routes, page
    from camdot.device.stream import Stream
    app.cam = cam = cam or open_camera(config['camera'])
    app.stream = Stream(hub, cam, config)
    camera_routes.install(app, app.stream)
    page.install(app, config)
    # Start it now: its frame buffers come before the heap fragments (later, a small heap may
    # have no room left for them).
    app.stream.start_camera()

    # The camera as a W3C Web Thing, its saved settings (config['settings_file']) restored; its
    # routes /.well-known/wot, /properties, /actions, /ws (Web Thing Protocol), and
    # CameraWebServer's /status and /control for the scripts and integrations written for it.
    from camdot.device import camera_thing, cws, thing_routes
    app.thing = camera_thing.build(hub, cam, app.stream, config)
    thing_routes.install(app, app.thing, config)
    cws.install(app, app.thing)

    # The saved settings are in: a camera that did not start is reported and retried while the
    # app serves; a saved frame size is made now, so one the board can't take rolls back at boot.
    app.stream.finish_start()
    return app


def build_app(config, hub=None):
    """create_app(config) for the board, which must never end up without its app: when building
    it runs out of memory, the app is built again without the camera (the largest allocations),
    whose status then says why. Other errors are raised (main.py logs them and resets)."""
    try:
        return create_app(config, hub)
    except MemoryError as exc:
        reason = NO_MEMORY % exc
    gc.collect()
    print('camdot app:', reason)
    from camdot.camera.unavailable import NoCamera
    return create_app(config, hub, cam=NoCamera(config.get('camera'), reason))
