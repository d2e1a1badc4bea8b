"""Camera HAL: one small interface over the ESP32 camera drivers and a simulated camera.

    from camdot.camera import open_camera, FRAMESIZES
    cam = open_camera(config['camera'])    # backend 'auto' | 'sim' | 'cnadler' | 'lemariva'
    cam.init()
    buf = cam.capture()      # a JPEG (memoryview or bytes) valid until the next capture(), or None
    buf = await cam.acapture()             # the same, letting other tasks run while it waits
    cam.apply('framesize', 'VGA')          # True, False (backend can't), ValueError (bad value)
    cam.reinit()                           # after a failure: deinit, init, settings replayed

Settings use the names and scales of Espressif's CameraWebServer (`/control?var=...`): quality is
0-63 with lower = better, brightness -2..2, framesize a name such as 'QVGA' (or its esp32-camera
enum index). Backends translate to their driver's API.
"""
import sys

from collections import OrderedDict

# esp32-camera's framesize_t, in enum order (index = the C value of current drivers).
FRAMESIZES = OrderedDict((
    ('96X96', (96, 96)), ('QQVGA', (160, 120)), ('128X128', (128, 128)), ('QCIF', (176, 144)),
    ('HQVGA', (240, 176)), ('240X240', (240, 240)), ('QVGA', (320, 240)), ('320X320', (320, 320)),
    ('CIF', (400, 296)), ('HVGA', (480, 320)), ('VGA', (640, 480)), ('SVGA', (800, 600)),
    ('XGA', (1024, 768)), ('HD', (1280, 720)), ('SXGA', (1280, 1024)), ('UXGA', (1600, 1200)),
))

# name -> (min, max) for the integer settings; 'framesize' is handled apart.
RANGES = {
    'quality': (0, 63), 'brightness': (-2, 2), 'contrast': (-2, 2), 'saturation': (-2, 2),
    'sharpness': (-2, 2), 'denoise': (0, 8), 'ae_level': (-2, 2), 'special_effect': (0, 6),
    'wb_mode': (0, 4), 'gainceiling': (0, 6), 'agc_gain': (0, 30), 'aec_value': (0, 1200),
    'awb': (0, 1), 'awb_gain': (0, 1), 'aec': (0, 1), 'aec2': (0, 1), 'agc': (0, 1),
    'hmirror': (0, 1), 'vflip': (0, 1), 'dcw': (0, 1), 'bpc': (0, 1), 'wpc': (0, 1),
    'raw_gma': (0, 1), 'lenc': (0, 1), 'colorbar': (0, 1), 'led_intensity': (0, 255),
}

BACKENDS = ('auto', 'sim', 'cnadler', 'lemariva')


def check_setting(name, value):
    """Return `value` normalised for setting `name` (framesize -> its name, others -> int).

    Raises ValueError with a message for an unknown name or a bad value.
    """
    if name == 'framesize':
        if isinstance(value, int) and not isinstance(value, bool):
            if 0 <= value < len(FRAMESIZES):
                return list(FRAMESIZES)[value]
        elif isinstance(value, str):
            v = value.upper()
            if v in FRAMESIZES:
                return v
            if v.isdigit():
                return check_setting(name, int(v))
        raise ValueError('framesize must be one of %s' % ', '.join(FRAMESIZES))
    bounds = RANGES.get(name)
    if bounds is None:
        raise ValueError('unknown camera setting %r' % (name,))
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise ValueError('%s must be an integer' % name)
    elif isinstance(value, bool):
        value = int(value)
    elif not isinstance(value, int):
        raise ValueError('%s must be an integer' % name)
    if not bounds[0] <= value <= bounds[1]:
        raise ValueError('%s must be in %d..%d' % (name, bounds[0], bounds[1]))
    return value


