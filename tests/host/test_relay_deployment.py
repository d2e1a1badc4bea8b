"""The relay with real parts: Redis (its own redis-server), a camdot board (the device app on the
unix port), a CameraWebServer-style board with the firmware quirks (tools/cws_sim.py), two ingest
and two edge processes. Viewers at scale, writes through one edge seen on the other, and the
failures: an edge killed, the ingest killed, Redis restarted; node-wot through an edge's TD.
Tests run in order and share the deployment (a module fixture): the kills come last."""
import asyncio
import json
import os
import shutil
import subprocess
import time

import pytest
import websockets

from relay_deploy import Deployment, get_json, http, until
from servers import ROOT
from ws_viewers import delivered, open_viewer

VIEWERS = 200
NODE_WOT = os.path.join(ROOT, '.deps', 'node-wot', 'node_modules')
NODE_WOT_SCRIPT = os.path.join(ROOT, 'tests', 'host', 'nodewot', 'consume.js')


@pytest.fixture(scope='module')
def d(tmp_path_factory):
    with Deployment(tmp_path_factory.mktemp('relay')) as dep:
        until(lambda: dep.all_online(), 30, 'both boards online on both edges')
        yield dep


def port_of(d, edge):
    return d.edges[edge].port


def test_both_kinds_of_board_online_on_both_edges_with_one_ingest_holding_each(d):
    for edge in 'AB':
        boards = d.boards(edge)
        assert boards['cam1']['kind'] == 'camdot' and boards['cws']['kind'] == 'cameraweb'
    holders = {d.lease_holder('cam1'), d.lease_holder('cws')}
    assert None not in holders
    # frames from both: the camdot board's own comment, the CameraWebServer's stamped by the ingest
    for board in ('cam1', 'cws'):
        status, headers, jpeg = http(d.edge_url('A') + '/%s/capture' % board)
        assert status == 200 and headers['Content-Type'] == 'image/jpeg'
        assert jpeg[:4] == b'\xff\xd8\xff\xfe' and jpeg[-2:] == b'\xff\xd9'
        assert b'camdot seq=' in jpeg[:64]


def test_200_viewers_over_two_edges_each_near_the_source_rate_while_the_board_sees_one(d):
    async def main():
        viewers = []
        for i in range(VIEWERS):
            edge = 'AB'[i % 2]
            viewers.append(await open_viewer('127.0.0.1', port_of(d, edge), '/cam1/ws/stream'))
        # one viewer that never reads, on edge A: it must cost the others nothing
        stalled = await open_viewer('127.0.0.1', port_of(d, 'A'), '/cam1/ws/stream')
        stalled.transport.pause_reading()
        await asyncio.sleep(1.0)
        start = time.time() * 1000
        await asyncio.sleep(5.0)
        end = time.time() * 1000
        for v in viewers + [stalled]:
            v.close()
        return viewers, start, end
    viewers, start, end = asyncio.run(main())
    ratios = []
    for v in viewers:
        got, made = delivered(v.frames, start, end)
        ratios.append(got / made)
        assert json.loads(v.texts[0])['type'] == 'hello'
    made = delivered(viewers[0].frames, start, end)[1]
    assert made >= 0.8 * 5 * d.fps, 'the source itself ran slow: %d frames in 5 s' % made
    assert min(ratios) >= 0.9, 'worst viewer got %.0f %% of the frames (mean %.0f %%)' % (
        100 * min(ratios), 100 * sum(ratios) / len(ratios))
    status, viewers_prop = get_json(d.board.url + '/properties/viewers')
    assert status == 200 and viewers_prop == 1  # the board still sees only the relay


