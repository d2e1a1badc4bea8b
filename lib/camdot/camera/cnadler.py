"""Backend for cnadler86's micropython-camera-API (`from camera import Camera, FrameSize, ...`).

    cam = CnadlerCamera({'framesize': 'QVGA', 'quality': 12}); cam.init(); mv = cam.capture()

capture() returns the driver's zero-copy memoryview over its frame buffer (valid until the next
capture()). Settings are the driver object's properties; the frame size goes through
reconfigure(). The driver's quality is a percentage (higher = better); ours is 0-63 (lower =
better).

The driver object is made in _init(), not here: its constructor starts the sensor and takes a
first frame (OSError when either fails), and it is a singleton, so each start makes it again with
the current settings (a frame size it could not take is gone with the failed object).
Importing this module raises ImportError when the firmware's driver lacks what camdot calls.
"""
import asyncio

import camera  # the board firmware's driver (tests put a fake in sys.modules['camera'] first)

from camdot.camera.base import Camera

NEEDED = ('Camera', 'FrameSize', 'PixelFormat', 'GrabMode')
NEEDED_METHODS = ('init', 'deinit', 'capture', 'reconfigure', 'free_buffer', 'frame_available')
_missing = [n for n in NEEDED if not hasattr(camera, n)] or [
    n for n in NEEDED_METHODS if not hasattr(camera.Camera, n)]
if _missing:
    raise ImportError("this firmware's cnadler86 camera driver has no %s: flash a newer release"
                      % ', '.join(_missing))
del _missing

# HAL name -> driver property.
PROPS = {
    'brightness': 'brightness', 'contrast': 'contrast', 'saturation': 'saturation',
    'sharpness': 'sharpness', 'denoise': 'denoise', 'gainceiling': 'gainceiling',
    'colorbar': 'colorbar', 'awb': 'whitebal', 'awb_gain': 'awb_gain', 'agc': 'gain_ctrl',
    'aec': 'exposure_ctrl', 'aec2': 'aec2', 'agc_gain': 'agc_gain', 'aec_value': 'aec_value',
    'hmirror': 'hmirror', 'vflip': 'vflip', 'special_effect': 'special_effect',
    'wb_mode': 'wb_mode', 'ae_level': 'ae_level', 'dcw': 'dcw', 'bpc': 'bpc', 'wpc': 'wpc',
    'raw_gma': 'raw_gma', 'lenc': 'lenc',
}
XCLK_HZ = 20000000   # the sensor clock when camera.xclk_freq is 0 (the default)
WAIT_POLLS = 2000  # event-loop turns to wait for a frame before capture() waits itself
FLAGS = ('colorbar', 'awb', 'awb_gain', 'agc', 'aec', 'aec2', 'hmirror', 'vflip', 'dcw', 'bpc',
         'wpc', 'raw_gma', 'lenc')


def percent(quality):
    """Our 0-63 (lower = better) JPEG quality as the driver's 0-100 % (higher = better)."""
    return max(0, min(100, 100 - (quality * 100 + 31) // 63))


def size_attr(name):
    """FrameSize attribute for a framesize name ('96X96' is R96X96, '128X128' is R128x128)."""
    if name[0].isdigit():
        return 'R128x128' if name == '128X128' else 'R' + name
    return name


def frame_size(name):
    """The driver's FrameSize value for a framesize name, or None if it has none."""
    return getattr(camera.FrameSize, size_attr(name), None)


class CnadlerCamera(Camera):
    name = 'cnadler'
    SUPPORTED = tuple(PROPS) + ('framesize', 'quality')

    def __init__(self, config=None):
        Camera.__init__(self, config)
        self._cam = None   # the driver's object, made by _init()

    def _driver(self):
        cam = self._cam
        if cam is None:
            raise OSError('camera not initialised')
        return cam

    def _can_size(self, name):
        return frame_size(name) is not None

    def _init(self):
        # Two buffers + LATEST: always the freshest frame. The board firmware bakes in the pins;
        # xclk_freq is passed explicitly on purpose (the driver's default looked wrong).
        self._cam = None
        self._cam = camera.Camera(
            pixel_format=camera.PixelFormat.JPEG, frame_size=frame_size(self.framesize),
            jpeg_quality=percent(self.settings['quality']),
            fb_count=self.config.get('fb_count', 2), grab_mode=camera.GrabMode.LATEST,
            xclk_freq=self.config.get('xclk_freq') or XCLK_HZ, init=True)

    def _deinit(self):
        if self._cam is not None:
            self._cam.deinit()

    def _resize(self, framesize):
        # reconfigure() restarts the camera: new frame buffers, and a sensor reset that forgets
        # every setting but the frame size and quality.
        self._driver().reconfigure(frame_size=frame_size(framesize))
        self._replay()

    def _capture(self):
        buf = self._driver().capture()
        return buf if buf else None

    async def acapture(self):
        """Hand the last buffer back, let the driver fill the next one while other tasks run
        (no blocking in capture()), then take it; as cnadler86's own acamera does."""
        if not self.ready or self.pending_size:
            return self.capture()  # errors, and a pending frame size change, the usual way
        cam = self._driver()
        cam.free_buffer()
        for _ in range(WAIT_POLLS):
            if cam.frame_available():
                break
            await asyncio.sleep(0)
        return self.capture()

    def _set(self, name, value):
        cam = self._driver()
        if name == 'framesize':
            self._resize(value)
        elif name == 'quality':
            cam.quality = percent(value)
        else:
            setattr(cam, PROPS[name], bool(value) if name in FLAGS else value)
        return True
