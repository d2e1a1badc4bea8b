"""The camera stream end to end on the unix port (main.py, simulated camera): `websockets`
viewers, MJPEG parsed off a raw socket, /capture, and the gzipped device page."""
import asyncio
import gzip
import io
import json
import socket
import time
import urllib.request

import pytest
import websockets
from PIL import Image

from servers import MPY, Server, free_port


def com_meta(data):
    """The stream's JPEG comment: {'seq': .., 't': .., 'v': ..}."""
    assert data[:4] == b'\xff\xd8\xff\xfe'
    n = (data[4] << 8) | data[5]
    words = data[6:4 + n].decode().split()
    assert words[0] == 'camdot'
    return {k: int(v) for k, v in (w.split('=') for w in words[1:])}


def serve(folder, **config):
    """main.py with its own config and settings file (never the repo's settings.json)."""
    config.setdefault('settings_file', str(folder / 'settings.json'))
    path = folder / 'config.json'
    path.write_text(json.dumps(config))
    port = free_port()
    return Server([MPY, 'main.py'], port, env={'HTTP_PORT': str(port), 'CAMDOT_CONFIG': str(path)})


@pytest.fixture(scope='module')
def app(tmp_path_factory):
    # allowed_origins '*': camdot.origins keeps the MJPEG route's CameraWebServer-style
    # `Access-Control-Allow-Origin: *` only when the config allows any origin.
    with serve(tmp_path_factory.mktemp('stream'), allowed_origins=['*']) as srv:
        yield srv


async def collect(url, frames, timeout=30):
    got, texts = [], []
    async with websockets.connect(url, max_size=2 ** 22) as ws:
        end = time.monotonic() + timeout
        while len(got) < frames and time.monotonic() < end:
            msg = await asyncio.wait_for(ws.recv(), timeout)
            (texts if isinstance(msg, str) else got).append(
                msg if isinstance(msg, str) else (time.time(), msg))
    return got, texts


def test_websocket_viewers_get_whole_jpegs_of_the_frame_size(app):
    url = app.url.replace('http', 'ws') + '/ws/stream'

    async def main():
        return await asyncio.gather(*[collect(url, 12) for _ in range(3)])
    results = asyncio.run(main())
    for got, texts in results:
        hello = json.loads(texts[0])
        assert hello['type'] == 'hello' and hello['framesize'] == 'QVGA' and hello['backend'] == 'sim'
        assert len(got) == 12
        seqs = []
        pictures = set()
        for received, data in got:
            meta = com_meta(data)
            seqs.append(meta['seq'])
            assert 1 <= meta['v'] <= 3
            # Capture time is the device's clock (the same machine) in ms since the epoch: a
            # positive latency, of seconds at worst on a loaded machine (how small is for benches)
            assert -0.05 < received - meta['t'] / 1000 < 10.0
            img = Image.open(io.BytesIO(data))
            img.load()  # decodes the whole JPEG, as a browser would
            assert img.size == (320, 240) and img.format == 'JPEG'
            assert data[-2:] == b'\xff\xd9'
            pictures.add(data[data.index(b'\xff\xdb'):])  # the picture without the header
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert len(pictures) >= 10  # the test card moves


def test_frame_size_from_config(tmp_path):
    with serve(tmp_path, camera={'framesize': 'VGA', 'fps': 10}) as srv:
        got, texts = asyncio.run(collect(srv.url.replace('http', 'ws') + '/ws/stream', 3))
        with urllib.request.urlopen(srv.url + '/capture', timeout=10) as res:
            snap = res.read()
    assert json.loads(texts[0])['framesize'] == 'VGA'
    for _, data in got:
        assert Image.open(io.BytesIO(data)).size == (640, 480)
    assert Image.open(io.BytesIO(snap)).size == (640, 480)


def read_headers(sock_file, status=True):
    status = sock_file.readline().decode() if status else None
    headers = {}
    while True:
        line = sock_file.readline().decode().rstrip('\r\n')
        if not line:
            return status, headers
        k, v = line.split(':', 1)
        headers[k.strip().lower()] = v.strip()


def test_mjpeg_stream_parts_parse_like_camerawebserver(app):
    with socket.create_connection(('127.0.0.1', app.port), timeout=10) as s:
        s.sendall(b'GET /stream HTTP/1.1\r\nHost: cam\r\n\r\n')
        f = s.makefile('rb')
        status, headers = read_headers(f)
        assert ' 200 ' in status
        ctype = headers['content-type']
        assert ctype.startswith('multipart/x-mixed-replace')
        boundary = ctype.split('boundary=')[1]
        assert headers['access-control-allow-origin'] == '*'
        seqs = []
        for _ in range(5):
            line = f.readline()
            if line == b'\r\n':  # the CRLF that ends the previous part
                line = f.readline()
            assert line == b'--' + boundary.encode() + b'\r\n', line
            _, part = read_headers(f, status=False)
            assert part['content-type'] == 'image/jpeg'
            n = int(part['content-length'])
            ts = float(part['x-timestamp'])
            assert abs(time.time() - ts) < 5
            data = f.read(n)
            assert len(data) == n
            img = Image.open(io.BytesIO(data))
            img.load()
            assert img.size == (320, 240)
            seqs.append(int(part['x-frame']))
        assert seqs == sorted(seqs) and len(set(seqs)) == 5


def test_capture_is_one_uncached_jpeg(app):
    with urllib.request.urlopen(app.url + '/capture', timeout=10) as res:
        assert res.status == 200
        assert res.headers['Content-Type'] == 'image/jpeg'
        assert res.headers['Cache-Control'] == 'no-store'
        assert res.headers['Content-Disposition'].startswith('inline; filename="camdot-')
        data = res.read()
    assert int(res.headers['Content-Length']) == len(data)
    assert Image.open(io.BytesIO(data)).size == (320, 240)


def raw_get(port, path, headers=''):
    with socket.create_connection(('127.0.0.1', port), timeout=10) as s:
        s.sendall(('GET %s HTTP/1.1\r\nHost: cam\r\n%s\r\n' % (path, headers)).encode())
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b''.join(chunks)


def test_device_page_is_gzipped_cached_and_small(app):
    wire = raw_get(app.port, '/', 'Accept-Encoding: gzip, deflate\r\n')
    head, _, body = wire.partition(b'\r\n\r\n')
    lines = head.decode().split('\r\n')
    headers = {k.lower(): v.strip() for k, v in (ln.split(':', 1) for ln in lines[1:])}
    assert ' 200 ' in lines[0]
    assert headers['content-encoding'] == 'gzip'
    assert headers['content-type'].startswith('text/html')
    assert headers['etag'] and 'cache-control' in headers
    # Everything the page needs comes in this one response (no other assets, no CDN).
    assert len(wire) <= 16 * 1024, len(wire)
    page = gzip.decompress(body).decode()
    # (its URLs are relative: the relay serves the same page under /<board>/)
    assert "'ws/stream'" in page and "'stream?'" in page and 'href="capture"' in page
    assert 'http://' not in page and 'https://' not in page  # no external resources
    assert 'id="controls"' in page
    again = raw_get(app.port, '/', 'Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n' % headers['etag'])
    assert b' 304 ' in again.split(b'\r\n')[0]
    plain = raw_get(app.port, '/')  # a client without gzip gets the raw file
    assert b'content-encoding' not in plain.partition(b'\r\n\r\n')[0].lower()
    assert b'<!doctype html>' in plain
