"""Who holds a board: one ingest at a time, and another within seconds when it dies.

    leases = RedisLeases(redis_client, owner='ingest-3f2a', ttl=6.0)
    if await leases.claim('porch'): ...     # held (or renewed) for ttl seconds from now

`claim` takes a free lease or renews one this owner holds; it is called every ttl/3 s while the
board is held, so a dead holder's lease runs out within ttl and the next claim by another ingest
(each tries every ttl/3 s) takes it: a takeover within ttl + ttl/3 s. When Redis is unreachable
the holder keeps the board until its lease would have run out, then lets go: two ingests never
hold one board longer than a clock's drift.

LocalLeases is the one-process case (no Redis): every board is this process's.
"""
import asyncio

# Take the lease if it is free, renew it if it is ours; 1 when held after the call.
CLAIM = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class LocalLeases:
    """One process holds every board."""
    ttl = 6.0

    async def claim(self, board):
        return True

    async def release(self, board):
        pass

    async def holder(self, board):
        return 'this process'


class RedisLeases:
    """Leases as Redis keys PREFIX:lease:<board> (value: the owner) that expire after ttl."""

    def __init__(self, client, owner, ttl=6.0, prefix='camdot'):
        self.redis = client
        self.owner = owner
        self.ttl = ttl
        self.prefix = prefix
        self._until = {}  # board -> loop time until which our last successful claim holds

    def key(self, board):
        return '%s:lease:%s' % (self.prefix, board)

    async def claim(self, board):
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            held = await self.redis.eval(CLAIM, 1, self.key(board), self.owner,
                                         int(self.ttl * 1000)) == 1
        except Exception:  # Redis away: ours until the lease we had runs out
            return loop.time() < self._until.get(board, 0)
        if held:
            self._until[board] = start + self.ttl
        else:
            self._until.pop(board, None)
        return held

    async def release(self, board):
        self._until.pop(board, None)
        try:
            await self.redis.eval(RELEASE, 1, self.key(board), self.owner)
        except Exception:
            pass  # it runs out by itself

    async def holder(self, board):
        value = await self.redis.get(self.key(board))
        return value.decode() if value else None
