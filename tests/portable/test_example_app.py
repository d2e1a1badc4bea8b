"""tools/example_app.py, the README's example, works on both runtimes and is what the README shows."""
import asyncio
import json
import sys

from camdot.compat import ticks_add, ticks_diff, ticks_ms
from camdot.test_client import TestClient
from camdot.websocket import connect
from harness import free_port

# this file is tests/portable/test_example_app.py on both runtimes (pytest and tools/mprun.py)
ROOT = (__file__.rsplit('/', 3)[0] + '/') if __file__.count('/') >= 3 else ''
sys.path.append(ROOT + 'tools')
import example_app  # noqa: E402
sys.path.pop()


def readme_block(text, first_line):
    """The README's ```python block that starts with `first_line`, as text."""
    for block in text.split('```python\n')[1:]:
        if block.startswith(first_line):
            return block.split('```', 1)[0]
    return None


def test_the_readme_shows_the_example_as_it_is():
    with open(ROOT + 'tools/example_app.py') as f:
        source = f.read()
    code = source[source.index('\nimport json\n') + 1:]
    with open(ROOT + 'README.md') as f:
        shown = readme_block(f.read(), 'import json\n')
    assert shown is not None, 'README.md has no ```python block starting with import json'
    assert shown == code


async def connect_when_up(url):
    # the server task starts listening once the loop runs it: retry to a deadline
    deadline = ticks_add(ticks_ms(), 5000)
    while True:
        try:
            return await connect(url, timeout=2)
        except OSError:
            if ticks_diff(deadline, ticks_ms()) < 0:
                raise
            await asyncio.sleep(0.02)


async def test_a_setpoint_over_a_websocket_reaches_every_socket_and_the_route():
    app, room = example_app.app, example_app.room
    room.values['setpoint'] = 20.0
    port = free_port()
    server = asyncio.create_task(app.start_server('127.0.0.1', port))
    try:
        url = 'ws://127.0.0.1:%d/ws' % port
        writer = await connect_when_up(url)
        watcher = await connect(url, timeout=2)
        await writer.send('21.5')
        for ws in (writer, watcher):                # told through the hub, whoever wrote it
            assert json.loads(await asyncio.wait_for(ws.receive(), 5)) == {'setpoint': 21.5}
        await writer.send('99')                     # out of range: an error to the writer only
        error = json.loads(await asyncio.wait_for(writer.receive(), 5))['error']
        assert 'setpoint' in error and '30' in error, error
        await writer.send('warm')                   # not JSON
        assert 'error' in json.loads(await asyncio.wait_for(writer.receive(), 5))
        await watcher.send('18')
        for ws in (writer, watcher):
            assert json.loads(await asyncio.wait_for(ws.receive(), 5)) == {'setpoint': 18}
        await writer.close()
        await watcher.close()
        res = await TestClient(app).get('/setpoint')
        assert res.status_code == 200 and res.json == {'setpoint': 18}
        assert room.read('setpoint') == 18
        # each socket's subscription ends with it
        deadline = ticks_add(ticks_ms(), 5000)
        while example_app.hub.has_subscribers('thing/room/property/setpoint'):
            assert ticks_diff(deadline, ticks_ms()) > 0, 'a subscription outlived its socket'
            await asyncio.sleep(0.02)
    finally:
        app.shutdown()
        await asyncio.wait_for(server, 5)
