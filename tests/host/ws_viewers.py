"""Many cheap WebSocket viewers in one asyncio loop, for the relay's tests and bench.

    v = await open_viewer('127.0.0.1', port, '/cam1/ws/stream')
    ... v.frames: [(seq, t_ms, received_ms)], v.texts, v.closed
    v.close()

A viewer is a bare asyncio Protocol (no library on the hot path: hundreds of them must not cost
the machine more than the server they measure): the opening handshake, then it splits the
server's unmasked frames and reads each binary message's camdot comment ("camdot seq=N t=MS").
"""
import asyncio
import base64
import os
import time


def com_meta(data):
    """(seq, t) from a frame's camdot comment, or None."""
    if bytes(data[:4]) != b'\xff\xd8\xff\xfe':
        return None
    n = (data[4] << 8) | data[5]
    meta = {}
    for word in bytes(data[6:4 + n]).decode('latin-1').split()[1:]:
        k, _, v = word.partition('=')
        if v.isdigit():
            meta[k] = int(v)
    return meta.get('seq'), meta.get('t')


class Viewer(asyncio.Protocol):
    def __init__(self, host, port, path, headers=None):
        self.request = ('GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n'
                        'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n'
                        'Sec-WebSocket-Version: 13\r\n%s\r\n' % (
                            path, host, port, base64.b64encode(os.urandom(16)).decode(),
                            ''.join('%s: %s\r\n' % kv for kv in (headers or {}).items()))).encode()
        self.buf = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.frames = []
        self.texts = []
        self.closed = False
        self.status = None
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data):
        buf = self.buf
        buf += data
        if not self.upgraded.done():
            end = buf.find(b'\r\n\r\n')
            if end < 0:
                return
            head = bytes(buf[:end]).decode('latin-1')
            del buf[:end + 4]
            self.status = int(head.split()[1])
            if self.status != 101:
                self.upgraded.set_exception(ConnectionError(head.split('\r\n')[0]))
                self.transport.close()
                return
            self.upgraded.set_result(True)
        while len(buf) >= 2:
            n = buf[1] & 127
            off = 2
            if n == 126:
                if len(buf) < 4:
                    return
                n = int.from_bytes(buf[2:4], 'big')
                off = 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n = int.from_bytes(buf[2:10], 'big')
                off = 10
            if len(buf) < off + n:
                return
            op = buf[0] & 15
            if op == 2:
                meta = com_meta(memoryview(buf)[off:off + 64])
                if meta is not None:
                    self.frames.append((meta[0], meta[1], time.time() * 1000))
            elif op == 1:
                self.texts.append(bytes(buf[off:off + n]).decode())
            elif op == 9:  # ping: answer (masked, as a client must)
                payload = bytes(buf[off:off + n])
                mask = os.urandom(4)
                self.transport.write(bytes((0x8A, 0x80 | n)) + mask + bytes(
                    b ^ mask[i % 4] for i, b in enumerate(payload)))
            elif op == 8:
                self.closed = True
            del buf[:off + n]

    def connection_lost(self, exc):
        self.closed = True
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError('closed before the upgrade'))

    def close(self):
        if self.transport is not None:
            self.transport.abort()


async def open_viewer(host, port, path, headers=None, timeout=10):
    loop = asyncio.get_running_loop()
    _, v = await asyncio.wait_for(loop.create_connection(
        lambda: Viewer(host, port, path, headers), host, port), timeout)
    await asyncio.wait_for(v.upgraded, timeout)
    return v


def delivered(frames, since_ms, until_ms):
    """(distinct frames received, frames the source made) of a window, by sequence number: a
    viewer that got every frame scores 1.0 whatever the source's pace."""
    seqs = sorted({s for s, t, r in frames if since_ms <= r <= until_ms and s is not None})
    if len(seqs) < 2:
        return len(seqs), max(1, len(seqs))
    return len(seqs), seqs[-1] - seqs[0] + 1
