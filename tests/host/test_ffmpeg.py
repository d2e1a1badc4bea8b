"""ffmpeg, the player and recorder people point at a camera's MJPEG URL, reads camdot's streams:
the device app's /stream and /capture (unix port, simulated camera), and the relay's re-served
/stream of a camdot board and of a CameraWebServer-style board with its quirks."""
import io
import json
import os
import shutil
import subprocess

import pytest
from PIL import Image

from relay_deploy import RELAY, http, until
from servers import MPY, PY, ROOT, Server, device_app, free_port, wait_for_port

TOKEN = 'ffmpeg-relay-token'
CWS_SIM = os.path.join(ROOT, 'tools', 'cws_sim.py')
FRAMES = 8


def ffmpeg():
    path = shutil.which('ffmpeg')
    assert path, 'ffmpeg is missing: apt-get install ffmpeg (.ci/run does)'
    return path


def decode(url, folder, frames=FRAMES, headers=None):
    """The first `frames` pictures ffmpeg decodes from `url`, re-encoded by it as JPEG files:
    a list of PIL images (loaded)."""
    folder.mkdir()
    argv = [ffmpeg(), '-hide_banner', '-loglevel', 'error', '-rw_timeout', '15000000']
    if headers:
        argv += ['-headers', ''.join('%s: %s\r\n' % kv for kv in headers.items())]
    argv += ['-i', url, '-frames:v', str(frames), str(folder / 'f%03d.jpg')]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    images = []
    for name in sorted(os.listdir(folder)):
        with open(folder / name, 'rb') as f:
            img = Image.open(io.BytesIO(f.read()))
            img.load()
        images.append(img)
    return images


def moving(images):
    """How many different pictures: the simulated cameras' test cards move."""
    return len({img.tobytes() for img in images})


@pytest.fixture(scope='module')
def board(tmp_path_factory):
    with device_app(tmp_path_factory.mktemp('ffboard'), hostname='cam1') as srv:
        yield srv


def test_ffmpeg_plays_the_boards_mjpeg_stream(board, tmp_path):
    images = decode(board.url + '/stream', tmp_path / 'stream')
    assert len(images) == FRAMES
    assert {img.size for img in images} == {(320, 240)}
    assert moving(images) >= FRAMES // 2


def test_ffmpeg_reads_a_snapshot(board, tmp_path):
    images = decode(board.url + '/capture', tmp_path / 'capture', frames=1)
    assert len(images) == 1 and images[0].size == (320, 240)


def test_ffmpeg_plays_the_relays_streams_of_both_kinds_of_board(board, tmp_path):
    cws_port, cws_stream = free_port(), free_port()
    cws = Server([PY, CWS_SIM, '--port', str(cws_port), '--stream-port', str(cws_stream),
                  '--mode', 'quirky'], cws_port)
    port = free_port()
    argv = [PY, RELAY, '--host', '127.0.0.1', '--port', str(port), '--token', TOKEN,
            '--board', 'cam1=%s,cws=http://127.0.0.1:%d' % (board.url, cws_port),
            '--stream', 'cws=http://127.0.0.1:%d/stream' % cws_stream]
    auth = {'Authorization': 'Bearer ' + TOKEN}
    with cws:
        wait_for_port(cws_stream)
        with Server(argv, port) as relay:
            def online():
                status, _, body = http(relay.url + '/', headers=dict(auth, Accept='application/json'))
                boards = {b['name']: b['state'] for b in json.loads(body)['boards']}
                return status == 200 and boards == {'cam1': 'online', 'cws': 'online'}
            until(online, 20, 'both boards online')
            # without the relay's token, no video
            assert http(relay.url + '/cam1/stream', timeout=5)[0] == 401
            for name in ('cam1', 'cws'):
                images = decode('%s/%s/stream' % (relay.url, name), tmp_path / name, headers=auth)
                assert len(images) == FRAMES, name
                assert {img.size for img in images} == {(320, 240)}, name   # both at QVGA
                assert moving(images) >= FRAMES // 2, name
