"""The ingest role: holds the one connection to each board it has the lease for.

    ingest = Ingest(hub, boards, leases)
    await ingest.run()            # until cancelled

Each board has a holder that claims its lease every ttl/3 seconds: while the lease is ours the
board's BoardLink runs; when another ingest has it (or ours ran out while Redis was away) the
link is stopped, so one ingest at a time talks to a board. An ingest that dies stops renewing,
and the next claim of another takes the board within ttl + ttl/3 seconds.
"""
import asyncio

from camdot_relay.link import BoardLink


class Ingest:
    def __init__(self, hub, boards, leases, stall=10.0):
        self.hub = hub
        self.stall = stall
        self.boards = [b for b in boards if b.url or b.stream]
        self.leases = leases
        self.links = {}      # name -> BoardLink while held

    async def run(self):
        tasks = [asyncio.create_task(self._hold(b)) for b in self.boards]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()

    async def _hold(self, board):
        leases = self.leases
        link = BoardLink(self.hub, board, self.stall)
        task = None
        try:
            while True:
                held = await leases.claim(board.name)
                if held and (task is None or task.done()):
                    if task is not None and not task.cancelled() and task.exception():
                        print('camdot relay: %s: link failed: %r' % (board.name, task.exception()))
                    print('camdot relay: %s: this ingest holds the board' % board.name)
                    self.links[board.name] = link
                    task = asyncio.create_task(link.run())
                elif not held and task is not None:
                    print('camdot relay: %s: lease lost, letting the board go' % board.name)
                    await _stop(task)
                    task = None
                    self.links.pop(board.name, None)
                await asyncio.sleep(leases.ttl / 3)
        finally:
            if task is not None:
                await _stop(task)
            self.links.pop(board.name, None)
            await leases.release(board.name)


async def _stop(task):
    task.cancel()
    try:
        await task
    except BaseException:
        pass
