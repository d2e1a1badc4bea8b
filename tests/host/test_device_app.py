"""`make run`'s command: main.py on the unix port serves the page, survives bad configs, stops on Ctrl-C."""
import os
import urllib.request

from servers import MPY, Server, free_port


def fetch(url):
    with urllib.request.urlopen(url, timeout=5) as res:
        return res.status, res.headers.get('Content-Type'), res.read().decode()


def test_main_serves_html_on_the_unix_port():
    port = free_port()
    with Server([MPY, 'main.py'], port, env={'HTTP_PORT': str(port)}) as srv:
        status, ctype, body = fetch(srv.url + '/')
        assert status == 200
        assert ctype.startswith('text/html')
        assert '<!doctype html>' in body.lower()
        code = srv.stop()
    assert code == 0, srv.output
    assert 'stopped' in srv.output


def test_malformed_config_falls_back_to_defaults(tmp_path):
    bad = tmp_path / 'config.json'
    bad.write_text('{"hostname": "porch",')
    port = free_port()
    with Server([MPY, 'main.py'], port, env={'HTTP_PORT': str(port), 'CAMDOT_CONFIG': str(bad)}) as srv:
        status, _, body = fetch(srv.url + '/')
        srv.stop()
    assert status == 200
    assert 'not valid JSON' in srv.output
    assert 'camdot' in body


def test_config_file_is_used(tmp_path):
    good = tmp_path / 'config.json'
    good.write_text('{"hostname": "porch-cam"}')
    port = free_port()
    with Server([MPY, 'main.py'], port, env={'HTTP_PORT': str(port), 'CAMDOT_CONFIG': str(good)}) as srv:
        _, _, body = fetch(srv.url + '/')
    assert 'porch-cam' in body
