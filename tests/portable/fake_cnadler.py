"""A stand-in for cnadler86's `camera` module (micropython-camera-API), as strict as the driver.

Follows the driver's C code as published (src/modcamera_api.c and src/modcamera.c at 8df3f70,
with esp32-camera's OV2640 sensor), not its documentation; tools/stubs/cnadler/camera.pyi
declares the same API:
- Camera(...) takes keyword arguments only and checks them (jpeg_quality 0-100, xclk_freq up
  to 40 MHz (< 1000 means MHz), grab_mode, pixel_format; fb_count clamped to 1..2). It is a
  singleton: every call returns the same object, stopping it first. The constructor initialises
  the sensor AND takes a first frame, even with init=False (which stops it again afterwards):
  a camera that fails either raises OSError from the constructor.
- Until init() succeeds, reading or writing a setting raises AttributeError; capture(),
  frame_available() and reconfigure() raise OSError(ENOENT).
- capture() never raises once initialised: no frame is None. It returns a memoryview over ONE
  frame buffer, overwritten by the next capture.
- A setting the sensor refuses raises ValueError('Invalid setting for NAME'); the OV2640 refuses
  levels outside -2..2 (contrast, brightness, saturation, ae_level), special_effect outside 0..6,
  wb_mode outside 0..4, and every sharpness or denoise (it has neither); it clamps quality,
  agc_gain and aec_value; a frame size above its maximum is scaled down.
- reconfigure() stops the camera and starts it again (the sensor is reset: every setting but the
  frame size and quality is back at its default). If that start fails, the camera stays stopped.

The simulated hardware and the fault knobs are module globals (a constructor that fails must be
set up before any object exists); reset() restores them:
- sensor_present: False is a loose ribbon cable: every start fails as esp32-camera does
  (OSError 95 ESP_ERR_NOT_SUPPORTED);
- memory_max_size: frame sizes above it can't get their frame buffers (OSError 1 ESP_FAIL);
- fail_init: the next N starts fail (ESP_ERR_NOT_SUPPORTED); no_first_frame: the next N
  constructors get no first frame; none_capture: the next N captures return None;
  not_ready: the next N frame_available() say False; fail_deinit: the next N stops fail;
  refuse: property names the sensor refuses whatever the value.
`calls` records what was called; `count` numbers the frames handed out by capture() (1, 2, 3...);
Camera.instances is [the singleton] once one was made. $FAKE_CAMERA sets knobs at import, for a
board that imports this as its `camera` driver (e.g. "sensor_present=0,none_capture=3").
"""
ENOENT = 2
ERR_NOT_SUPPORTED = (95, 'ESP_ERR_NOT_SUPPORTED')   # esp32-camera: no sensor answered
ERR_FAIL = (1, 'ESP_FAIL')                          # esp32-camera: frame buffer malloc failed
FIRST_FRAME = ('Failed to capture initial frame. Construct a new object with appropriate '
               'configuration.')


class GrabMode:
    WHEN_EMPTY = 0
    LATEST = 1


class PixelFormat:
    RGB565 = 0
    YUV422 = 1
    YUV420 = 2
    GRAYSCALE = 3
    JPEG = 4
    RGB888 = 5
    RAW = 6
    RGB444 = 7
    RGB555 = 8


class GainCeiling:
    X2 = 0
    X4 = 1
    X8 = 2
    X16 = 3
    X32 = 4
    X64 = 5
    X128 = 6


class FrameSize:
    R96X96 = 0
    QQVGA = 1
    R128x128 = 2
    QCIF = 3
    HQVGA = 4
    R240X240 = 5
    QVGA = 6
    R320X320 = 7
    CIF = 8
    HVGA = 9
    VGA = 10
    SVGA = 11
    XGA = 12
    HD = 13
    SXGA = 14
    UXGA = 15
    FHD = 16
    P_HD = 17
    P_3MP = 18
    QXGA = 19
    QHD = 20
    WQXGA = 21
    P_FHD = 22
    QSXGA = 23


OV2640_MAX_SIZE = FrameSize.UXGA
# The OV2640's settings after its reset (esp32-camera), read back through the properties.
SENSOR_DEFAULTS = {
    'contrast': 0, 'brightness': 0, 'saturation': 0, 'sharpness': 0, 'denoise': 0,
    'gainceiling': 0, 'colorbar': False, 'whitebal': True, 'gain_ctrl': True,
    'exposure_ctrl': True, 'hmirror': False, 'vflip': False, 'aec2': False, 'awb_gain': True,
    'agc_gain': 0, 'aec_value': 300, 'special_effect': 0, 'wb_mode': 0, 'ae_level': 0,
    'dcw': True, 'bpc': False, 'wpc': True, 'raw_gma': True, 'lenc': True,
}
LEVELS = {'contrast': (-2, 2), 'brightness': (-2, 2), 'saturation': (-2, 2),
          'ae_level': (-2, 2), 'special_effect': (0, 6), 'wb_mode': (0, 4)}
