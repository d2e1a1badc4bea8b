"""The device app answers its page, driven in-process with microdot's test client (portable)."""
from microdot.test_client import TestClient

from camdot import config
from camdot.device import page
from camdot.app import create_app

GZ_PAGE = page.www_dir({}) + '/index.html.gz'


def stored_gz_page():
    with open(GZ_PAGE, 'rb') as f:
        return f.read()


async def get_page(headers=None):
    client = TestClient(create_app(config.load(None)))
    return await client.get('/', headers=headers or {})


async def test_index_is_html():
    res = await get_page()
    assert res.status_code == 200
    assert res.headers['Content-Type'].startswith('text/html')
    if res.headers.get('Content-Encoding') == 'gzip':
        # a board (and the .mpy build of the small-heap run) has only the gzipped page
        assert res.body == stored_gz_page()
    else:
        assert '<!doctype html>' in res.text.lower()


async def test_index_is_gzipped_when_asked():
    res = await get_page({'Accept-Encoding': 'gzip, deflate'})
    assert res.status_code == 200
    assert res.headers['Content-Encoding'] == 'gzip'
    assert res.body[:2] == b'\x1f\x8b'
    assert res.body == stored_gz_page()


async def test_unknown_path_is_404():
    client = TestClient(create_app(config.load(None)))
    res = await client.get('/no-such-page')
    assert res.status_code == 404
