"""Camera HAL: setting checks, backend selection and both ESP32 backends against driver fakes."""
import asyncio
import sys

from harness import raises

import fake_cnadler
import fake_lemariva
from camtools import use_driver
from camdot.camera import FRAMESIZES, check_setting, describe_error, detect, open_camera
from camdot.camera.unavailable import NO_DRIVER, NoCamera
from camdot.camera.sim import SimCamera


def test_framesizes_are_ordered_like_the_driver_enum():
    names = list(FRAMESIZES)
    assert names[0] == '96X96' and names[6] == 'QVGA' and names[10] == 'VGA'
    assert names[-1] == 'UXGA'
    assert FRAMESIZES['QVGA'] == (320, 240)
    assert FRAMESIZES['SVGA'] == (800, 600)


def test_check_setting_normalises_and_rejects():
    assert check_setting('framesize', 'vga') == 'VGA'
    assert check_setting('framesize', 6) == 'QVGA'
    assert check_setting('framesize', '10') == 'VGA'
    assert check_setting('brightness', '-2') == -2
    assert check_setting('hmirror', True) == 1
    assert check_setting('quality', 63) == 63
    for name, value in (('framesize', 'HUGE'), ('framesize', 99), ('brightness', 3),
                        ('quality', -1), ('contrast', 'a lot'), ('vflip', 2.5),
                        ('no_such_setting', 1)):
        exc = raises(ValueError, check_setting, name, value)
        assert str(exc), (name, value)


def test_backend_selection():
    assert open_camera({'backend': 'sim'}).name == 'sim'
    assert open_camera({}).name == 'sim'  # auto, off-board
    assert detect(False) == ('sim', '')
    cam = open_camera({'backend': 'ov2640'})   # a typo in config.json: no camera, and why
    assert isinstance(cam, NoCamera)
    exc = raises(OSError, cam.init)
    assert 'camera.backend must be one of' in str(exc) and 'ov2640' in str(exc)


def with_camera_module(module, func):
    saved = sys.modules.get('camera')
    try:
        if module is None:
            sys.modules.pop('camera', None)
        else:
            sys.modules['camera'] = module
        for name in ('camdot.camera.cnadler', 'camdot.camera.lemariva'):
            sys.modules.pop(name, None)
        return func()
    finally:
        if saved is None:
            sys.modules.pop('camera', None)
        else:
            sys.modules['camera'] = saved


def test_auto_detects_the_driver_api_on_the_board():
    assert with_camera_module(fake_cnadler, lambda: detect(True)) == ('cnadler', '')
    assert with_camera_module(fake_lemariva, lambda: detect(True)) == ('lemariva', '')
    use_driver(fake_lemariva)
    assert open_camera({'backend': 'auto'}, on_board=True).name == 'lemariva'
    use_driver(fake_cnadler)
    assert open_camera({'backend': 'auto'}, on_board=True).name == 'cnadler'


class Module:
    """A `camera` module of another make or version: just the names given."""

    def __init__(self, **names):
        for k, v in names.items():
            setattr(self, k, v)


def test_a_firmware_without_a_known_driver_gives_a_camera_that_says_why():
    # no driver at all (a MicroPython firmware without camera support)
    import_error = with_camera_module(None, lambda: detect(True))
    assert import_error == ('none', NO_DRIVER)
    cam = with_camera_module(None, lambda: open_camera({'backend': 'auto'}, on_board=True))
    assert isinstance(cam, NoCamera) and 'no camera driver' in str(raises(OSError, cam.init))
    # a `camera` module of a kind camdot does not know
    odd = Module(snap=1, start=2)
    backend, reason = with_camera_module(odd, lambda: detect(True))
    assert backend == 'none' and 'snap' in reason and 'cnadler86' in reason
    # a cnadler86 driver from before frame_available()/free_buffer(): an unknown version
    class OldCamera:
        def init(self):
            pass
    old = Module(Camera=OldCamera, FrameSize=fake_cnadler.FrameSize,
                 PixelFormat=fake_cnadler.PixelFormat, GrabMode=fake_cnadler.GrabMode)
    cam = with_camera_module(old, lambda: open_camera({'backend': 'auto'}, on_board=True))
    assert isinstance(cam, NoCamera), cam
    assert 'flash a newer release' in cam.reason and 'frame_available' in cam.reason
    # a lemariva-like driver without its JPEG constant
    cam = with_camera_module(Module(init=1, capture=2, deinit=3),
                             lambda: open_camera({'backend': 'lemariva'}, on_board=True))
    assert isinstance(cam, NoCamera) and 'JPEG' in cam.reason


