"""A board's link in the ingest, in one process (in-memory hub): backoff 1 s doubling to 60 s
(scaled down here), reset after a healthy session, states and their reasons, requests refused
while the board is away."""
import asyncio
import os
import sys

from servers import ROOT, free_port

sys.path.insert(0, os.path.join(ROOT, 'tools'))
from camdot.hub import Hub  # noqa: E402
from camdot_relay import link as link_module, topics  # noqa: E402
from camdot_relay.boards import Board  # noqa: E402
from camdot_relay.link import BoardError, BoardLink  # noqa: E402


def drain(sub):
    out = []
    while True:
        item = sub.get_nowait()
        if item is None:
            return out
        out.append(item[1])


def fast(link):
    link.backoff_min, link.backoff_max, link.healthy_s = 0.01, 0.08, 10


def test_the_defaults_are_1_s_doubling_to_60_s():
    assert (BoardLink.backoff_min, BoardLink.backoff_max) == (1.0, 60.0)


async def test_an_unreachable_board_backs_off_doubling_to_the_cap():
    hub = Hub()
    states = hub.subscribe(topics.state('gone'), maxlen=32)
    link = BoardLink(hub, Board('gone', 'http://127.0.0.1:%d' % free_port()))
    fast(link)
    task = asyncio.create_task(link.run())
    await asyncio.sleep(0.6)
    task.cancel()
    docs = drain(states)
    assert docs[0]['state'] == 'connecting'
    retries = [d['retry_s'] for d in docs[1:]]
    assert retries[:5] == [0.01, 0.02, 0.04, 0.08, 0.08], retries
    assert all(d['state'] == 'reconnecting' and 'cannot connect' in d['detail']
               for d in docs[1:])


class Flaky(BoardLink):
    """A link whose sessions last `lasts` seconds, then fail as told."""
    lasts = 0.0
    error = OSError('connection reset')

    async def open(self):
        link = self

        class Session:
            kind = 'test'

            async def run(self):
                link.online()
                await asyncio.sleep(link.lasts)
                raise link.error

            async def close(self):
                pass
        return Session()


async def test_a_healthy_session_resets_the_backoff_and_a_misbehaving_board_is_an_error():
    hub = Hub()
    states = hub.subscribe(topics.state('b'), maxlen=64)
    link = Flaky(hub, Board('b', 'http://127.0.0.1:1'))
    fast(link)
    link.healthy_s = 0.03
    link.lasts = 0.05  # every session counts as healthy: no growth
    task = asyncio.create_task(link.run())
    await asyncio.sleep(0.4)
    link.lasts, link.error = 0.0, BoardError('garbage instead of MJPEG')
    await asyncio.sleep(0.4)
    task.cancel()
    docs = drain(states)
    healthy = [d['retry_s'] for d in docs if d['state'] == 'reconnecting']
    assert healthy and set(healthy) == {0.01}, healthy
    assert any(d['state'] == 'online' for d in docs)
    errors = [d for d in docs if d['state'] == 'error']
    assert errors and errors[-1]['detail'] == 'garbage instead of MJPEG'
    assert [d['retry_s'] for d in errors][:3] == [0.01, 0.02, 0.04]


async def test_requests_while_the_board_is_away_are_answered_503():
    hub = Hub()
    replies = hub.subscribe('relay/reply/e1', maxlen=4)
    link = BoardLink(hub, Board('gone', 'http://127.0.0.1:%d' % free_port()))
    fast(link)
    task = asyncio.create_task(link.run())
    await asyncio.sleep(0.05)
    hub.publish(topics.request('gone'), {'id': 7, 'reply': 'relay/reply/e1',
                                         'op': 'writeproperty', 'name': 'quality', 'value': 1})
    for _ in range(100):
        if replies.pending:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    (reply,) = drain(replies)
    assert reply['id'] == 7 and reply['status'] == 503 and 'reconnecting' in reply['detail']
    assert link_module.HEARTBEAT <= 5  # edges call a state stale after 15 s: 3 heartbeats
