"""A stand-in for lemariva's module-level `camera` driver, mirroring the API camdot calls (see
tools/stubs/lemariva/camera.pyi): init(0, format=, framesize=, quality=, fb_location=) -> True
or OSError, capture() -> new bytes or False, deinit(), and setters only. Test knobs (module
globals): fail_init, fail_capture, false_capture; `calls` records every call; reset() clears.
"""
JPEG = 4
GRAYSCALE = 3
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
WB_NONE = 0
EFFECT_NONE = 0
XCLK_10MHz = 10000000
XCLK_20MHz = 20000000
DRAM = 1
PSRAM = 2

calls = []
state = {}


def reset():
    global fail_init, fail_capture, false_capture
    calls.clear()
    state.clear()
    state.update(inited=False, count=0)
    fail_init = fail_capture = false_capture = 0


reset()


def init(id, format=JPEG, framesize=FRAME_VGA, quality=12, fb_location=DRAM, **kwargs):
    global fail_init
    calls.append(('init', id, format, framesize, quality, fb_location))
    if not 10 <= quality <= 63:
        raise ValueError('quality')
    if state['inited'] or fail_init:
        if fail_init:
            fail_init -= 1
        raise OSError('Camera Init Failed')
    state['inited'] = True
    state['framesize'] = framesize
    return True


def deinit():
    calls.append(('deinit',))
    was = state['inited']
    state['inited'] = False
    return was


def capture():
    global fail_capture, false_capture
    if not state['inited'] or false_capture:
        if false_capture:
            false_capture -= 1
        return False
    if fail_capture:
        fail_capture -= 1
        raise OSError('capture failed')
    state['count'] += 1
    body = ('frame %d fs%d' % (state['count'], state['framesize'])).encode()
    return b'\xff\xd8\xff\xfe' + bytes((0, len(body) + 2)) + body + b'\xff\xd9'


def _setter(name):
    def set(value):
        calls.append((name, value))
        if not state['inited']:
            return False
        state[name] = value
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
    state['framesize'] = value