def test_bad_config_values_fall_back_with_a_message():
    cam = SimCamera({'framesize': 'GIANT', 'quality': 99})
    assert cam.framesize == 'QVGA' and cam.get('quality') == 12


def test_errors_are_described_in_words_a_user_can_act_on():
    assert describe_error(OSError(95, 'ESP_ERR_NOT_SUPPORTED')).startswith(
        'camera not detected: check the ribbon cable')
    assert 'ESP_ERR_NOT_SUPPORTED' in describe_error(OSError(95, 'ESP_ERR_NOT_SUPPORTED'))
    assert describe_error(OSError(-261, 'ESP_ERR_NOT_FOUND')).startswith('camera not detected')
    assert describe_error(OSError(1, 'ESP_FAIL')).startswith('not enough memory')
    assert describe_error(MemoryError('allocating 90000 bytes')).startswith('not enough memory')
    assert describe_error(OSError(fake_cnadler.FIRST_FRAME)).startswith('the camera answers but')
    assert describe_error(OSError('Camera Init Failed')).startswith('the camera did not start')
    assert describe_error(OSError('something else')) == 'OSError: something else'


# ---- cnadler86 ----

def cnadler(**config):
    cfg = {'backend': 'cnadler', 'framesize': 'QVGA', 'quality': 12}
    cfg.update(config)
    use_driver(fake_cnadler)
    return open_camera(cfg)


def driver():
    return fake_cnadler.Camera.instances[-1]


def test_cnadler_makes_the_driver_object_when_it_starts():
    cam = cnadler()
    assert cam.name == 'cnadler'
    assert fake_cnadler.Camera.instances == []   # opening touches no hardware
    cam.init()
    drv = driver()
    from camdot.camera.cnadler import percent
    assert drv.args['pixel_format'] == fake_cnadler.PixelFormat.JPEG
    assert drv.args['frame_size'] == fake_cnadler.FrameSize.QVGA
    assert drv.args['grab_mode'] == fake_cnadler.GrabMode.LATEST
    assert drv.args['fb_count'] == 2
    assert drv.args['xclk_freq'] == 20000000
    assert drv.args['jpeg_quality'] == percent(12) == 81
    assert percent(0) == 100 and percent(63) == 0
    assert drv.inited and cam.ready


def test_cnadler_a_dead_camera_fails_in_the_constructor_and_is_retried():
    cam = cnadler()
    fake_cnadler.sensor_present = False              # the ribbon cable is loose
    exc = raises(OSError, cam.init)
    assert exc.args == fake_cnadler.ERR_NOT_SUPPORTED
    assert not cam.ready and describe_error(exc).startswith('camera not detected')
    assert cam.framesize == 'QVGA'                   # a dead camera changes no setting
    fake_cnadler.no_first_frame = 1                  # found, but no picture
    fake_cnadler.sensor_present = True
    exc = raises(OSError, cam.init)
    assert 'initial frame' in str(exc) and not driver().inited
    cam.init()                                       # reseated: the next try works
    assert cam.ready and cam.capture() is not None


def test_cnadler_capture_is_the_drivers_zero_copy_view():
    cam = cnadler()
    cam.init()
    a = cam.capture()
    assert isinstance(a, memoryview)
    assert bytes(a[:2]) == b'\xff\xd8' and bytes(a[-2:]) == b'\xff\xd9'
    first = bytes(a)
    b = cam.capture()
    # The same driver buffer: the first view now shows the second frame (valid until next capture).
    assert bytes(a[:len(b)]) == bytes(b) and bytes(b) != first


