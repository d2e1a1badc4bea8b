"""A board's link in the ingest, in one process (in-memory hub): backoff 1 s doubling to 60 s
(scaled down here), reset after a healthy session, states and their reasons, requests refused
while the board is away."""
import asyncio
import os
import sys

from harness import pending, until
from servers import ROOT, free_port

sys.path.insert(0, os.path.join(ROOT, 'tools'))
from camdot.hub import Hub  # noqa: E402
from camdot_relay import link as link_module, topics  # noqa: E402
from camdot_relay.boards import Board  # noqa: E402
from camdot_relay.link import BoardError, BoardLink  # noqa: E402


def drain(sub):
    """The payloads waiting in `sub`."""
    return [payload for _, payload in pending(sub)]


def collect(sub, docs, pick=lambda d: True, n=1):
    """A condition for until(): `n` documents that `pick` likes have come (kept in `docs`)."""
    def cond():
        docs.extend(drain(sub))
        return len([d for d in docs if pick(d)]) >= n
    return cond


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
    docs = []
    await until(collect(states, docs, n=6), what='6 states')
    task.cancel()
    assert docs[0]['state'] == 'connecting'
    retries = [d['retry_s'] for d in docs[1:]]
    assert retries[:5] == [0.01, 0.02, 0.04, 0.08, 0.08], retries
    assert all(d['state'] == 'reconnecting' and 'cannot connect' in d['detail']
               for d in docs[1:])


class Flaky(BoardLink):
    """A link whose sessions go as `script` says, one (seconds it lasts, how it fails) each; the
    last one over and over."""
    script = [(0.0, OSError('connection reset'))]

    async def open(self):
        link = self
        lasts, error = self.script.pop(0) if len(self.script) > 1 else self.script[0]

        class Session:
            kind = 'test'

            async def run(self):
                link.online()
                await asyncio.sleep(lasts)
                raise error

            async def close(self):
                pass
        return Session()


async def test_a_healthy_session_resets_the_backoff_and_a_misbehaving_board_is_an_error():
    hub = Hub()
    states = hub.subscribe(topics.state('b'), maxlen=64)
    link = Flaky(hub, Board('b', 'http://127.0.0.1:1'))
    fast(link)
    link.healthy_s = 0.2  # far from the sessions that fail at once (a loaded machine pauses)
    garbage = BoardError('garbage instead of MJPEG')
    # healthy sessions (0.3 s) that end: no growth; then the board misbehaves: a healthy
    # session that ends so, then sessions that fail at once
    link.script = [(0.3, OSError('connection reset'))] * 2 + [(0.3, garbage), (0.0, garbage)]
    task = asyncio.create_task(link.run())
    docs = []
    await until(collect(states, docs, lambda d: d['state'] == 'error', 3), what='3 errors')
    task.cancel()
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
    # the link listens, and has found the board away
    await until(lambda: hub.has_subscribers(topics.request('gone')) and
                link.state.get('state') == 'reconnecting', what='the link to find the board away')
    hub.publish(topics.request('gone'), {'id': 7, 'reply': 'relay/reply/e1',
                                         'op': 'writeproperty', 'name': 'quality', 'value': 1})
    await until(lambda: replies.pending, what='the reply')
    task.cancel()
    (reply,) = drain(replies)
    assert reply['id'] == 7 and reply['status'] == 503 and 'reconnecting' in reply['detail']
    assert link_module.HEARTBEAT <= 5  # edges call a state stale after 15 s: 3 heartbeats