CLAMPED = {'agc_gain': (0, 30), 'aec_value': (0, 1200)}
NO_SUCH_CONTROL = ('sharpness', 'denoise')          # OV2640: the setter always fails
FLAGS = ('colorbar', 'whitebal', 'gain_ctrl', 'exposure_ctrl', 'hmirror', 'vflip', 'aec2',
         'awb_gain', 'dcw', 'bpc', 'wpc', 'raw_gma', 'lenc')
PROPERTIES = ('frame_size', 'quality') + tuple(SENSOR_DEFAULTS)
READ_ONLY = ('pixel_format', 'grab_mode', 'fb_count', 'pixel_width', 'pixel_height',
             'max_frame_size', 'sensor_name')
RESOLUTION = ((96, 96), (160, 120), (128, 128), (176, 144), (240, 176), (240, 240), (320, 240),
              (320, 320), (400, 296), (480, 320), (640, 480), (800, 600), (1024, 768),
              (1280, 720), (1280, 1024), (1600, 1200))
KNOBS = ('sensor_present', 'memory_max_size', 'fail_init', 'no_first_frame', 'none_capture',
         'not_ready', 'fail_deinit', 'refuse')

calls = []


def reset():
    """Fresh hardware: a sensor that answers, memory for any frame size, no faults."""
    global sensor_present, memory_max_size, fail_init, no_first_frame, none_capture, \
        not_ready, fail_deinit, refuse
    sensor_present = True
    memory_max_size = FrameSize.QSXGA
    fail_init = no_first_frame = none_capture = not_ready = fail_deinit = 0
    refuse = set()
    del calls[:]
    Camera.instances = []


def _knobs_from_env():
    import os
    for item in (os.getenv('FAKE_CAMERA') or '').split(','):
        if '=' in item:
            name, value = item.split('=', 1)
            if name in KNOBS and name != 'refuse':
                globals()[name] = int(value)


def frame_bytes(n, tag):
    """The fake JPEG of capture number n: SOI, a comment with n and tag, EOI."""
    body = ('frame %d %s' % (n, tag)).encode()
    return b'\xff\xd8\xff\xfe' + bytes((0, len(body) + 2)) + body + b'\xff\xd9'


def _take(name):
    # Consume one injected fault of kind `name` (a module global count); True if there was one.
    g = globals()
    if g[name]:
        g[name] -= 1
        return True
    return False