def test_cnadler_settings_map_to_driver_properties():
    cam = cnadler()
    cam.init()
    drv = driver()
    assert cam.apply('brightness', 2) is True and drv.brightness == 2
    assert cam.apply('awb', 0) is True and drv.whitebal is False
    assert cam.apply('agc', 1) is True and drv.gain_ctrl is True
    assert cam.apply('aec', True) is True and drv.exposure_ctrl is True
    assert cam.apply('quality', 63) is True and drv.quality == 0
    assert cam.apply('led_intensity', 10) is False  # the board's LED, not the camera's
    raises(ValueError, cam.apply, 'brightness', 5)
    assert drv.brightness == 2


def test_cnadler_a_value_the_sensor_refuses_is_undone_and_said():
    cam = cnadler()
    cam.init()
    exc = raises(ValueError, cam.apply, 'sharpness', 1)   # the OV2640 has no sharpness control
    assert 'refused sharpness=1' in str(exc) and 'Invalid setting for sharpness' in str(exc)
    assert 'sharpness' not in cam.settings                # not kept, not replayed at a restart
    assert cam.apply('contrast', 1) is True
    fake_cnadler.refuse.add('contrast')                    # a sensor that refuses every contrast
    exc = raises(ValueError, cam.apply, 'contrast', 2)
    assert 'kept 1' in str(exc) and cam.get('contrast') == 1
    cam.reinit()                                           # still works: the refused value is gone
    assert cam.ready


def test_cnadler_a_saved_value_the_sensor_refuses_does_not_stop_the_camera():
    cam = cnadler()
    rolled = []
    cam.on_rollback = lambda *a: rolled.append(a)
    assert cam.apply('sharpness', 2) is True               # before init: kept for init
    assert cam.apply('vflip', 1) is True
    cam.init()
    assert cam.ready and cam.capture() is not None
    assert rolled and rolled[0][:3] == ('sharpness', 2, None), rolled
    assert 'sharpness' not in cam.settings and driver().vflip is True


def test_cnadler_framesize_waits_for_the_next_capture_and_keeps_the_settings():
    cam = cnadler()
    cam.init()
    drv = driver()
    assert cam.apply('vflip', 1) is True and cam.apply('brightness', -1) is True
    cam.capture()
    assert cam.apply('framesize', '128X128') is True
    assert cam.framesize == '128X128'
    # Not yet: reconfigure() frees the frame buffers a viewer may still be sending.
    assert ('reconfigure', fake_cnadler.FrameSize.R128x128) not in drv.calls
    buf = cam.capture()
    assert ('reconfigure', fake_cnadler.FrameSize.R128x128) in drv.calls
    assert b'fs2' in bytes(buf)
    # reconfigure() reset the sensor: the settings were set again
    assert drv.vflip is True and drv.brightness == -1


def test_cnadler_a_frame_size_without_memory_rolls_back_to_the_last_that_worked():
    cam = cnadler()
    rolled = []
    cam.on_rollback = lambda *a: rolled.append(a)
    cam.init()
    cam.apply('hmirror', 1)
    fake_cnadler.memory_max_size = fake_cnadler.FrameSize.SVGA   # no room for bigger buffers
    assert cam.apply('framesize', 'UXGA') is True
    buf = cam.capture()                                   # the change fails, QVGA comes back
    assert buf is not None and b'fs6' in bytes(buf)
    assert cam.framesize == 'QVGA' and cam.ready
    assert rolled[0][:3] == ('framesize', 'UXGA', 'QVGA')
    assert rolled[0][3].startswith('not enough memory') and 'ESP_FAIL' in rolled[0][3]
    assert driver().hmirror is True                       # settings survived the restarts
    assert cam.apply('framesize', 'SVGA') is True         # one that fits still works
    assert b'fs11' in bytes(cam.capture())


def test_cnadler_a_saved_frame_size_without_memory_starts_at_one_that_works():
    cam = cnadler(framesize='VGA')
    rolled = []
    cam.on_rollback = lambda *a: rolled.append(a)
    fake_cnadler.memory_max_size = fake_cnadler.FrameSize.CIF
    cam.apply('framesize', 'UXGA')                        # restored from the settings file
    cam.init()
    assert cam.ready and cam.framesize == 'QVGA'          # the config's VGA does not fit either
    assert rolled[0][:3] == ('framesize', 'UXGA', 'QVGA')
    assert b'fs6' in bytes(cam.capture())


