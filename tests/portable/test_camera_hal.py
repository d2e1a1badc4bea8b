"""Camera HAL: setting checks, backend selection and both ESP32 backends against driver fakes."""
import asyncio
import sys

from harness import raises

import fake_cnadler
import fake_lemariva
from camtools import use_driver
from camdot.camera import FRAMESIZES, check_setting, detect, open_camera
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
    assert detect('linux') == 'sim'
    exc = raises(ValueError, open_camera, {'backend': 'ov2640'})
    assert 'backend' in str(exc)


def test_auto_detects_the_driver_api_on_the_board():
    saved = sys.modules.get('camera')
    try:
        sys.modules['camera'] = fake_cnadler
        assert detect('esp32') == 'cnadler'
        sys.modules['camera'] = fake_lemariva
        assert detect('esp32') == 'lemariva'
        use_driver(fake_lemariva)
        cam = open_camera({'backend': 'auto'}, platform='esp32')
        assert cam.name == 'lemariva'
        use_driver(fake_cnadler)
        assert open_camera({'backend': 'auto'}, platform='esp32').name == 'cnadler'
    finally:
        if saved is None:
            sys.modules.pop('camera', None)
        else:
            sys.modules['camera'] = saved


def test_bad_config_values_fall_back_with_a_message():
    cam = SimCamera({'framesize': 'GIANT', 'quality': 99})
    assert cam.framesize == 'QVGA' and cam.get('quality') == 12


# ---- cnadler86 ----

def cnadler(**config):
    cfg = {'backend': 'cnadler', 'framesize': 'QVGA', 'quality': 12}
    cfg.update(config)
    use_driver(fake_cnadler)
    return open_camera(cfg)


def test_cnadler_init_arguments():
    cam = cnadler()
    assert cam.name == 'cnadler'
    cam.init()
    drv = fake_cnadler.Camera.instances[-1]
    from camdot.camera.cnadler import percent
    assert drv.args['pixel_format'] == fake_cnadler.PixelFormat.JPEG
    assert drv.args['frame_size'] == fake_cnadler.FrameSize.QVGA
    assert drv.args['grab_mode'] == fake_cnadler.GrabMode.LATEST
    assert drv.args['fb_count'] == 2
    assert drv.args['xclk_freq'] == 20000000
    assert drv.args['jpeg_quality'] == percent(12) == 81
    assert percent(0) == 100 and percent(63) == 0


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
    drv = fake_cnadler.Camera.instances[-1]
    assert cam.apply('brightness', 2) is True and drv.brightness == 2
    assert cam.apply('awb', 0) is True and drv.whitebal is False
    assert cam.apply('agc', 1) is True and drv.gain_ctrl is True
    assert cam.apply('aec', True) is True and drv.exposure_ctrl is True
    assert cam.apply('quality', 63) is True and drv.quality == 0
    assert cam.apply('led_intensity', 10) is False  # the board's LED, not the camera's
    raises(ValueError, cam.apply, 'brightness', 5)
    assert drv.brightness == 2


def test_cnadler_framesize_waits_for_the_next_capture():
    cam = cnadler()
    cam.init()
    drv = fake_cnadler.Camera.instances[-1]
    cam.capture()
    assert cam.apply('framesize', '128X128') is True
    assert cam.framesize == '128X128'
    # Not yet: reconfigure() frees the frame buffers a viewer may still be sending.
    assert ('reconfigure', fake_cnadler.FrameSize.R128x128) not in drv.calls
    buf = cam.capture()
    assert drv.calls[-1] == ('reconfigure', fake_cnadler.FrameSize.R128x128)
    assert b'fs2' in bytes(buf)


async def test_cnadler_acapture_waits_for_the_frame_without_blocking():
    cam = cnadler()
    cam.init()
    drv = fake_cnadler.Camera.instances[-1]
    drv.not_ready = 3
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
    drv = fake_cnadler.Camera.instances[-1]
    assert drv.args['frame_size'] == fake_cnadler.FrameSize.QVGA and not drv.inited
    assert cam.apply('framesize', 'VGA') is True  # e.g. restored from saved settings
    cam.init()
    assert drv.calls[:2] == [('init',), ('reconfigure', fake_cnadler.FrameSize.VGA)]
    assert b'fs10' in bytes(cam.capture())


def test_cnadler_reinit_replays_settings_and_none_means_no_frame():
    cam = cnadler()
    cam.apply('vflip', 1)  # before init: kept for init
    cam.init()
    drv = fake_cnadler.Camera.instances[-1]
    assert ('set', 'vflip', True) in drv.calls
    drv.none_capture = 1
    assert cam.capture() is None
    del drv.calls[:]
    cam.reinit()
    assert drv.calls[0] == ('deinit',) and drv.calls[1] == ('init',)
    assert ('set', 'vflip', True) in drv.calls
    assert cam.capture() is not None
    drv.fail_init = 1
    raises(OSError, cam.reinit)
    assert not cam.ready
    raises(OSError, cam.capture)
    cam.reinit()
    assert cam.capture() is not None


# ---- lemariva ----

def lemariva(**config):
    fake_lemariva.reset()
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
    cam.capture()
    assert ('framesize', fake_lemariva.FRAME_VGA) in fake_lemariva.calls


def test_lemariva_reinit_after_failure():
    cam = lemariva()
    cam.init()
    cam.apply('brightness', -1)
    fake_lemariva.fail_capture = 1
    raises(OSError, cam.capture)
    del fake_lemariva.calls[:]
    cam.reinit()  # the driver refuses a second init without deinit: reinit deinits first
    assert fake_lemariva.calls[0] == ('deinit',)
    assert fake_lemariva.calls[1][0] == 'init'
    assert ('brightness', -1) in fake_lemariva.calls
    assert cam.capture()[:2] == b'\xff\xd8'
