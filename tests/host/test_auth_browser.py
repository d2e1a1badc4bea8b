"""Token auth in a real browser (Debian chromium via Playwright): the login form, then the device page
with its WebSocket frames and the MJPEG stream working on the session cookie alone; and a page from
another origin that cannot open the camera's WebSocket (cross-site WebSocket hijacking)."""
import pytest

from servers import PageServer, device_app

TOKEN = 'browser-Tok3n'


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    with device_app(tmp_path_factory.mktemp('authbrowser'), hostname='porch-cam', token=TOKEN) as srv:
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


EVIL = """<!doctype html><script>
window.result = 'pending';
const ws = new WebSocket('%s/ws/stream');
ws.onopen = () => { window.result = 'open'; };
ws.onerror = () => { window.result = 'refused'; };
</script>"""


def test_other_site_cannot_open_the_websocket(server, browser):
    """Another site: its page tries to open the camera's WebSocket."""
    with PageServer(EVIL % server.url.replace('http', 'ws')) as evil:
        ctx = browser.new_context()
        page = ctx.new_page()
        # logged in to the camera in this browser...
        page.goto(server.url + '/login')
        page.fill('input[name=token]', TOKEN)
        page.click('button')
        page.wait_for_function('window.camdot && camdot.stats.frames >= 1', timeout=15000)
        # ...then a page on another origin (another port is another origin) tries to use it
        page.goto(evil + '/')
        page.wait_for_function("window.result !== 'pending'", timeout=10000)
        assert page.evaluate('window.result') == 'refused'
        ctx.close()
