"""Camera HAL: one small interface over the ESP32 camera drivers and a simulated camera.

    from camdot.camera import open_camera, FRAMESIZES
    cam = open_camera(config['camera'])    # backend 'auto' | 'sim' | 'cnadler' | 'lemariva'
    cam.init()               # OSError (or the driver's error) when the camera can't start
    buf = cam.capture()      # a JPEG (memoryview or bytes) valid until the next capture(), or None
    buf = await cam.acapture()             # the same, letting other tasks run while it waits
    cam.apply('framesize', 'VGA')          # True, False (backend can't), ValueError (bad value)
    cam.reinit()                           # after a failure: deinit, init, settings replayed
    describe_error(exc)                    # what a failure means to a user, and the driver's words

open_camera() never raises: a backend that can't be used (no camera driver in the firmware, a
driver camdot does not know, a bad backend name) gives a NoCamera (camdot.camera.unavailable)
whose init() raises OSError with the reason, so the app runs without a camera and says why.

Settings use the names and scales of Espressif's CameraWebServer (`/control?var=...`): quality is
0-63 with lower = better, brightness -2..2, framesize a name such as 'QVGA' (or its esp32-camera
enum index). Backends translate to their driver's API (camdot.camera.base has the shared part).
"""
from camdot.camera.base import FRAMESIZES, RANGES, Camera, check_setting  # noqa: F401

BACKENDS = ('auto', 'sim', 'cnadler', 'lemariva')


def describe_error(exc):
    """What a camera failure means to a user (see camdot.camera.unavailable)."""
    from camdot.camera.unavailable import describe_error as describe
    return describe(exc)


def _none(config, reason):
    from camdot.camera.unavailable import NoCamera
    return NoCamera(config, reason)


def detect(on_board=None):
    """(backend, reason) for 'auto': the board's camera driver, 'sim' off the board, or 'none'
    and why. `on_board` defaults to camdot.compat.ON_BOARD."""
    if on_board is None:
        from camdot.compat import ON_BOARD as on_board
    if not on_board:
        return 'sim', ''
    try:
        import camera
    except ImportError:
        from camdot.camera.unavailable import NO_DRIVER
        return 'none', NO_DRIVER
    if hasattr(camera, 'Camera'):
        return 'cnadler', ''
    if hasattr(camera, 'init') and hasattr(camera, 'capture'):
        return 'lemariva', ''
    from camdot.camera.unavailable import UNKNOWN_DRIVER
    names = [n for n in dir(camera) if not n.startswith('_')]
    return 'none', UNKNOWN_DRIVER % (', '.join(sorted(names)[:6]) or 'nothing')


def open_camera(config=None, on_board=None):
    """A Camera for config['backend'] (not initialised); a NoCamera saying why when there is
    none to be had. Never raises."""
    config = config or {}
    backend = config.get('backend', 'auto')
    if backend not in BACKENDS:
        return _none(config, 'camera.backend must be one of %s, not %r: fix it in config.json'
                     % (', '.join(BACKENDS), backend))
    reason = ''
    if backend == 'auto':
        backend, reason = detect(on_board)
    if backend == 'none':
        return _none(config, reason)
    try:
        if backend == 'cnadler':
            from camdot.camera.cnadler import CnadlerCamera
            return CnadlerCamera(config)
        if backend == 'lemariva':
            from camdot.camera.lemariva import LemarivaCamera
            return LemarivaCamera(config)
        from camdot.camera.sim import SimCamera
        return SimCamera(config)
    except Exception as exc:   # no such driver, another version of it, no memory to load it
        return _none(config, 'the %s camera backend cannot run here: %s: %s' % (
            backend, type(exc).__name__, exc))