def test_a_put_through_edge_a_is_seen_on_edge_b_and_reaches_the_board_once(d):
    async def main():
        b_url = d.edge_url('B').replace('http', 'ws') + '/cam1/ws'
        board_url = d.board.url.replace('http', 'ws') + '/ws'
        async with websockets.connect(b_url, subprotocols=['webthingprotocol']) as on_b, \
                websockets.connect(board_url, subprotocols=['webthingprotocol']) as on_board:
            for ws in (on_b, on_board):
                await ws.send(json.dumps({'messageType': 'request', 'messageID': 'm1',
                                          'operation': 'observeproperty', 'name': 'brightness',
                                          'correlationID': 'obs'}))
                assert json.loads(await ws.recv())['messageType'] == 'response'
            status, _, body = await asyncio.to_thread(
                http, d.edge_url('A') + '/cam1/properties/brightness', 'PUT', -1)
            assert (status, json.loads(body)) == (200, -1)
            seen = {}
            for name, ws in (('B', on_b), ('board', on_board)):
                notes = []
                end = time.monotonic() + 3
                while time.monotonic() < end:
                    try:
                        msg = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                    except asyncio.TimeoutError:
                        continue
                    if msg.get('messageType') == 'notification' and msg['name'] == 'brightness':
                        notes.append(msg['value'])
                seen[name] = notes
            return seen
    seen = asyncio.run(main())
    assert seen == {'B': [-1], 'board': [-1]}, seen
    status, value = get_json(d.board.url + '/properties/brightness')
    assert value == -1
    # the CameraWebServer board counts its /control calls: one, whichever ingest and edge
    status, _, body = http(d.edge_url('A') + '/cws/properties/led_intensity', 'PUT', 77)
    assert (status, json.loads(body)) == (200, 77)
    controls = json.loads(http(d.cws.url + '/controls')[2])
    assert controls.count(['led_intensity', '77']) == 1, controls
    until(lambda: get_json(d.edge_url('B') + '/cws/properties/led_intensity')[1] == 77, 5,
          'edge B to see the new value')


def test_bad_writes_are_the_viewers_own_clear_errors(d):
    a = d.edge_url('A')
    status, _, body = http(a + '/cam1/properties/brightness', 'PUT', 9)
    assert status == 400 and 'out of range' in json.loads(body)['detail']
    status, _, body = http(a + '/cam1/properties/brightness', 'PUT', b'{nope')
    assert status == 400 and 'JSON' in json.loads(body)['detail']
    assert http(a + '/cam1/properties/viewers', 'PUT', 3)[0] == 403
    assert http(a + '/cam1/properties/nothing')[0] == 404
    assert http(a + '/cam9/capture')[0] == 404
    status, _, body = http(a + '/cws/properties/quality', 'PUT', 2)  # the board refuses 2
    assert status == 400, body
    assert http(a + '/cam1/properties/brightness')[0] == 200  # the edge is fine


def test_the_tds_point_at_the_edge(d):
    for edge in 'AB':
        url = d.edge_url(edge)
        status, td = get_json(url + '/cam1/.well-known/wot')
        assert status == 200 and td['base'] == url + '/cam1/'
        hrefs = [f['href'] for aff in td['properties'].values() for f in aff['forms']]
        hrefs += [f['href'] for f in td['forms']]
        assert all(h.startswith('properties') or h == url.replace('http', 'ws') + '/cam1/ws'
                   for h in hrefs), hrefs
        status, td = get_json(url + '/cws/.well-known/wot')
        assert status == 200 and td['properties']['quality']['maximum'] == 63


def test_node_wot_consumes_an_edges_td_and_reads_writes_and_invokes_through_it(d):
    """The W3C reference consumer, through the relay (tests/host/nodewot/consume.js): the TD from
    edge A, a read, a write (chunked, as node-wot sends it) read back, an out-of-range write
    refused, an action: all reaching the board through the ingest."""
    node = shutil.which('node')
    if node is None:
        pytest.fail('node is missing: apt-get install npm (.ci/run does)')
    if not os.path.isdir(os.path.join(NODE_WOT, '@node-wot', 'binding-http')):
        pytest.fail('node-wot is missing: run `make setup`')
    res = subprocess.run([node, NODE_WOT_SCRIPT, d.edge_url('A') + '/cam1'], capture_output=True,
                         text=True, timeout=60, env=dict(os.environ, NODE_PATH=NODE_WOT))
    steps = {}
    for line in res.stdout.splitlines():
        step = json.loads(line)
        steps[step.pop('step')] = step
    assert res.returncode == 0 and 'error' not in steps, res.stdout + res.stderr[-2000:]
    write = steps['write']
    assert write['after'] == write['wanted'] != write['before']
    status, on_board = get_json(d.board.url + '/properties/quality')
    assert on_board == write['wanted']  # it reached the board
    refused = steps['out_of_range']
    assert refused['refused'] == 'Client error: Bad Request' and refused['still'] == write['wanted']
    assert steps['action']['output']['framesize'] == 'QVGA'


