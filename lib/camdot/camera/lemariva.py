"""Backend for lemariva's micropython-camera-driver (module-level `camera.init/capture/deinit`).

    cam = LemarivaCamera({'framesize': 'QVGA'}); cam.init(); data = cam.capture()

capture() returns a new bytes object (the driver copies the frame), or None. The driver has
setters only and JPEG quality 10-63 (lower = better): our 0-9 are clamped to 10.
"""
import camera  # the board firmware's driver (tests put a fake in sys.modules['camera'] first)

from camdot.camera import Camera

# HAL name -> the module's setter.
SETTERS = {
    'quality': camera.quality, 'brightness': camera.brightness, 'contrast': camera.contrast,
    'saturation': camera.saturation, 'special_effect': camera.speffect,
    'wb_mode': camera.whitebalance, 'vflip': camera.flip, 'hmirror': camera.mirror,
    'framesize': camera.framesize,
}


def frame_size(name):
    """The driver's FRAME_* value for a framesize name, or None if it has none."""
    return getattr(camera, 'FRAME_' + name, None)


class LemarivaCamera(Camera):
    name = 'lemariva'
    SUPPORTED = tuple(SETTERS)

    def _can_size(self, name):
        return frame_size(name) is not None

    def _init(self):
        loc = camera.DRAM if self.config.get('fb_location') == 'dram' else camera.PSRAM
        ok = camera.init(0, format=camera.JPEG, framesize=frame_size(self.framesize),
                         quality=max(10, self.settings['quality']), fb_location=loc)
        if not ok:
            raise OSError('camera init failed')

    def _deinit(self):
        camera.deinit()

    def _capture(self):
        buf = camera.capture()
        return buf if buf else None

    def _set(self, name, value):
        if name == 'framesize':
            value = frame_size(value)
        elif name == 'quality':
            value = max(10, value)
        # The setters return None, or False when the sensor is not there.
        return SETTERS[name](value) is not False
