"""Web Thing Protocol over real sockets on both runtimes: the camera Thing served by microdot,
camdot.websocket's client on the other end (subprotocol webthingprotocol)."""
import asyncio
import json

from microdot import Microdot

from camdot import config
from camdot.device import cws
from camdot.hub import Hub
from camdot.settings import Settings
from camdot.websocket import connect
from harness import remove, serve, tmp_path
from thing_app import FakeStream, install_thing


class Cam:
    def apply(self, name, value):
        return True




class Memory(Settings):
    def flush(self):
        return False   # nothing on disk: this test is about sockets


async def serving():
    app = Microdot()
    ct = install_thing(app, Hub(), Cam(), FakeStream(fps=5.0, viewers=0), config.load(None),
                       store=Memory(tmp_path('wtp-socket-unused.json')))
    task, port = await serve(app)
    return app, ct, task, port


async def ask(ws, op, **members):
    msg = {'thingID': 'urn:camdot:camdot', 'messageID': 'x', 'messageType': 'request',
           'operation': op}
    msg.update(members)
    await ws.send(json.dumps(msg))
    return json.loads(await asyncio.wait_for(ws.receive(), 5))


async def test_round_trips_and_notifications_over_real_sockets():
    app, ct, task, port = await serving()
    url = 'ws://127.0.0.1:%d/ws' % port
    a = b = None
    try:
        a = await connect(url, protocols=['webthingprotocol'])
        b = await connect(url, protocols=['webthingprotocol'])
        assert a.subprotocol == 'webthingprotocol'
        r = await ask(a, 'readproperty', name='framesize', correlationID='r1')
        assert r['value'] == 'QVGA' and r['correlationID'] == 'r1'
        r = await ask(a, 'observeproperty', name='brightness', correlationID='o1')
        assert r['messageType'] == 'response' and 'error' not in r
        r = await ask(b, 'writeproperty', name='brightness', value=2)
        assert r['value'] == 2
        n = json.loads(await asyncio.wait_for(a.receive(), 5))
        assert (n['messageType'], n['name'], n['value'], n['correlationID']) == \
            ('notification', 'brightness', 2, 'o1')
        ct.thing.write('brightness', cws.control_value(ct.thing, 'brightness', '-1'))  # /control's path
        n = json.loads(await asyncio.wait_for(a.receive(), 5))
        assert n['value'] == -1
        await b.send('{oops')
        r = json.loads(await asyncio.wait_for(b.receive(), 5))
        assert r['error']['status'] == 400
        r = await ask(b, 'invokeaction', name='capture')
        assert r['output']['href'] == '/capture'
        r = await ask(b, 'readproperty', name='fps')
        assert r['value'] == 5.0
    finally:
        for ws in (a, b):
            if ws is not None:
                await ws.close()
        await asyncio.sleep(0.05)
        app.shutdown()
        try:
            await asyncio.wait_for(task, 2)
        except Exception:
            pass
        remove(tmp_path('wtp-socket-unused.json'))
