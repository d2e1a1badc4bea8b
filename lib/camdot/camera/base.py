"""The camera HAL's base class and what every backend shares: setting names, ranges, checks.

    from camdot.camera.base import Camera, check_setting
    class MyCamera(Camera): ...   # _init, _deinit, _capture, _set(name, value) -> bool

A setting the camera can't take never leaves it dead: a value the sensor refuses is undone and
reported (apply() raises ValueError; at start-up the saved value is dropped), and a frame size the
board has no memory for falls back to the last one that worked. Either way `on_rollback(name,
refused, kept, reason)` is called (kept None: the driver's default), so the Thing can correct
its value, save it and tell whoever set it.
"""
from collections import OrderedDict

# esp32-camera's framesize_t, in enum order (index = the C value of current drivers).
FRAMESIZES = OrderedDict((
    ('96X96', (96, 96)), ('QQVGA', (160, 120)), ('128X128', (128, 128)), ('QCIF', (176, 144)),
    ('HQVGA', (240, 176)), ('240X240', (240, 240)), ('QVGA', (320, 240)), ('320X320', (320, 320)),
    ('CIF', (400, 296)), ('HVGA', (480, 320)), ('VGA', (640, 480)), ('SVGA', (800, 600)),
    ('XGA', (1024, 768)), ('HD', (1280, 720)), ('SXGA', (1280, 1024)), ('UXGA', (1600, 1200)),
))
SAFE_FRAMESIZE = 'QVGA'   # fits every ESP32-CAM, with or without PSRAM
DEFAULT_QUALITY = 12
INIT_SETTINGS = ('framesize', 'quality')   # passed to the driver's init, not set afterwards

# name -> (min, max) for the integer settings; 'framesize' is handled apart.
RANGES = {
    'quality': (0, 63), 'brightness': (-2, 2), 'contrast': (-2, 2), 'saturation': (-2, 2),
    'sharpness': (-2, 2), 'denoise': (0, 8), 'ae_level': (-2, 2), 'special_effect': (0, 6),
    'wb_mode': (0, 4), 'gainceiling': (0, 6), 'agc_gain': (0, 30), 'aec_value': (0, 1200),
    'awb': (0, 1), 'awb_gain': (0, 1), 'aec': (0, 1), 'aec2': (0, 1), 'agc': (0, 1),
    'hmirror': (0, 1), 'vflip': (0, 1), 'dcw': (0, 1), 'bpc': (0, 1), 'wpc': (0, 1),
    'raw_gma': (0, 1), 'lenc': (0, 1), 'colorbar': (0, 1), 'led_intensity': (0, 255),
}

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


def _log(msg):
    print('camdot camera:', msg)


