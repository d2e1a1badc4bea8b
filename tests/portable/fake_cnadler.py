"""A stand-in for cnadler86's `camera` module (micropython-camera-API), mirroring the API camdot
calls (see tools/stubs/cnadler/camera.pyi): Camera with read/write properties, reconfigure(),
init()/deinit(), capture() -> a memoryview over ONE reused buffer (overwritten by the next
capture, like the driver's frame buffer). Knobs for tests: Camera.fail_init, fail_capture,
none_capture (counts of failures to inject), not_ready (frame_available() polls that say no); Camera.instances[-1] is the latest one made.
"""


class GrabMode:
    WHEN_EMPTY = 0
    LATEST = 1


class PixelFormat:
    RGB565 = 0
    YUV422 = 1
    GRAYSCALE = 3
    JPEG = 4


class GainCeiling:
    X2 = 0
    X4 = 1
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


PROPERTIES = ('frame_size', 'contrast', 'brightness', 'saturation', 'sharpness', 'denoise',
              'gainceiling', 'quality', 'colorbar', 'whitebal', 'gain_ctrl', 'exposure_ctrl',
              'hmirror', 'vflip', 'aec2', 'awb_gain', 'agc_gain', 'aec_value', 'special_effect',
              'wb_mode', 'ae_level', 'dcw', 'bpc', 'wpc', 'raw_gma', 'lenc')


def frame_bytes(n, tag):
    """The fake JPEG of capture number n: SOI, a comment with n and tag, EOI."""
    body = ('frame %d %s' % (n, tag)).encode()
    return b'\xff\xd8\xff\xfe' + bytes((0, len(body) + 2)) + body + b'\xff\xd9'


class Camera:
    instances = []

    def __init__(self, *, pixel_format=PixelFormat.RGB565, frame_size=FrameSize.QVGA,
                 jpeg_quality=85, fb_count=1, grab_mode=GrabMode.WHEN_EMPTY,
                 xclk_freq=20000000, init=True, **pins):
        object.__setattr__(self, 'props', {'frame_size': frame_size, 'quality': jpeg_quality})
        object.__setattr__(self, 'args', dict(pixel_format=pixel_format, frame_size=frame_size,
                                     jpeg_quality=jpeg_quality, fb_count=fb_count,
                                     grab_mode=grab_mode, xclk_freq=xclk_freq))
        object.__setattr__(self, 'calls', [])
        object.__setattr__(self, 'fail_init', 0)
        object.__setattr__(self, 'fail_capture', 0)
        object.__setattr__(self, 'none_capture', 0)
        object.__setattr__(self, 'not_ready', 0)
        object.__setattr__(self, 'count', 0)
        object.__setattr__(self, 'inited', False)
        object.__setattr__(self, 'buf', bytearray(64))
        Camera.instances[:] = [self]  # the latest only: old fakes would fill a small heap
        if init:
            self.init()

    def __setattr__(self, name, value):
        # Only the driver's properties and the test knobs can be set, like the real C object.
        if name in PROPERTIES:
            self.calls.append(('set', name, value))
            self.props[name] = value
        elif name in ('fail_init', 'fail_capture', 'none_capture', 'not_ready'):
            object.__setattr__(self, name, value)
        else:
            raise AttributeError(name)

    def __getattr__(self, name):
        props = self.props
        if name in PROPERTIES:
            return props.get(name, 0)
        raise AttributeError(name)

    def init(self):
        self.calls.append(('init',))
        if self.fail_init:
            object.__setattr__(self, 'fail_init', self.fail_init - 1)
            raise OSError('Camera Init Failed')
        object.__setattr__(self, 'inited', True)

    def deinit(self):
        self.calls.append(('deinit',))
        object.__setattr__(self, 'inited', False)

    def reconfigure(self, *, frame_size=None, pixel_format=None, grab_mode=None, fb_count=None):
        self.calls.append(('reconfigure', frame_size))
        if frame_size is not None:
            self.props['frame_size'] = frame_size
        # The real driver re-initialises: the old frame buffer is gone.
        self.buf[:] = bytes(len(self.buf))

    def frame_available(self):
        self.calls.append(('frame_available',))
        if self.not_ready:
            object.__setattr__(self, 'not_ready', self.not_ready - 1)
            return False
        return self.inited

    def free_buffer(self):
        self.calls.append(('free_buffer',))

    def capture(self):
        if not self.inited:
            raise OSError('Camera not initialized')
        if self.fail_capture:
            object.__setattr__(self, 'fail_capture', self.fail_capture - 1)
            raise OSError('capture failed')
        if self.none_capture:
            object.__setattr__(self, 'none_capture', self.none_capture - 1)
            return None
        object.__setattr__(self, 'count', self.count + 1)
        data = frame_bytes(self.count, 'fs%d' % self.props['frame_size'])
        self.buf[:len(data)] = data
        return memoryview(self.buf)[:len(data)]

    @property
    def pixel_width(self):
        return 0

    @property
    def sensor_name(self):
        return 'FAKE'
