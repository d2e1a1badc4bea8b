"""The relay's MJPEG parser: the shapes board firmwares send, split anywhere; garbage refused."""
import os
import random
import sys

import pytest

from servers import ROOT

sys.path.insert(0, os.path.join(ROOT, 'tools'))
from camdot_relay.mjpeg import MjpegError, MjpegParser, boundary_of  # noqa: E402


def jpeg(i, size=3000):
    body = bytes((i * 7 + k) % 251 for k in range(size))
    return b'\xff\xd8' + body.replace(b'\xff', b'\x00') + b'\xff\xd9'


FRAMES = [jpeg(i, 2000 + 300 * i) for i in range(6)]


def espressif(frames, b=b'123456789000000000000987654321'):
    # CameraWebServer: boundary before every part, Content-Length, X-Timestamp
    out = b''
    for i, f in enumerate(frames):
        out += b'\r\n--' + b + b'\r\n'
        out += (b'Content-Type: image/jpeg\r\nContent-Length: %d\r\n'
                b'X-Timestamp: %d.000000\r\n\r\n' % (len(f), i))
        out += f
    return out


def no_first_boundary_no_length(frames, b=b'frame'):
    # esp32-cam-webserver style: the first part has no boundary before it; no lengths; LF only
    out = b''
    for i, f in enumerate(frames):
        if i:
            out += b'\n--' + b + b'\n'
        out += b'Content-Type: image/jpeg\n\n' + f
    return out + b'\n--' + b + b'\n'


def feed_split(parser, data, rng):
    got = []
    i = 0
    while i < len(data):
        n = rng.choice((1, 2, 3, 7, 100, 1000, 5000))
        got += parser.feed(data[i:i + n])
        i += n
    return got


@pytest.mark.parametrize('seed', range(5))
def test_espressif_stream_split_anywhere(seed):
    rng = random.Random(seed)
    p = MjpegParser(boundary_of(
        'multipart/x-mixed-replace;boundary=123456789000000000000987654321'))
    assert feed_split(p, espressif(FRAMES), rng) == FRAMES


@pytest.mark.parametrize('seed', range(5))
def test_no_boundary_before_the_first_part_and_no_lengths(seed):
    rng = random.Random(seed)
    p = MjpegParser('frame')
    assert feed_split(p, no_first_boundary_no_length(FRAMES), rng) == FRAMES


def test_boundary_learned_when_undeclared_and_declared_with_dashes():
    p = MjpegParser()
    assert p.feed(espressif(FRAMES[:3], b'xyz') + b'\r\n--xyz\r\n') == FRAMES[:3]
    # declared as '--frame' and sent as '--frame' (not '----frame')
    p = MjpegParser(boundary_of('multipart/x-mixed-replace; boundary="--frame"'))
    data = b''.join(b'--frame\r\nContent-Type: image/jpeg\r\n\r\n' + f + b'\r\n' for f in FRAMES)
    assert p.feed(data + b'--frame\r\n') == FRAMES


def test_a_part_without_length_ends_at_the_boundary_even_with_ff_d9_inside():
    inner = b'\xff\xd8' + b'ab\xff\xd9cd' + b'\xff\xd9'
    p = MjpegParser('b')
    assert p.feed(b'--b\r\nContent-Type: image/jpeg\r\n\r\n' + inner + b'\r\n--b\r\n') == [inner]


@pytest.mark.parametrize('data,why', [
    (b'<html><body>404 Not Found</body></html>\n' * 3, 'not MJPEG'),
    (os.urandom(8000).replace(b'\n', b'x').replace(b':', b'y'), 'headers'),
    (b'--b\r\nContent-Type: text/html\r\n\r\n<html>', 'type'),
    (b'--b\r\nContent-Length: 5\r\n\r\nhello', 'not a JPEG'),
    (b'--b\r\nContent-Length: x1\r\n\r\n', 'Content-Length'),
    (b'--b\r\nContent-Length: 99999999\r\n\r\n', 'limit'),
    (b'--other\r\n', 'unexpected boundary'),
])
def test_garbage_is_an_error_not_a_frame(data, why):
    p = MjpegParser('b', max_frame=1 << 20)
    with pytest.raises(MjpegError, match=why):
        p.feed(data)


def test_an_endless_part_is_bounded():
    p = MjpegParser('b', max_frame=10000)
    p.feed(b'--b\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8')
    with pytest.raises(MjpegError, match='over'):
        for _ in range(10):
            p.feed(b'\x00' * 4096)
