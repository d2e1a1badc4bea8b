"""node-wot (Eclipse Thingweb 0.9, the W3C reference Web of Things consumer) against the device app
(unix port): it fetches and consumes the TD, reads a property, writes it (node-wot sends the value
with `Transfer-Encoding: chunked`) and reads it back, has an out-of-range write refused, and
invokes an action. The script is tests/host/nodewot/consume.js; node-wot is installed at setup
(`make setup`: .deps/node-wot, pinned in the Makefile).
"""
import json
import os
import shutil
import subprocess
import urllib.request

import pytest

from servers import ROOT, device_app

NODE_WOT = os.path.join(ROOT, '.deps', 'node-wot', 'node_modules')
SCRIPT = os.path.join(ROOT, 'tests', 'host', 'nodewot', 'consume.js')


@pytest.fixture
def device(tmp_path):
    with device_app(tmp_path, camera={'backend': 'sim', 'fps': 10}) as srv:
        yield srv
        srv.stop()
    assert 'Traceback' not in srv.output, srv.output


def test_node_wot_consumes_reads_writes_and_invokes(device):
    node = shutil.which('node')
    if node is None:
        pytest.fail('node is missing: apt-get install npm (.ci/run does)')
    if not os.path.isdir(os.path.join(NODE_WOT, '@node-wot', 'binding-http')):
        pytest.fail('node-wot is missing: run `make setup`')
    res = subprocess.run([node, SCRIPT, device.url], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, NODE_PATH=NODE_WOT))
    steps = {}
    for line in res.stdout.splitlines():
        step = json.loads(line)
        steps[step.pop('step')] = step
    assert res.returncode == 0 and 'error' not in steps, res.stdout + res.stderr[-2000:]
    with urllib.request.urlopen(device.url + '/.well-known/wot', timeout=5) as r:
        td = json.loads(r.read())
    assert steps['td'] == {'title': td['title'], 'properties': len(td['properties'])}
    write = steps['write']
    assert write['after'] == write['wanted'] != write['before']
    refused = steps['out_of_range']
    assert refused['refused'] == 'Client error: Bad Request' and refused['still'] == write['wanted']
    assert steps['action']['output']['href'] == '/capture'