def test_cnadler_a_dead_camera_keeps_its_frame_size():
    cam = cnadler()
    cam.apply('framesize', 'VGA')
    fake_cnadler.sensor_present = False
    raises(OSError, cam.init)
    assert cam.framesize == 'VGA'                         # not the setting's fault
    fake_cnadler.sensor_present = True
    cam.init()
    assert cam.framesize == 'VGA'


async def test_cnadler_acapture_waits_for_the_frame_without_blocking():
    cam = cnadler()
    cam.init()
    drv = driver()
    fake_cnadler.not_ready = 3
    ticks = []

    async def other_task():
        for _ in range(5):
            ticks.append(1)
            await asyncio.sleep(0)
    t = asyncio.create_task(other_task())
    del drv.calls[:]
    buf = await cam.acapture()
    assert bytes(buf[:2]) == b'\xff\xd8'
    assert drv.calls[0] == ('free_buffer',)  # the old buffer goes back first
    assert drv.calls.count(('frame_available',)) == 4
    assert len(ticks) >= 3  # the other task ran while the driver was busy
    await t


def test_cnadler_framesize_set_before_init():
    cam = cnadler()
    assert cam.apply('framesize', 'VGA') is True  # e.g. restored from saved settings
    cam.init()
    assert driver().args['frame_size'] == fake_cnadler.FrameSize.VGA
    assert b'fs10' in bytes(cam.capture())


def test_cnadler_reinit_replays_settings_and_none_means_no_frame():
    cam = cnadler()
    cam.apply('vflip', 1)  # before init: kept for init
    cam.init()
    drv = driver()
    assert ('set', 'vflip', True) in drv.calls
    fake_cnadler.none_capture = 1
    assert cam.capture() is None
    del drv.calls[:]
    cam.reinit()
    assert drv.calls[0] == ('deinit',) and drv.calls[1][0] == 'construct'
    assert driver() is drv                    # the driver's singleton, set up again
    assert ('set', 'vflip', True) in drv.calls
    assert cam.capture() is not None
    fake_cnadler.fail_init = 1
    raises(OSError, cam.reinit)
    assert not cam.ready
    raises(OSError, cam.capture)
    cam.reinit()
    assert cam.capture() is not None


def test_the_cnadler_fake_is_as_strict_as_the_driver():
    use_driver(fake_cnadler)
    F = fake_cnadler
    raises(ValueError, F.Camera, jpeg_quality=101)
    raises(ValueError, F.Camera, xclk_freq=41)           # MHz: more than 40
    raises(ValueError, F.Camera, grab_mode=7)
    raises(TypeError, F.Camera, 1)                       # keyword arguments only
    drv = F.Camera(frame_size=F.FrameSize.QVGA, init=False)
    assert F.calls[-1][0] == 'construct' and not drv.inited
    assert F.Camera() is drv                              # a singleton
    drv.deinit()
    raises(AttributeError, getattr, drv, 'brightness')    # properties need a started camera
    raises(AttributeError, setattr, drv, 'brightness', 1)
    assert raises(OSError, drv.capture).args[0] == F.ENOENT
    raises(OSError, drv.frame_available)
    raises(OSError, drv.reconfigure, frame_size=F.FrameSize.VGA)
    drv.init()
    raises(ValueError, setattr, drv, 'pixel_width', 5)    # read-only
    raises(AttributeError, setattr, drv, 'no_such_thing', 1)
    drv.agc_gain = 99
    assert drv.agc_gain == 30                              # clamped by the sensor
    drv.frame_size = F.FrameSize.QSXGA
    assert drv.frame_size == F.FrameSize.UXGA              # scaled to the OV2640's maximum
    F.memory_max_size = F.FrameSize.VGA
    raises(OSError, drv.reconfigure, frame_size=F.FrameSize.SVGA)
    assert not drv.inited                                  # a failed reconfigure leaves it stopped
    raises(OSError, drv.init)                              # ... with the size that failed
    F.memory_max_size = F.FrameSize.QSXGA
    F.fail_deinit = 1
    drv.init()
    raises(OSError, drv.deinit)


# ---- lemariva ----

def lemariva(**config):
    cfg = {'backend': 'lemariva', 'framesize': 'QVGA', 'quality': 12}
    cfg.update(config)
    use_driver(fake_lemariva)
    return open_camera(cfg)