class Camera:
    """The HAL base class: keeps the settings, validates them, replays them after a re-init.

    A backend sets `name` and `SUPPORTED` (the settings it can honour) and implements
    _init(), _capture(), _deinit() and _set(name, value) -> bool.
    """
    name = 'none'
    SUPPORTED = tuple(RANGES)  # the settings a backend can honour (each backend narrows it)

    def __init__(self, config=None):
        config = config or {}
        self.config = config
        try:
            fs = check_setting('framesize', config.get('framesize', 'QVGA'))
        except ValueError as exc:
            print('camdot camera:', exc, '- using QVGA')
            fs = 'QVGA'
        try:
            q = check_setting('quality', config.get('quality', 12))
        except ValueError as exc:
            print('camdot camera:', exc, '- using 12')
            q = 12
        self.settings = {'framesize': fs, 'quality': q}
        self.ready = False
        self._resize = False  # a framesize change waits for the next capture (see apply)

    def __repr__(self):
        return '<camera %s %s%s>' % (self.name, self.framesize, '' if self.ready else ' (off)')

    @property
    def framesize(self):
        return self.settings['framesize']

    @property
    def size(self):
        """(width, height) of the current frame size."""
        return FRAMESIZES[self.settings['framesize']]

    def init(self):
        """Start the camera with the current settings; raises OSError when it can't."""
        self._init()
        self.ready = True
        self._resize = False
        for name in self.settings:
            if name not in ('framesize', 'quality'):  # those are init() arguments
                self._set(name, self.settings[name])

    def deinit(self):
        if self.ready:
            self.ready = False
            self._deinit()

    def reinit(self):
        """Re-initialise after a failure (settings are kept and replayed)."""
        try:
            self.deinit()
        except Exception:
            pass  # a broken driver may fail to stop; init() says whether it recovers
        self.ready = False
        self.init()

    def capture(self):
        """The next JPEG frame, or None. Valid only until the next capture()."""
        if not self.ready:
            raise OSError('camera not initialised')
        if self._resize:
            # Reconfiguring frees the driver's frame buffers, so it happens here, when the
            # caller has by contract let go of the previous frame.
            self._resize = False
            self._set('framesize', self.settings['framesize'])
        return self._capture()

    async def acapture(self):
        """capture() for the event loop: a backend that can wait for a frame without blocking
        the other tasks does so (cnadler); the others just capture."""
        return self.capture()

    def get(self, name, default=None):
        return self.settings.get(name, default)

    def apply(self, name, value):
        """Change one setting. True if honoured, False if this backend can't, ValueError if bad."""
        value = check_setting(name, value)
        if name not in self.SUPPORTED:
            return False
        if name == 'framesize' and not self._can_size(value):
            return False
        self.settings[name] = value
        if not self.ready:
            return True  # used by init()
        if name == 'framesize':
            self._resize = True
            return True
        return bool(self._set(name, value))

    # ---- backend hooks ----
    def _can_size(self, name):
        return True

    def _init(self):
        raise NotImplementedError

    def _deinit(self):
        pass

    def _capture(self):
        raise NotImplementedError

    def _set(self, name, value):
        return False


def detect(platform=None):
    """The backend name 'auto' resolves to: the board's camera driver, else 'sim'."""
    if (platform or sys.platform) != 'esp32':
        return 'sim'
    try:
        import camera
    except ImportError:
        print('camdot camera: no camera driver in this firmware; using the simulated camera')
        return 'sim'
    if hasattr(camera, 'Camera'):
        return 'cnadler'
    if hasattr(camera, 'init') and hasattr(camera, 'capture'):
        return 'lemariva'
    return 'sim'


def open_camera(config=None, platform=None):
    """A Camera for config['backend'] (not initialised)."""
    config = config or {}
    backend = config.get('backend', 'auto')
    if backend not in BACKENDS:
        raise ValueError('camera backend must be one of %s, not %r' % (
            ', '.join(BACKENDS), backend))
    if backend == 'auto':
        backend = detect(platform)
    if backend == 'cnadler':
        from camdot.camera.cnadler import CnadlerCamera
        return CnadlerCamera(config)
    if backend == 'lemariva':
        from camdot.camera.lemariva import LemarivaCamera
        return LemarivaCamera(config)
    from camdot.camera.sim import SimCamera
    return SimCamera(config)
