"""Requests from an edge to a board, over the hub: whichever ingest holds the board answers.

    requester = Requester(hub, edge_id)
    reply = await requester.call('porch', 'writeproperty', 'quality', value=10)

The request goes out on relay/<board>/request (plain: at most once, so a write reaches the board
at most once, and only the ingest holding the board acts on it); the answer comes back on
relay/reply/<edge_id>. A refusal raises ThingError with the board's status; no answer within
`timeout` seconds (no ingest holds the board) is a 504. At most `max_pending` wait at a time.
"""
import asyncio
import os

from camdot.thing import ThingError

from camdot_relay import topics


class Requester:
    timeout = 6.0
    max_pending = 256

    def __init__(self, hub, edge_id=None):
        self.hub = hub
        self.edge_id = edge_id or os.urandom(6).hex()
        self.reply_topic = topics.reply(self.edge_id)
        self.pending = {}
        self._next = 0
        self._sub = hub.subscribe(self.reply_topic, maxlen=64, callback=self._on_reply)

    def close(self):
        self._sub.close()
        for fut in self.pending.values():
            fut.cancel()

    def _on_reply(self, topic, reply):
        if isinstance(reply, dict):
            fut = self.pending.pop(reply.get('id'), None)
            if fut is not None and not fut.done():
                fut.set_result(reply)

    async def call(self, board, op, name, **members):
        if len(self.pending) >= self.max_pending:
            raise ThingError(503, 'too many requests in flight on this edge')
        self._next += 1
        rid = '%s-%d' % (self.edge_id, self._next)
        fut = asyncio.get_running_loop().create_future()
        self.pending[rid] = fut
        req = {'id': rid, 'reply': self.reply_topic, 'op': op, 'name': name}
        req.update(members)
        try:
            self.hub.publish(topics.request(board), req)
            reply = await asyncio.wait_for(fut, self.timeout)
        except asyncio.TimeoutError:
            raise ThingError(504, 'no answer from an ingest holding %s in %g s' % (
                board, self.timeout))
        finally:
            self.pending.pop(rid, None)
        status = reply.get('status')
        if status != 200:
            raise ThingError(status if isinstance(status, int) else 502,
                             str(reply.get('detail') or 'refused'))
        return reply
