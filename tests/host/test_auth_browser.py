"""Token auth in a real browser (Debian chromium via Playwright): the login form, then the device page
with its WebSocket frames and the MJPEG stream working on the session cookie alone; and a page from
another origin that cannot open the camera's WebSocket (cross-site WebSocket hijacking)."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from servers import MPY, Server, free_port

TOKEN = 'browser-Tok3n'


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp('authbrowser')
    cfg = folder / 'config.json'
    cfg.write_text(json.dumps({'hostname': 'porch-cam', 'token': TOKEN,
                               'settings_file': str(folder / 's.json')}))
    port = free_port()
    with Server([MPY, 'main.py'], port, env={'HTTP_PORT': str(port), 'CAMDOT_CONFIG': str(cfg)}) as srv:
        yield srv
        srv.stop()
    assert TOKEN not in srv.output




def test_login_then_live_page_and_mjpeg_on_the_cookie(server, browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    res = page.goto(server.url + '/')
    assert res.status == 401
    assert page.locator('input[type=password]').count() == 1
    page.fill('input[name=token]', 'wrong')
    page.click('button')
    assert 'Wrong token' in page.content()
    page.fill('input[name=token]', TOKEN)
    page.click('button')
    page.wait_for_function('window.camdot && camdot.stats.frames >= 3', timeout=15000)
    assert page.url == server.url + '/'
    cookie = [c for c in ctx.cookies() if c['name'] == 'camdot'][0]
    assert cookie['httpOnly'] and cookie['sameSite'] == 'Strict' and TOKEN not in cookie['value']
    assert page.evaluate('document.cookie') == ''  # HttpOnly: scripts can't read it
    # MJPEG in an <img>: the cookie goes along
    ok = page.evaluate("""() => new Promise(done => {
        const img = new Image();
        img.onload = () => done(img.naturalWidth > 0);
        img.onerror = () => done(false);
        img.src = '/stream';
        setTimeout(() => done('timeout'), 8000);
    })""")
    assert ok is True
    ctx.close()


class Evil(BaseHTTPRequestHandler):
    """Another site: its page tries to open the camera's WebSocket."""
    target = None

    def do_GET(self):
        body = ("""<!doctype html><script>
        window.result = 'pending';
        const ws = new WebSocket('%s/ws/stream');
        ws.onopen = () => { window.result = 'open'; };
        ws.onerror = () => { window.result = 'refused'; };
        </script>""" % self.target).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'text/html')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_other_site_cannot_open_the_websocket(server, browser):
    Evil.target = server.url.replace('http', 'ws')
    evil = ThreadingHTTPServer(('127.0.0.1', free_port()), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        ctx = browser.new_context()
        page = ctx.new_page()
        # logged in to the camera in this browser...
        page.goto(server.url + '/login')
        page.fill('input[name=token]', TOKEN)
        page.click('button')
        page.wait_for_function('window.camdot && camdot.stats.frames >= 1', timeout=15000)
        # ...then a page on another origin (another port is another origin) tries to use it
        page.goto('http://127.0.0.1:%d/' % evil.server_address[1])
        page.wait_for_function("window.result !== 'pending'", timeout=10000)
        assert page.evaluate('window.result') == 'refused'
        ctx.close()
    finally:
        evil.shutdown()