def test_lemariva_init_and_capture():
    cam = lemariva(quality=4)
    cam.init()
    call = fake_lemariva.calls[0]
    assert call == ('init', 0, fake_lemariva.JPEG, fake_lemariva.FRAME_QVGA, 10,
                    fake_lemariva.PSRAM)
    buf = cam.capture()
    assert isinstance(buf, bytes) and buf[:2] == b'\xff\xd8'
    fake_lemariva.false_capture = 1
    assert cam.capture() is None


def test_lemariva_a_dead_camera_fails_init_and_a_copy_can_run_out_of_memory():
    cam = lemariva()
    fake_lemariva.sensor_present = False
    exc = raises(OSError, cam.init)
    assert describe_error(exc).startswith('the camera did not start: check the ribbon cable')
    fake_lemariva.sensor_present = True
    cam.init()
    fake_lemariva.memory_error_capture = 1
    raises(MemoryError, cam.capture)                       # the stream treats it as a failure
    assert cam.capture()[:2] == b'\xff\xd8'


def test_lemariva_settings():
    cam = lemariva()
    cam.init()
    assert cam.apply('vflip', 1) is True and ('flip', 1) in fake_lemariva.calls
    assert cam.apply('hmirror', 0) is True and ('mirror', 0) in fake_lemariva.calls
    assert cam.apply('special_effect', 2) is True and ('speffect', 2) in fake_lemariva.calls
    assert cam.apply('wb_mode', 3) is True and ('whitebalance', 3) in fake_lemariva.calls
    assert cam.apply('quality', 5) is True and ('quality', 10) in fake_lemariva.calls
    assert cam.apply('sharpness', 1) is False  # no setter in this driver
    assert cam.apply('framesize', '320X320') is False  # not in its frame size list
    assert cam.framesize == 'QVGA'
    assert cam.apply('framesize', 'VGA') is True
    data = cam.capture()                      # restarted with buffers for VGA: frames come
    assert data and b'fs%d' % fake_lemariva.FRAME_VGA in data
    assert fake_lemariva.state['buffer_size'] == fake_lemariva.FRAME_VGA


def test_lemariva_a_frame_size_without_memory_rolls_back():
    cam = lemariva()
    rolled = []
    cam.on_rollback = lambda *a: rolled.append(a)
    cam.init()
    cam.apply('brightness', 1)
    fake_lemariva.memory_max_size = fake_lemariva.FRAME_CIF   # no PSRAM: DRAM buffers only
    assert cam.apply('framesize', 'VGA') is True
    data = cam.capture()
    assert data and b'fs%d' % fake_lemariva.FRAME_QVGA in data
    assert cam.framesize == 'QVGA' and rolled[0][:3] == ('framesize', 'VGA', 'QVGA')
    assert fake_lemariva.state.get('brightness') == 1


def test_lemariva_reinit_after_failure():
    cam = lemariva()
    cam.init()
    cam.apply('brightness', -1)
    fake_lemariva.false_capture = 1
    assert cam.capture() is None
    del fake_lemariva.calls[:]
    cam.reinit()  # the driver refuses a second init without deinit: reinit deinits first
    assert fake_lemariva.calls[0] == ('deinit',)
    assert fake_lemariva.calls[1][0] == 'init'
    assert ('brightness', -1) in fake_lemariva.calls
    assert cam.capture()[:2] == b'\xff\xd8'


def test_the_lemariva_fake_is_as_strict_as_the_driver():
    use_driver(fake_lemariva)
    L = fake_lemariva
    raises(ValueError, L.init, 0, format=99)
    raises(ValueError, L.init, 0, framesize=99)
    raises(ValueError, L.init, 0, xclk_freq=16000000)
    raises(TypeError, L.init)                              # the id is required
    assert L.capture() is False and L.deinit() is False   # not running
    assert L.brightness(1) is False and L.framesize(99) is False   # False before any check
    assert L.init(0, quality=2) is True                    # quality is not checked
    raises(OSError, L.init, 0)                             # again while running: fails ...
    assert L.state['inited'] is False                     # ... and stops the camera
    L.init(0, framesize=L.FRAME_QVGA)
    raises(ValueError, L.framesize, 99)
    L.framesize(L.FRAME_VGA)                               # bigger than the buffers: no frames
    assert L.capture() is False
