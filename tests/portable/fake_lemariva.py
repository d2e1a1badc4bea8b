"""A stand-in for lemariva's module-level `camera` driver (micropython-camera-driver), as strict
as the driver.

Follows the driver's C code as published (src/modcamera.c at 1392e59, over esp32-camera);
tools/stubs/lemariva/camera.pyi declares the same API:
- init(id, format=, framesize=, quality=, ..., xclk_freq=, fb_size=, fb_location=): one
  positional argument (ignored), the rest keyword-only; ValueError for a format, frame size or
  xclk frequency (10 or 20 MHz) it does not know; quality is NOT checked (the sensor clamps it).
  True, or OSError('Camera Init Failed'). Calling it while the camera runs fails too, and
  esp32-camera's failure path stops the running camera on the way.
- deinit() -> True, or False when the camera was not running.
- capture() -> a new bytes object (a copy of the frame), or False (not running, or no frame);
  MemoryError when the copy does not fit the heap.
- the setters return None, or False when the camera is not running (before any check);
  framesize() raises ValueError for an unknown size. They never report a value the sensor
  ignores. The frame buffers keep the size init() made them for: a larger frame size set later
  gives no frames (esp32-camera's FB-OVF), capture() answers False.

Simulated hardware and fault knobs (module globals; reset() restores them):
sensor_present (False: a loose ribbon cable, every init fails), memory_max_size (frame sizes
above it get no frame buffers: init fails), fail_init (the next N inits fail), false_capture
(the next N captures give False), memory_error_capture (the next N copies raise MemoryError).
`calls` records every call; `state` is the driver's.
"""
JPEG = 4
YUV422 = 1
GRAYSCALE = 3
RGB565 = 0
FRAME_96X96 = 0
FRAME_QQVGA = 1
FRAME_QCIF = 2
FRAME_HQVGA = 3
FRAME_240X240 = 4
FRAME_QVGA = 5
FRAME_CIF = 6
FRAME_HVGA = 7
FRAME_VGA = 8
FRAME_SVGA = 9
FRAME_XGA = 10
FRAME_HD = 11
FRAME_SXGA = 12
FRAME_UXGA = 13
FRAME_FHD = 14
FRAME_P_HD = 15
FRAME_P_3MP = 16
FRAME_QXGA = 17
FRAME_QHD = 18
FRAME_WQXGA = 19
FRAME_P_FHD = 20
FRAME_QSXGA = 21
WB_NONE = 0
WB_SUNNY = 1
WB_CLOUDY = 2
WB_OFFICE = 3
WB_HOME = 4
EFFECT_NONE = 0
EFFECT_NEG = 1
EFFECT_BW = 2
EFFECT_RED = 3
EFFECT_GREEN = 4
EFFECT_BLUE = 5
EFFECT_RETRO = 6
XCLK_10MHz = 10000000
XCLK_20MHz = 20000000
DRAM = 1
PSRAM = 2

FORMATS = (JPEG, YUV422, GRAYSCALE, RGB565)
FRAME_SIZES = tuple(range(FRAME_96X96, FRAME_QSXGA + 1))
OV2640_MAX_SIZE = FRAME_UXGA

calls = []
state = {}


def reset():
    """Fresh hardware: a sensor that answers, memory for any frame size, no faults."""
    global sensor_present, memory_max_size, fail_init, false_capture, memory_error_capture
    sensor_present = True
    memory_max_size = FRAME_QSXGA
    fail_init = false_capture = memory_error_capture = 0
    del calls[:]
    state.clear()
    state.update(inited=False, count=0, framesize=None, buffer_size=None)


def _take(name):
    g = globals()
    if g[name]:
        g[name] -= 1
        return True
    return False


def init(id, *, format=JPEG, framesize=FRAME_VGA, quality=12, xclk_freq=XCLK_10MHz,
         fb_size=1, fb_location=DRAM, **pins):
    calls.append(('init', id, format, framesize, quality, fb_location))
    if format not in FORMATS:
        raise ValueError('Image format is not valid')
    if framesize not in FRAME_SIZES:
        raise ValueError('Image framesize is not valid')
    if xclk_freq not in (XCLK_10MHz, XCLK_20MHz):
        raise ValueError('xclk frequency is not valid')
    size = min(framesize, OV2640_MAX_SIZE)
    if state['inited'] or not sensor_present or _take('fail_init') or size > memory_max_size:
        state['inited'] = False      # esp_camera_init's failure path: esp_camera_deinit()
        raise OSError('Camera Init Failed')
    state.update(inited=True, framesize=size, buffer_size=size, quality=quality)
    return True


def deinit():
    calls.append(('deinit',))
    was = state['inited']
    state['inited'] = False
    return was


def capture():
    calls.append(('capture',))
    if not state['inited'] or _take('false_capture'):
        return False
    if state['framesize'] > state['buffer_size']:
        return False   # the frame overflows the buffers made at init (FB-OVF): no frame
    if _take('memory_error_capture'):
        raise MemoryError('memory allocation failed, allocating 8192 bytes')
    state['count'] += 1
    body = ('frame %d fs%d' % (state['count'], state['framesize'])).encode()
    return b'\xff\xd8\xff\xfe' + bytes((0, len(body) + 2)) + body + b'\xff\xd9'


def _setter(name):
    def set(value):
        calls.append((name, value))
        if not state['inited']:
            return False
        state[name] = int(value)
        return None
    return set


flip = _setter('flip')
mirror = _setter('mirror')
quality = _setter('quality')
contrast = _setter('contrast')
saturation = _setter('saturation')
brightness = _setter('brightness')
speffect = _setter('speffect')
whitebalance = _setter('whitebalance')


def framesize(value):
    calls.append(('framesize', value))
    if not state['inited']:
        return False
    if value not in FRAME_SIZES:
        raise ValueError('Image framesize is not valid')
    state['framesize'] = min(value, OV2640_MAX_SIZE)
    return None


reset()