def test_killing_an_edge_leaves_the_other_edges_viewers_streaming(d):
    async def main():
        on_a = await open_viewer('127.0.0.1', port_of(d, 'A'), '/cam1/ws/stream')
        on_b = await open_viewer('127.0.0.1', port_of(d, 'B'), '/cam1/ws/stream')
        await asyncio.sleep(1)
        d.edges['A'].kill()
        killed = time.time() * 1000
        await asyncio.sleep(3)
        end = time.time() * 1000
        on_a.close()
        on_b.close()
        return on_a, on_b, killed, end
    on_a, on_b, killed, end = asyncio.run(main())
    assert on_a.closed
    got, made = delivered(on_b.frames, killed, end)
    assert got >= 0.9 * made and made >= 2 * d.fps, (got, made)
    d.edges['A'] = d.edges['A'].restarted()
    until(lambda: d.all_online(['A']), 15, 'edge A back')


def test_killing_the_ingest_another_takes_the_board_within_10_s(d):
    holder = d.lease_holder('cam1')
    victim = next(p for p in d.ingests if p.alive() and ('-%d-' % p.pid) in holder)

    async def main():
        v = await open_viewer('127.0.0.1', port_of(d, 'B'), '/cam1/ws/stream')
        await asyncio.sleep(0.5)
        victim.kill()
        killed, killed_ms = time.monotonic(), time.time() * 1000
        moved = resumed = None
        while time.monotonic() - killed < 20 and resumed is None:
            await asyncio.sleep(0.1)
            now = d.lease_holder('cam1')
            if moved is None and now is not None and now != holder:
                moved = time.monotonic() - killed
            if v.frames and v.frames[-1][1] > killed_ms:  # captured after the kill
                resumed = time.monotonic() - killed
        still_open = not v.closed
        v.close()
        return moved, resumed, still_open
    moved, resumed, still_open = asyncio.run(main())
    assert moved is not None and moved < 10, 'the lease moved after %s s\n%s' % (moved,
                                                                                 d.outputs())
    # frames flow again through the new ingest, to the viewer that stayed connected
    assert resumed is not None and resumed < 12 and still_open, (resumed, still_open)
    d.start_ingest()  # a standby again for the tests after this one


def test_redis_restart_recovers_every_process_without_a_restart(d):
    d.redis.stop()
    until(lambda: d.boards('A')['cam1']['state'] in ('stale', 'online'), 5, 'edge still up')
    d.redis.start()

    def streaming(edge):
        async def main():
            v = await open_viewer('127.0.0.1', port_of(d, edge), '/cam1/ws/stream')
            await asyncio.sleep(1.5)
            v.close()
            return v.frames
        frames = asyncio.run(main())
        fresh = [f for f in frames if f[2] - f[1] < 1000]  # frames captured just now
        return len(fresh) >= d.fps

    until(lambda: all(streaming(e) for e in 'AB'), 30, 'frames through both edges again\n')
    until(lambda: d.all_online(), 20, 'both boards online again')
    status, _, body = http(d.edge_url('B') + '/cam1/properties/contrast', 'PUT', 1)
    assert status == 200, body
    for p in d.ingests:
        assert p.alive() or p is not d.ingests[-1]
    for e in d.edges.values():
        assert e.proc.poll() is None
