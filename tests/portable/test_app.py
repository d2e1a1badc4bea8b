"""The device app answers its page, driven in-process with microdot's test client (portable)."""
from microdot.test_client import TestClient

from camdot import config
from camdot.app import create_app


async def test_index_is_html():
    client = TestClient(create_app(config.load(None)))
    res = await client.get('/')
    assert res.status_code == 200
    assert res.headers['Content-Type'].startswith('text/html')
    assert '<!doctype html>' in res.text.lower()


async def test_unknown_path_is_404():
    client = TestClient(create_app(config.load(None)))
    res = await client.get('/no-such-page')
    assert res.status_code == 404
