"""Backend for lemariva's micropython-camera-driver (module-level `camera.init/capture/deinit`).

    cam = LemarivaCamera({'framesize': 'QVGA'}); cam.init(); data = cam.capture()

capture() returns a new bytes object (the driver copies the frame), or None. The driver has
setters only and JPEG quality 10-63 (lower = better): our 0-9 are clamped to 10.
"""
from camdot.camera import Camera

# HAL name -> module-level setter.
SETTERS = {
    'quality': 'quality', 'brightness': 'brightness', 'contrast': 'contrast',
    'saturation': 'saturation', 'special_effect': 'speffect', 'wb_mode': 'whitebalance',
    'vflip': 'flip', 'hmirror': 'mirror', 'framesize': 'framesize',
}


class LemarivaCamera(Camera):
    name = 'lemariva'
    SUPPORTED = tuple(SETTERS)

    def __init__(self, config=None, driver=None):
        Camera.__init__(self, config)
        if driver is None:
            import camera as driver
        self.driver = driver

    def _size(self, name):
        return getattr(self.driver, 'FRAME_' + name, None)

    def _can_size(self, name):
        return self._size(name) is not None

    def _init(self):
        d = self.driver
        loc = d.DRAM if self.config.get('fb_location') == 'dram' else d.PSRAM
        ok = d.init(0, format=d.JPEG, framesize=self._size(self.framesize),
                    quality=max(10, self.settings['quality']), fb_location=loc)
        if not ok:
            raise OSError('camera init failed')

    def _deinit(self):
        self.driver.deinit()

    def _capture(self):
        buf = self.driver.capture()
        return buf if buf else None

    def _set(self, name, value):
        if name == 'framesize':
            value = self._size(value)
        elif name == 'quality':
            value = max(10, value)
        # The setters return None, or False when the sensor is not there.
        return getattr(self.driver, SETTERS[name])(value) is not False