class Camera:
    instances = []

    def __new__(cls, *args, **kwargs):
        if cls.instances:
            return cls.instances[0]   # the driver's static singleton
        self = object.__new__(cls)
        object.__setattr__(self, '_s', {'initialized': False, 'count': 0,
                                        'buf': bytearray(64), 'sensor': {}})
        return self

    def __init__(self, *args, pixel_format=PixelFormat.RGB565, frame_size=FrameSize.QQVGA,
                 jpeg_quality=85, fb_count=1, grab_mode=GrabMode.WHEN_EMPTY,
                 xclk_freq=20, init=True, **pins):
        if args:
            raise TypeError('function takes 0 positional arguments')
        if not 0 <= jpeg_quality <= 100:
            raise ValueError('jpeg quality must be in range 0-100')
        if xclk_freq < 1000:
            xclk_freq *= 1000000
        if pixel_format > PixelFormat.RGB555:
            raise ValueError('Invalid pixel_format')
        if xclk_freq > 40000000:
            raise ValueError('xclk frequency cannot be grather than 40MHz')
        fb_count = max(1, min(2, fb_count))
        if grab_mode not in (GrabMode.WHEN_EMPTY, GrabMode.LATEST):
            raise ValueError('Invalid grab_mode')
        s = self._s
        if Camera.instances:
            self._stop()              # the singleton exists: stopped before it is set up again
        else:
            Camera.instances = [self]
        calls.append(('construct', frame_size, jpeg_quality))
        s['config'] = {'pixel_format': pixel_format, 'frame_size': frame_size,
                       'jpeg_quality': jpeg_quality, 'fb_count': fb_count,
                       'grab_mode': grab_mode, 'xclk_freq': xclk_freq}
        s['initialized'] = False
        self._start()
        if _take('no_first_frame'):
            self._stop()
            raise OSError(FIRST_FRAME)
        if not init:
            self._stop()

    # ---- the driver's attributes ----
    def __getattr__(self, name):
        s = self._s
        if name in PROPERTIES or name in READ_ONLY:
            if not s['initialized']:
                raise AttributeError(name)   # the attr handler defers: no such attribute
            if name == 'quality':
                return s['config']['jpeg_quality']
            if name == 'frame_size':
                return s['sensor']['frame_size']
            if name in ('pixel_format', 'grab_mode', 'fb_count'):
                return s['config'][name]
            if name == 'pixel_width':
                return RESOLUTION[min(s['sensor']['frame_size'], len(RESOLUTION) - 1)][0]
            if name == 'pixel_height':
                return RESOLUTION[min(s['sensor']['frame_size'], len(RESOLUTION) - 1)][1]
            if name == 'max_frame_size':
                return OV2640_MAX_SIZE
            if name == 'sensor_name':
                return 'OV2640'
            return s['sensor'][name]
        raise AttributeError(name)

    def __setattr__(self, name, value):
        s = self._s
        if name not in PROPERTIES and name not in READ_ONLY:
            raise AttributeError(name)
        if not s['initialized']:
            raise AttributeError(name)
        if name in READ_ONLY:
            raise ValueError('read-only property')
        calls.append(('set', name, value))
        if name in refuse:
            raise ValueError('Invalid setting for %s' % name)
        sensor = s['sensor']
        if name == 'frame_size':
            self._set_frame_size(int(value))
        elif name == 'quality':
            s['config']['jpeg_quality'] = int(value)   # mapped to 63..0 for the sensor, which clamps
        elif name in FLAGS:
            sensor[name] = bool(value)
        elif name in NO_SUCH_CONTROL:
            raise ValueError('Invalid setting for %s' % name)
        elif name in LEVELS:
            lo, hi = LEVELS[name]
            if not lo <= int(value) <= hi:
                raise ValueError('Invalid setting for %s' % name)
            sensor[name] = int(value)
        elif name in CLAMPED:
            lo, hi = CLAMPED[name]
            sensor[name] = max(lo, min(hi, int(value)))
        else:
            sensor[name] = int(value)

    # ---- methods ----
    def init(self):
        calls.append(('init',))
        if not self._s['initialized']:
            self._start()

    def deinit(self):
        calls.append(('deinit',))
        self._stop()

    def reconfigure(self, *, frame_size=None, pixel_format=None, grab_mode=None, fb_count=None):
        calls.append(('reconfigure', frame_size))
        s = self._check_init()
        if frame_size is not None:
            self._set_frame_size(frame_size)
        if fb_count is not None:
            s['config']['fb_count'] = max(1, min(2, fb_count))
        self._end()
        s['initialized'] = False
        self._start()   # sensor reset: settings back to their defaults

    def frame_available(self):
        calls.append(('frame_available',))
        self._check_init()
        return not _take('not_ready')

    def free_buffer(self):
        calls.append(('free_buffer',))

    def capture(self):
        s = self._check_init()
        if _take('none_capture'):
            return None
        s['count'] += 1
        data = frame_bytes(s['count'], 'fs%d' % s['sensor']['frame_size'])
        s['buf'][:len(data)] = data
        return memoryview(s['buf'])[:len(data)]

    @property
    def count(self):
        """Frames handed out by capture() so far."""
        return self._s['count']

    @property
    def inited(self):
        return self._s['initialized']

    @property
    def args(self):
        return self._s['config']

    @property
    def calls(self):
        return calls

    # ---- the hardware behind it ----
    def _check_init(self):
        s = self._s
        if not s['initialized']:
            raise OSError(ENOENT)
        return s

    def _set_frame_size(self, value):
        # Scaled down to the sensor's maximum; the frame buffers keep the size they were made for.
        self._s['config']['frame_size'] = self._s['sensor']['frame_size'] = min(
            value, OV2640_MAX_SIZE)

    def _start(self):
        # esp_camera_init(): probe the sensor (reset to its defaults), size the frame buffers.
        s = self._s
        size = min(s['config']['frame_size'], OV2640_MAX_SIZE)
        if not sensor_present or _take('fail_init'):
            raise OSError(*ERR_NOT_SUPPORTED)
        if size > memory_max_size:
            raise OSError(*ERR_FAIL)
        s['sensor'] = dict(SENSOR_DEFAULTS)
        s['sensor']['frame_size'] = size
        s['initialized'] = True

    def _stop(self):
        s = self._s
        if s['initialized']:
            self._end()
            s['initialized'] = False

    def _end(self):
        if _take('fail_deinit'):
            raise OSError(259, 'ESP_ERR_INVALID_STATE')
        s = self._s
        s['buf'][:] = bytes(len(s['buf']))   # the frame buffers are gone


reset()
_knobs_from_env()
