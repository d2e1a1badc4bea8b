"""The simulated camera: real JPEGs of the generated test card (needs `make setup`'s frames)."""
from harness import raises

from camtools import jpeg_size
from camdot.camera import FRAMESIZES, open_camera
from camdot.camera.sim import SimCamera


def test_frames_are_jpegs_of_the_configured_size():
    for name in ('QQVGA', 'QVGA', 'CIF'):
        cam = open_camera({'backend': 'sim', 'framesize': name})
        cam.init()
        buf = cam.capture()
        assert jpeg_size(buf) == FRAMESIZES[name], name
        cam.deinit()


def test_one_reused_buffer_like_the_zero_copy_driver():
    cam = SimCamera({'framesize': 'QVGA'})
    cam.init()
    a = cam.capture()
    first = bytes(a)
    b = cam.capture()
    assert isinstance(a, memoryview) and isinstance(b, memoryview)
    assert bytes(b) != first  # the card moves
    # b overwrote the buffer a points into: a is only valid until the next capture().
    n = min(len(a), len(b))
    assert bytes(a[:n]) == bytes(b[:n])


def test_the_loop_wraps_around():
    cam = SimCamera({'framesize': 'QQVGA'})
    cam.init()
    n = len(cam._lengths)
    assert n >= 10
    first = bytes(cam.capture())
    assert bytes(cam.capture()) != first
    for _ in range(n - 2):
        cam.capture()
    assert bytes(cam.capture()) == first
    assert cam.frames == n + 1


def test_framesize_changes_the_picture_at_the_next_capture():
    cam = SimCamera({'framesize': 'QVGA'})
    cam.init()
    assert jpeg_size(cam.capture()) == (320, 240)
    assert cam.apply('framesize', 'CIF') is True
    assert jpeg_size(cam.capture()) == (400, 296)
    assert cam.apply('framesize', 6) is True
    assert jpeg_size(cam.capture()) == (320, 240)
    # Sizes not generated at setup can't be honoured (the picture would lie about its size).
    assert cam.apply('framesize', 'UXGA') is False
    assert cam.framesize == 'QVGA'
    assert cam.apply('brightness', 1) is True and cam.get('brightness') == 1
    raises(ValueError, cam.apply, 'brightness', 9)


def test_missing_frames_are_a_clear_error():
    cam = SimCamera({'framesize': 'QVGA', 'frames_dir': '/nonexistent/simcam'})
    exc = raises(OSError, cam.init)
    assert 'make setup' in str(exc)
    assert not cam.ready
    raises(OSError, cam.capture)
