"""The camera Thing in the real device app (main.py on the unix port): the Web Thing Protocol over
real sockets with the `websockets` client, /control and HTTP writes seen by observers, and settings
that survive a restart of the process."""
import asyncio
import json
import urllib.error
import urllib.request

from servers import MPY, Server, free_port

THING = None  # the TD's id, read from the device


def device(tmp_path, settings=None, port=None):
    port = port or free_port()
    settings = str(settings or tmp_path / 'settings.json')
    cfg = tmp_path / 'config.json'
    cfg.write_text(json.dumps({'settings_file': settings, 'camera': {'backend': 'sim'}}))
    # $CAMDOT_SETTINGS (the test servers' scratch file, when set) wins over the config: set both
    return Server([MPY, 'main.py'], port, env={'HTTP_PORT': str(port), 'CAMDOT_CONFIG': str(cfg),
                                               'CAMDOT_SETTINGS': settings})


def http(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=5) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def request(op, name=None, corr=None, **extra):
    msg = {'thingID': THING, 'messageID': 'm-' + op, 'messageType': 'request', 'operation': op}
    if name:
        msg['name'] = name
    if corr:
        msg['correlationID'] = corr
    msg.update(extra)
    return json.dumps(msg)


def wait_saved(path, check, timeout=10.0):
    """The saved settings once `check(saved)` holds (writes wait for a quiet moment)."""
    import time
    deadline = time.monotonic() + timeout
    saved = None
    while time.monotonic() < deadline:
        try:
            saved = json.loads(path.read_text())
            if check(saved):
                return saved
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError('settings file never matched; last: %r' % (saved,))


async def recv(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


def test_observers_see_changes_from_http_control_and_other_sockets(tmp_path):
    import websockets
    global THING
    with device(tmp_path) as srv:
        status, body = http('GET', srv.url + '/.well-known/wot')
        td = json.loads(body)
        THING = td['id']
        ws_url = [f['href'] for f in td['forms'] if f.get('subprotocol') == 'webthingprotocol'][0]
        assert ws_url == srv.url.replace('http://', 'ws://') + '/ws'

        async def run():
            async with websockets.connect(ws_url, subprotocols=['webthingprotocol']) as a, \
                    websockets.connect(ws_url, subprotocols=['webthingprotocol']) as b:
                assert a.subprotocol == 'webthingprotocol'
                await a.send(request('observeproperty', 'framesize', corr='obs'))
                r = await recv(a)
                assert r['messageType'] == 'response' and 'error' not in r
                await a.send(request('observeproperty', 'brightness', corr='obs'))
                await recv(a)
                # 1: /control (CameraWebServer form): framesize index 8 is VGA
                status, _ = await asyncio.to_thread(
                    http, 'GET', srv.url + '/control?var=framesize&val=8')
                assert status == 200
                n = await recv(a)
                assert (n['messageType'], n['name'], n['value'], n['correlationID']) == \
                    ('notification', 'framesize', 'VGA', 'obs')
                assert n['timestamp'].endswith('Z')
                # 2: the HTTP binding
                status, _ = await asyncio.to_thread(
                    http, 'PUT', srv.url + '/properties/brightness', -1)
                assert status == 200
                n = await recv(a)
                assert (n['name'], n['value']) == ('brightness', -1)
                # 3: another socket; its bad messages don't disturb anyone
                await b.send('{"this is": not json')
                r = await recv(b)
                assert r['error']['status'] == 400
                await b.send(request('writeproperty', 'framesize', value='QQVGA', corr='w'))
                r = await recv(b)
                assert r['value'] == 'QQVGA' and r['correlationID'] == 'w'
                n = await recv(a)
                assert (n['name'], n['value']) == ('framesize', 'QQVGA')
                await b.send(request('readproperty', 'framesize'))
                assert (await recv(b))['value'] == 'QQVGA'    # b got no notifications
                await a.send(request('unobserveallproperties'))
                await recv(a)
                await b.send(request('writeproperty', 'brightness', value=2))
                await recv(b)
                try:
                    extra = await asyncio.wait_for(a.recv(), 0.5)
                except asyncio.TimeoutError:
                    extra = None
                assert extra is None
        asyncio.run(run())
        code = srv.stop()
    assert code == 0, srv.output


def test_settings_survive_a_restart(tmp_path):
    settings = tmp_path / 'settings.json'
    with device(tmp_path, settings) as srv:
        assert http('PUT', srv.url + '/properties/quality', 30)[0] == 200
        assert http('GET', srv.url + '/control?var=hmirror&val=1')[0] == 200
        assert http('PUT', srv.url + '/properties/framesize', 'CIF')[0] == 200
        # written after a short quiet time (one write for the burst)
        saved = wait_saved(settings, lambda s: s.get('framesize') == 'CIF')
        srv.stop()
    assert saved['quality'] == 30 and saved['hmirror'] is True and saved['framesize'] == 'CIF'
    assert not (tmp_path / 'settings.json.tmp').exists()
    with device(tmp_path, settings) as srv:
        status, body = http('GET', srv.url + '/status')
        st = json.loads(body)
        assert (st['quality'], st['hmirror'], st['framesize']) == (30, 1, 6)   # CIF is index 6
        assert json.loads(http('GET', srv.url + '/properties/framesize')[1]) == 'CIF'
        # reset_settings restores the defaults, and that survives a restart too
        assert http('POST', srv.url + '/actions/reset_settings')[0] == 200
        wait_saved(settings, lambda s: s.get('quality', 12) == 12)
        srv.stop()
    with device(tmp_path, settings) as srv:
        st = json.loads(http('GET', srv.url + '/status')[1])
        assert (st['quality'], st['hmirror'], st['framesize']) == (12, 0, 5)
        srv.stop()


def test_a_corrupt_settings_file_boots_with_defaults_and_a_warning(tmp_path):
    settings = tmp_path / 'settings.json'
    settings.write_text('{"quality": 30, "hmirr')           # cut off mid-write
    with device(tmp_path, settings) as srv:
        st = json.loads(http('GET', srv.url + '/status')[1])
        assert st['quality'] == 12
        srv.stop()
    assert 'corrupt' in srv.output and str(settings) in srv.output
