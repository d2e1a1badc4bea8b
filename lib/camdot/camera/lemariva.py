"""Backend for lemariva's micropython-camera-driver (module-level `camera.init/capture/deinit`).

    cam = LemarivaCamera({'framesize': 'QVGA'}); cam.init(); data = cam.capture()

capture() returns a new bytes object (the driver copies the frame), or None. The driver has
setters only and JPEG quality 10-63 (lower = better): our 0-9 are clamped to 10. Its frame
buffers keep the size init() made them for, so a frame size change restarts the camera.
Importing this module raises ImportError when the firmware's driver lacks what camdot calls.
"""
import camera  # the board firmware's driver (tests put a fake in sys.modules['camera'] first)

from camdot.camera.base import Camera

NEEDED = ('init', 'deinit', 'capture', 'JPEG', 'PSRAM', 'DRAM')
_missing = [n for n in NEEDED if not hasattr(camera, n)]
if _missing:
    raise ImportError("this firmware's lemariva camera driver has no %s" % ', '.join(_missing))
del _missing

# HAL name -> the module's setter name (a driver without one just can't set that).
SETTER_NAMES = {
    'quality': 'quality', 'brightness': 'brightness', 'contrast': 'contrast',
    'saturation': 'saturation', 'special_effect': 'speffect', 'wb_mode': 'whitebalance',
    'vflip': 'flip', 'hmirror': 'mirror',
}
SETTERS = {}
for _name, _setter in SETTER_NAMES.items():
    if hasattr(camera, _setter):
        SETTERS[_name] = getattr(camera, _setter)
QUALITY_MIN = 10   # the driver's best JPEG quality
XCLK_HZ = (10000000, 20000000)   # the only clock rates its init() takes


def frame_size(name):
    """The driver's FRAME_* value for a framesize name, or None if it has none."""
    return getattr(camera, 'FRAME_' + name, None)


class LemarivaCamera(Camera):
    name = 'lemariva'
    SUPPORTED = tuple(SETTERS) + ('framesize',)

    def _can_size(self, name):
        return frame_size(name) is not None

    def _init(self):
        loc = camera.DRAM if self.config.get('fb_location') == 'dram' else camera.PSRAM
        xclk = self.config.get('xclk_freq', XCLK_HZ[0])
        ok = camera.init(0, format=camera.JPEG, framesize=frame_size(self.framesize),
                         quality=max(QUALITY_MIN, self.settings['quality']), fb_location=loc,
                         xclk_freq=xclk if xclk in XCLK_HZ else XCLK_HZ[0])
        if not ok:
            raise OSError('Camera Init Failed')

    def _deinit(self):
        camera.deinit()

    def _capture(self):
        buf = camera.capture()
        return buf if buf else None

    def _resize(self, framesize):
        # The frame buffers were sized for the old frame size: start again with the new one.
        self._deinit()
        self.ready = False
        self._init()
        self.ready = True
        self._replay()

    def _set(self, name, value):
        if name == 'framesize':
            self._resize(value)
            return True
        if name == 'quality':
            value = max(QUALITY_MIN, value)
        # The setters return None, or False when the camera is not running.
        return SETTERS[name](value) is not False
