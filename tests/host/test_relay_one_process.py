"""The relay as one process (no Redis: the in-memory hub) with its viewers' token: misbehaving
boards are board states, never a crash; the token as on the board (Bearer, Basic, the login
cookie; no address exempt); Chromium shows live video from the relay's page of a board."""
import asyncio
import http.server as http_server
import json
import os
import threading

import pytest

import harness
from relay_deploy import RELAY, http, until
from servers import MPY, PY, ROOT, Server, free_port, wait_for_port
from ws_viewers import open_viewer

TOKEN = 'relay-test-token'
AUTH = {'Authorization': 'Bearer ' + TOKEN}
BOARD_TOKEN = 'board-only-token'  # the relay's ingest has it; viewers never see it
CWS_SIM = os.path.join(ROOT, 'tools', 'cws_sim.py')


class NotJsonTD(http_server.BaseHTTPRequestHandler):
    """A board whose /.well-known/wot is not JSON."""

    def do_GET(self):
        body = b'<html>this is not a Thing Description</html>'
        self.send_response(200)
        self.send_header('Content-Type', 'application/td+json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def cws(mode):
    port, stream_port = free_port(), free_port()
    srv = Server([PY, CWS_SIM, '--port', str(port), '--stream-port', str(stream_port),
                  '--mode', mode], port)
    srv.stream_port = stream_port
    return srv


@pytest.fixture(scope='module')
def relay(tmp_path_factory):
    folder = tmp_path_factory.mktemp('relay1')
    cfg = folder / 'board.json'
    cfg.write_text(json.dumps({'hostname': 'cam1', 'settings_file': str(folder / 's.json'),
                               'token': BOARD_TOKEN}))
    board_port = free_port()
    board = Server([MPY, 'main.py'], board_port,
                   env={'HTTP_PORT': str(board_port), 'CAMDOT_CONFIG': str(cfg)})
    quirky, garbage, stall = cws('quirky'), cws('garbage'), cws('stall')
    not_json = http_server.ThreadingHTTPServer(('127.0.0.1', 0), NotJsonTD)
    threading.Thread(target=not_json.serve_forever, daemon=True).start()
    nowhere = free_port()  # nothing listens there
    with board, quirky, garbage, stall:
        for s in (quirky, garbage, stall):
            wait_for_port(s.stream_port)
        boards = ['cam1=' + board.url.replace('//', '//:%s@' % BOARD_TOKEN),
                  'cws=' + quirky.url, 'garbage=' + garbage.url,
                  'stalled=' + stall.url, 'gone=http://127.0.0.1:%d' % nowhere,
                  'notjson=http://127.0.0.1:%d' % not_json.server_address[1]]
        streams = ['cws=http://127.0.0.1:%d/stream' % quirky.stream_port,
                   'garbage=http://127.0.0.1:%d/stream' % garbage.stream_port,
                   'stalled=http://127.0.0.1:%d/stream' % stall.stream_port]
        port = free_port()
        argv = [PY, RELAY, '--host', '127.0.0.1', '--port', str(port), '--token', TOKEN,
                '--stall-timeout', '2', '--board', ','.join(boards)]
        for s in streams:
            argv += ['--stream', s]
        with Server(argv, port) as srv:
            srv.board = board
            yield srv
    not_json.shutdown()


def states(relay):
    status, _, body = http(relay.url + '/', headers=dict(AUTH, Accept='application/json'))
    assert status == 200, status
    return {b['name']: b for b in json.loads(body)['boards']}


def test_misbehaving_boards_are_states_on_the_index_not_crashes(relay):
    def settled():
        s = states(relay)
        return (s['cam1']['state'] == 'online' and s['cws']['state'] == 'online'
                and s['garbage']['state'] == 'error' and s['notjson']['state'] == 'error'
                and s['gone']['state'] == 'reconnecting'
                and 'no data' in s['stalled']['detail']) and s
    s = until(settled, 20, 'every board in its state')
    assert 'not usable MJPEG' in s['garbage']['detail']
    assert 'not JSON' in s['notjson']['detail']
    assert 'cannot connect' in s['gone']['detail'] and s['gone']['retry_s'] >= 1
    assert s['stalled']['state'] == 'reconnecting'
    status, _, page = http(relay.url + '/', headers=AUTH)
    assert status == 200 and b'garbage' in page and b'error' in page
    # a viewer of a board without frames gets a clear answer, not a hang
    status, _, body = http(relay.url + '/gone/capture', headers=AUTH, timeout=15)
    assert status == 503 and json.loads(body)['state'] == 'reconnecting'
    assert relay.proc.poll() is None


def test_the_viewers_token_as_on_the_board(relay):
    url = relay.url
    assert http(relay.board.url + '/capture')[0] == 401  # the board's own token is in force
    assert http(relay.board.url + '/capture', headers=AUTH)[0] == 401  # and is not the relay's
    assert states(relay)['cam1']['state'] == 'online'  # the ingest has the board's token
    assert http(url + '/cam1/capture',
                headers={'Authorization': 'Bearer ' + BOARD_TOKEN})[0] == 401
    assert http(url + '/')[0] == 401
    assert http(url + '/cam1/capture')[0] == 401
    assert http(url + '/cam1/capture', headers={'Authorization': 'Bearer wrong'})[0] == 401
    assert http(url + '/cam1/capture', headers=AUTH)[0] == 200
    assert http(url + '/cam1/properties/quality', headers={
        'Authorization': 'Basic ' + __import__('base64').b64encode(
            b'viewer:' + TOKEN.encode()).decode()})[0] == 200

    async def upgrade(headers):
        try:
            v = await open_viewer('127.0.0.1', relay.port, '/cam1/ws/stream', headers)
        except ConnectionError as exc:
            return str(exc)
        await harness.until(lambda: v.frames or v.closed, what='a frame')
        v.close()
        return len(v.frames)
    assert '401' in asyncio.run(upgrade({}))
    assert asyncio.run(upgrade(AUTH)) >= 1
    # the login page's cookie, as a browser gets it (loopback is not exempt: this is loopback)
    status, headers, _ = http(url + '/login', 'POST', ('token=%s&next=/cam1/' % TOKEN).encode(),
                              headers={'Content-Type': 'application/x-www-form-urlencoded'})
    assert status == 303 and headers['Location'] == '/cam1/'
    cookie = headers['Set-Cookie'].split(';')[0]
    assert http(url + '/cam1/properties', headers={'Cookie': cookie})[0] == 200


def test_chromium_shows_live_video_from_the_relay_page(relay, browser):
    ctx = browser.new_context(viewport={'width': 1000, 'height': 640}, extra_http_headers=AUTH)
    page = ctx.new_page()
    errors = []
    page.on('pageerror', lambda e: errors.append(str(e)))
    try:
        for board in ('cam1', 'cws'):
            page.goto(relay.url + '/%s/' % board)
            page.wait_for_function('window.camdot && camdot.stats.frames >= 10', timeout=20000)
            sample = page.evaluate("""() => { const c = document.getElementById('cv');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let sum = 0, sq = 0, n = 0;
                for (let i = 0; i < d.length; i += 28) { const v = (d[i]+d[i+1]+d[i+2])/3;
                  sum += v; sq += v*v; n++; }
                return {w: c.width, h: c.height, sd: Math.sqrt(sq/n - (sum/n)**2)}; }""")
            assert (sample['w'], sample['h']) == (320, 240) and sample['sd'] > 30, sample
            assert page.text_content('#mode') == 'WebSocket'
            # the controls come from the TD through the relay
            page.wait_for_function('camdot.thing && document.querySelector("#p-quality")',
                                   timeout=10000)
        page.screenshot(path=os.path.join(ROOT, 'tests', 'artifacts', 'relay-page.png'))
    finally:
        ctx.close()
    assert not errors, errors