class Camera:
    """The HAL base class: keeps the settings, validates them, replays them after a re-init,
    and undoes what the camera can't take (see the module docstring).

    A backend sets `name` and `SUPPORTED` (the settings it can honour) and implements
    _init(), _capture(), _deinit() and _set(name, value) -> bool (ValueError: the sensor
    refuses the value); _resize(name) if a frame size change is more than _set().
    """
    name = 'none'
    SUPPORTED = tuple(RANGES)  # the settings a backend can honour (each backend narrows it)

    def __init__(self, config=None):
        config = config or {}
        self.config = config
        try:
            fs = check_setting('framesize', config.get('framesize', SAFE_FRAMESIZE))
        except ValueError as exc:
            _log('%s - using %s' % (exc, SAFE_FRAMESIZE))
            fs = SAFE_FRAMESIZE
        try:
            q = check_setting('quality', config.get('quality', DEFAULT_QUALITY))
        except ValueError as exc:
            _log('%s - using %d' % (exc, DEFAULT_QUALITY))
            q = DEFAULT_QUALITY
        self.settings = {'framesize': fs, 'quality': q}
        self.configured_size = fs   # the config's frame size: a fallback that should work
        self.good_size = None       # the last frame size the camera started with
        self.ready = False
        self.pending_size = False   # a framesize change waits for the next capture (see apply)
        self.on_rollback = None     # on_rollback(name, refused, kept, reason)

    def __repr__(self):
        return '<camera %s %s%s>' % (self.name, self.framesize, '' if self.ready else ' (off)')

    @property
    def framesize(self):
        return self.settings['framesize']

    @property
    def size(self):
        """(width, height) of the current frame size."""
        return FRAMESIZES[self.settings['framesize']]

    # ---- starting and stopping ----
    def init(self):
        """Start the camera with the current settings; raises OSError (or the driver's error)
        when it can't. A frame size it has no memory for falls back to one that works."""
        wanted = self.settings['framesize']
        try:
            self._start()
            return
        except Exception as exc:
            failure = exc
        self._stop_quietly()
        for fallback in self._fallback_sizes(wanted):
            self.settings['framesize'] = fallback
            try:
                self._start()
            except Exception:
                self._stop_quietly()
                continue
            self._rolled_back('framesize', wanted, fallback, failure)
            return
        self.settings['framesize'] = wanted   # nothing starts: the camera is broken, not the setting
        raise failure

    def _start(self):
        self._init()
        self.ready = True
        self.pending_size = False
        self._replay()
        self.good_size = self.settings['framesize']

    def _stop_quietly(self):
        if self.ready:
            self.ready = False
            try:
                self._deinit()
            except Exception:
                pass   # a broken driver may fail to stop; the next start says whether it works

    def _replay(self):
        # After a (re)start: the settings the driver does not take at init.
        for name in list(self.settings):
            if name in INIT_SETTINGS:
                continue
            value = self.settings[name]
            try:
                self._set(name, value)
            except ValueError as exc:   # a saved value this sensor refuses: the driver's default
                del self.settings[name]
                self._rolled_back(name, value, None, exc)

    def _fallback_sizes(self, failed):
        # Smaller is likelier to fit: the last size that worked, the config's, then the safe one.
        out = []
        for size in (self.good_size, self.configured_size, SAFE_FRAMESIZE):
            if size is not None and size != failed and size not in out and self._can_size(size):
                out.append(size)
        return out

    def deinit(self):
        if self.ready:
            self.ready = False
            self._deinit()

    def reinit(self):
        """Re-initialise after a failure (settings are kept and replayed)."""
        self._stop_quietly()
        self.init()

    # ---- frames ----
    def capture(self):
        """The next JPEG frame, or None. Valid only until the next capture()."""
        if not self.ready:
            raise OSError('camera not initialised')
        # Changing the frame size frees the driver's frame buffers, so it happens here, when the
        # caller has by contract let go of the previous frame.
        self.apply_pending()
        return self._capture()

    async def acapture(self):
        """capture() for the event loop: a backend that can wait for a frame without blocking
        the other tasks does so (cnadler); the others just capture."""
        return self.capture()

    def apply_pending(self):
        """Make a waiting frame size change now (capture() does; call it only while no frame
        from this camera is in use). A size it can't take rolls back (on_rollback says why)."""
        if self.pending_size:
            self.pending_size = False
            self._change_size()

    def _change_size(self):
        new = self.settings['framesize']
        old = self.good_size
        try:
            self._resize(new)
            self.good_size = new
        except Exception as exc:
            self.settings['framesize'] = old
            self._rolled_back('framesize', new, old, exc)
            self.reinit()   # a failed change can leave the driver stopped; raises if it stays so

    # ---- settings ----
    def get(self, name, default=None):
        return self.settings.get(name, default)

    def apply(self, name, value):
        """Change one setting. True if honoured, False if this backend can't, ValueError if the
        value is bad or the sensor refuses it (the setting then keeps its value)."""
        value = check_setting(name, value)
        if name not in self.SUPPORTED:
            return False
        if name == 'framesize' and not self._can_size(value):
            return False
        if not self.ready or name == 'framesize':
            self.settings[name] = value   # used by init(), or at the next capture()
            if name == 'framesize':
                self.pending_size = self.ready and value != self.good_size
            return True
        try:
            ok = self._set(name, value)
        except ValueError as exc:
            raise ValueError('the camera refused %s=%s, kept %s (%s)' % (
                name, value, self.settings.get(name, 'its default'), exc))
        if ok:
            self.settings[name] = value
        return bool(ok)

    def _rolled_back(self, name, refused, kept, exc):
        from camdot.camera.errors import describe_error
        reason = describe_error(exc)
        _log('%s=%s did not work, back to %s: %s' % (
            name, refused, 'the default' if kept is None else kept, reason))
        if self.on_rollback is not None:
            self.on_rollback(name, refused, kept, reason)

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

    def _resize(self, framesize):
        self._set('framesize', framesize)
