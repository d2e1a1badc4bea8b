"""CORS for config 'allowed_origins' in a real browser (Debian chromium via Playwright).

A dashboard page served from a second loopback origin (another port is another origin) uses the
device's API with fetch(): listed in allowed_origins it reads /properties and PUTs a value (a
preflighted request: JSON body); from an unlisted origin the browser blocks both, and the PUT never
reaches the device. With a token: the bearer token in a header, or the login cookie
(`credentials: 'include'`).
"""
import json
import urllib.request

import pytest

from servers import PageServer, device_app

TOKEN = 'cors-browser-Tok3n'

USE_API = """async ([device, value, init]) => {
    const out = {};
    try {
        const r = await fetch(device + '/properties', init);
        out.read = r.status + ' ' + (r.ok ? (await r.json()).quality : await r.text());
    } catch (e) { out.read = 'blocked'; }
    try {
        const r = await fetch(device + '/properties/quality', Object.assign({
            method: 'PUT', body: JSON.stringify(value)}, init, {
            headers: Object.assign({'Content-Type': 'application/json'}, init.headers || {})}));
        out.put = r.status + ' ' + await r.text();
    } catch (e) { out.put = 'blocked'; }
    return out;
}"""


@pytest.fixture(scope='module')
def origins():
    """Two dashboard origins: the first is listed in allowed_origins, the second is not."""
    page = '<!doctype html><title>dashboard</title><p>dashboard</p>'
    with PageServer(page) as listed, PageServer(page) as unlisted:
        yield listed, unlisted


def start(folder, allowed, **cfg):
    return device_app(folder, camera={'backend': 'sim', 'fps': 5}, allowed_origins=[allowed], **cfg)


def quality(srv, token=None):
    req = urllib.request.Request(srv.url + '/properties/quality')
    if token:
        req.add_header('Authorization', 'Bearer ' + token)
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def use_api(browser, page_origin, device, value, init=None):
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(page_origin + '/')
    out = page.evaluate(USE_API, [device.url, value, init or {}])
    ctx.close()
    return out


def test_a_listed_origin_reads_and_writes_an_unlisted_one_is_blocked(browser, origins, tmp_path):
    listed, unlisted = origins
    with start(tmp_path, listed) as device:
        before = quality(device)
        out = use_api(browser, listed, device, 21 if before != 21 else 22)
        wanted = 21 if before != 21 else 22
        assert out == {'read': '200 %d' % before, 'put': '200 %d' % wanted}, out
        assert quality(device) == wanted
        out = use_api(browser, unlisted, device, 40)
        assert out == {'read': 'blocked', 'put': 'blocked'}, out
        assert quality(device) == wanted            # the preflight failed: no PUT was sent
        device.stop()
    assert 'Traceback' not in device.output, device.output


def test_with_a_token_bearer_or_login_cookie(browser, origins, tmp_path):
    listed, unlisted = origins
    with start(tmp_path, listed, token=TOKEN) as device:
        # the token in a header (allowed by the preflight)
        out = use_api(browser, listed, device, 30,
                      {'headers': {'Authorization': 'Bearer ' + TOKEN}})
        assert out['put'] == '200 30' and out['read'].startswith('200 '), out
        # without credentials the page can still read the refusal
        out = use_api(browser, listed, device, 31)
        assert out == {'read': '401 Log in to use this device.',
                       'put': '401 Log in to use this device.'}, out
        # logged in on the device, the dashboard sends the session cookie along
        ctx = browser.new_context()
        page = ctx.new_page()
        page.goto(device.url + '/login')
        page.fill('input[name=token]', TOKEN)
        page.click('button')
        page.wait_for_url(device.url + '/')
        page.goto(listed + '/')
        out = page.evaluate(USE_API, [device.url, 32, {'credentials': 'include'}])
        assert out['put'] == '200 32' and out['read'].startswith('200 '), out
        page.goto(unlisted + '/')
        out = page.evaluate(USE_API, [device.url, 33, {'credentials': 'include'}])
        assert out == {'read': 'blocked', 'put': 'blocked'}, out
        ctx.close()
        assert quality(device, TOKEN) == 32
        device.stop()
    assert 'Traceback' not in device.output and TOKEN not in device.output
