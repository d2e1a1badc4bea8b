"""Camera failure on the unix port: the simulated camera starts without its frames, so it does
not start; the app serves all the same, WebSocket viewers get a status message with the reason,
/stream and /capture answer 503 with it, and the stream resumes once the frames appear (the
camera is retried with backoff)."""
import asyncio
import io
import json
import shutil
import socket
import time

import websockets
from PIL import Image

from servers import MPY, ROOT, Server, free_port


def http_get(port, path):
    with socket.create_connection(('127.0.0.1', port), timeout=15) as sock:
        sock.sendall(b'GET %s HTTP/1.1\r\nHost: cam\r\nConnection: close\r\n\r\n' % path.encode())
        data = b''
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b'\r\n\r\n')
    return head, body


def test_viewers_see_status_then_frames_when_the_camera_recovers(tmp_path):
    frames = tmp_path / 'simcam'
    frames.mkdir()
    cfg = tmp_path / 'config.json'
    cfg.write_text(json.dumps({'camera': {'frames_dir': str(frames)},
                               'settings_file': str(tmp_path / 's.json')}))
    port = free_port()
    with Server([MPY, 'main.py'], port, env={'HTTP_PORT': str(port), 'CAMDOT_CONFIG': str(cfg)}) as srv:
        for path in ('/stream', '/capture'):
            head, body = http_get(port, path)
            assert head.startswith(b'HTTP/1.0 503') or head.startswith(b'HTTP/1.1 503'), head
            assert b'Retry-After: ' in head
            assert 'make setup' in json.loads(body)['error']      # the reason, in words

        async def main():
            async with websockets.connect(srv.url.replace('http', 'ws') + '/ws/stream') as ws:
                texts = []
                while True:
                    msg = await asyncio.wait_for(ws.recv(), 10)
                    assert isinstance(msg, str), 'a frame from a camera without frames?'
                    texts.append(json.loads(msg))
                    if texts[-1]['type'] == 'status':
                        break
                status = texts[-1]
                assert status['state'] == 'error' and 'make setup' in status['message']
                assert status['retry_ms'] > 0
                shutil.copytree(ROOT + '/.deps/simcam/QVGA', str(frames / 'QVGA'))
                start = time.monotonic()
                while True:
                    msg = await asyncio.wait_for(ws.recv(), 20)
                    if not isinstance(msg, str):
                        break
                img = Image.open(io.BytesIO(msg))
                img.load()
                assert img.size == (320, 240)
                return time.monotonic() - start
        took = asyncio.run(main())
        assert took < 20
        # The camera works again: MJPEG streams.
        mjpeg = socket.create_connection(('127.0.0.1', port), timeout=15)
        mjpeg.sendall(b'GET /stream HTTP/1.1\r\nHost: cam\r\n\r\n')
        data = b''
        while data.count(b'--camdotframe') < 2:
            chunk = mjpeg.recv(65536)
            assert chunk, 'MJPEG connection closed'
            data += chunk
        head = data.split(b'\r\n\r\n')[0]
        assert b' 200 ' in head.split(b'\r\n')[0]
        mjpeg.close()
        srv.stop()
    assert 'camera failed' in srv.output


def test_the_page_finds_the_board_again_after_it_was_away(tmp_path, browser):
    # Wi-Fi drops (or the board resets): the page's sockets die, it retries with backoff for as
    # long as it takes, and streams again over the WebSocket when the board is back (it does not
    # settle for MJPEG: the WebSocket worked on this page before).
    cfg = tmp_path / 'config.json'
    cfg.write_text(json.dumps({'settings_file': str(tmp_path / 's.json')}))
    port = free_port()
    env = {'HTTP_PORT': str(port), 'CAMDOT_CONFIG': str(cfg)}
    page = browser.new_page()
    try:
        with Server([MPY, 'main.py'], port, env=env) as srv:
            page.goto(srv.url + '/')
            page.wait_for_function('camdot.stats.frames >= 3', timeout=15000)
            page.wait_for_function("document.getElementById('p-wifi') !== null", timeout=15000)
        # the board is away: the page says so and keeps trying (0.5, 1, 2, 4 s apart ...)
        page.wait_for_function("document.getElementById('msg').textContent === 'Reconnecting...'",
                               timeout=10000)
        attempts = page.evaluate('camdot.attempts')
        page.wait_for_function('camdot.attempts >= %d' % (attempts + 4), timeout=20000)
        assert page.evaluate('camdot.mode') == 'ws'    # still the WebSocket it had
        with Server([MPY, 'main.py'], port, env=env):
            frames = page.evaluate('camdot.stats.frames')
            page.wait_for_function('camdot.stats.frames >= %d' % (frames + 3), timeout=20000)
            assert page.evaluate('camdot.mode') == 'ws'
            assert page.text_content('#mode') == 'WebSocket'
    finally:
        page.close()
