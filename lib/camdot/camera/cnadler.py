"""Backend for cnadler86's micropython-camera-API (`from camera import Camera, FrameSize, ...`).

    cam = CnadlerCamera({'framesize': 'QVGA', 'quality': 12}); cam.init(); mv = cam.capture()

capture() returns the driver's zero-copy memoryview over its frame buffer (valid until the next
capture()). Settings are the driver object's properties; the frame size goes through
reconfigure(). The driver's quality is a percentage (higher = better); ours is 0-63 (lower =
better).
"""
import asyncio

import camera  # the board firmware's driver (tests put a fake in sys.modules['camera'] first)

from camdot.camera import Camera

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
        self._size = self.framesize
        # The board firmware bakes in the pins; xclk_freq is passed explicitly on purpose (the
        # driver's default looked wrong). Two buffers + LATEST: always the freshest frame.
        self._cam = camera.Camera(
            pixel_format=camera.PixelFormat.JPEG, frame_size=frame_size(self._size),
            jpeg_quality=percent(self.settings['quality']),
            fb_count=self.config.get('fb_count', 2), grab_mode=camera.GrabMode.LATEST,
            xclk_freq=self.config.get('xclk_freq', 20000000), init=False)

    def _can_size(self, name):
        return frame_size(name) is not None

    def _init(self):
        cam = self._cam
        cam.init()
        if self.framesize != self._size:  # changed before the first init
            self._set('framesize', self.framesize)
        cam.quality = percent(self.settings['quality'])

    def _deinit(self):
        self._cam.deinit()

    def _capture(self):
        buf = self._cam.capture()
        return buf if buf else None

    async def acapture(self):
        """Hand the last buffer back, let the driver fill the next one while other tasks run
        (no blocking in capture()), then take it; as cnadler86's own acamera does."""
        if not self.ready or self._resize:
            return self.capture()  # errors, and a pending frame size change, the usual way
        cam = self._cam
        cam.free_buffer()
        for _ in range(WAIT_POLLS):
            if cam.frame_available():
                break
            await asyncio.sleep(0)
        return self.capture()

    def _set(self, name, value):
        cam = self._cam
        if name == 'framesize':
            cam.reconfigure(frame_size=frame_size(value))
            self._size = value
        elif name == 'quality':
            cam.quality = percent(value)
        else:
            setattr(cam, PROPS[name], bool(value) if name in FLAGS else value)
        return True
