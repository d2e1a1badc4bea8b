"""Helpers for the camera/stream portable tests (both runtimes)."""


def jpeg_size(buf):
    """(width, height) from a JPEG's SOF segment; AssertionError if buf is not a whole JPEG."""
    b = memoryview(buf)  # no copy: frames can be big for a small heap
    assert bytes(b[:2]) == b'\xff\xd8', 'no SOI'
    assert bytes(b[-2:]) == b'\xff\xd9', 'no EOI'
    i = 2
    while i + 9 < len(b):
        assert b[i] == 0xff, 'bad marker at %d' % i
        marker = b[i + 1]
        length = (b[i + 2] << 8) | b[i + 3]
        if 0xc0 <= marker <= 0xc3:
            return (b[i + 7] << 8) | b[i + 8], (b[i + 5] << 8) | b[i + 6]
        i += 2 + length
    raise AssertionError('no SOF segment')


def use_driver(fake):
    """Make `fake` the `camera` module the ESP32 backends import (as the board firmware's).

    The backends bind `camera` when first imported, so their modules are dropped to be imported
    again against this fake. The fake starts as fresh hardware (its reset(): no faults set).
    """
    import sys
    if hasattr(fake, 'reset'):
        fake.reset()
    sys.modules['camera'] = fake
    for name in ('camdot.camera.cnadler', 'camdot.camera.lemariva'):
        sys.modules.pop(name, None)


class FakeWS:
    """A WebSocket stand-in for stream tests: records messages; can stall or be slow.

    Like camdot.websocket's zero-copy send, send_parts() reads the payload buffers only after
    awaiting (as a partial socket write does), so a frame overwritten too early shows up torn.
    stall_after=N: the (N+1)th binary message never completes (a viewer that stopped reading).
    delay: seconds each binary message takes.
    """
    BINARY = 2

    def __init__(self, stall_after=None, delay=0):
        import asyncio
        self.texts = []
        self.frames = []           # (seq from the COM segment, the JPEG bytes)
        self.stall_after = stall_after
        self.delay = delay
        self.closed = False
        self._gone = asyncio.Event()
        self.stalled = False

    async def send(self, data, opcode=None):
        import asyncio
        await asyncio.sleep(0)
        if isinstance(data, str):
            self.texts.append(data)
        else:
            self._record(bytes(data))

    async def send_parts(self, opcode, parts):
        import asyncio
        assert opcode == self.BINARY
        if self.stall_after is not None and len(self.frames) >= self.stall_after:
            self.stalled = True
            await asyncio.Event().wait()   # never returns: the peer stopped reading
        await asyncio.sleep(self.delay)
        self._record(b''.join(bytes(p) for p in parts))

    def _record(self, data):
        assert data[:4] == b'\xff\xd8\xff\xfe', data[:8]
        n = (data[4] << 8) | data[5]
        meta = dict(kv.split('=') for kv in data[6:4 + n].decode().split()[1:])
        self.frames.append((int(meta['seq']), data))

    async def receive(self):
        await self._gone.wait()
        raise OSError('closed')

    def hang_up(self):
        self._gone.set()


def body_count(data):
    """The capture number the fake drivers wrote into a frame ('frame N ...')."""
    i = data.index(b'frame ')
    return int(data[i + 6:data.index(b' ', i + 6)])
