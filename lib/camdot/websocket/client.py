"""The client half of camdot.websocket, imported only when a client is used.

    from camdot.websocket import connect
    ws = await connect('ws://127.0.0.1:5000/echo')   # the same WebSocket API as the server's
"""
import asyncio
import binascii
import os

from camdot.websocket.codec import header, mask_range
from camdot.websocket import WebSocket, WebSocketError, _tokens, accept_key


async def connect(url, protocols=None, headers=None):
    """Open a client connection (ws:// or wss://) and return its WebSocket.

        ws = await connect('ws://127.0.0.1:5000/echo', protocols=['chat'])

    Raises WebSocketError when the server refuses the upgrade.
    """
    scheme, _, rest = url.partition('://')
    if scheme not in ('ws', 'wss'):
        raise ValueError('not a ws:// or wss:// URL: ' + url)
    hostport, slash, path = rest.partition('/')
    host, _, port = hostport.rpartition(':')
    if not host or not port.isdigit():
        host, port = hostport, '443' if scheme == 'wss' else '80'
    host = host.strip('[]')
    if scheme == 'wss':
        reader, writer = await asyncio.open_connection(host, int(port), ssl=True)
    else:
        reader, writer = await asyncio.open_connection(host, int(port))
    ws = WebSocket(None, reader, writer, client=True)
    key = binascii.b2a_base64(os.urandom(16))[:-1].decode()
    req = 'GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' \
          'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n' % (
              (slash + path) or '/', hostport, key)
    if protocols:
        req += 'Sec-WebSocket-Protocol: ' + ', '.join(protocols) + '\r\n'
    for name in headers or {}:
        req += '%s: %s\r\n' % (name, headers[name])
    try:
        await ws.send_parts(None, ((req + '\r\n').encode(),))
        status = (await reader.readline()).decode().split(' ', 2)
        got = {}
        while True:
            line = (await reader.readline()).decode().strip()
            if not line:
                break
            name, _, value = line.partition(':')
            got[name.strip().lower()] = value.strip()
        if len(status) < 2 or status[1] != '101':
            raise WebSocketError('upgrade refused: ' + ' '.join(status[1:]).strip())
        if 'websocket' not in _tokens(got.get('upgrade')) or \
                'upgrade' not in _tokens(got.get('connection')) or \
                got.get('sec-websocket-accept') != accept_key(key):
            raise WebSocketError('not a valid upgrade response')
        sub = got.get('sec-websocket-protocol')
        if sub and sub not in (protocols or ()):
            raise WebSocketError('server chose a subprotocol not offered: ' + sub)
    except BaseException:
        await _close(writer)
        raise
    ws.subprotocol = sub
    if ws.ping_interval:                     # as WebSocket.handshake does on the server
        try:
            from camdot.websocket.keepalive import keepalive
            ws._ktask = asyncio.create_task(keepalive(ws))
        except MemoryError:
            pass
    return ws


def masked(op, parts, n):
    """(header, masked copy of the payload) for a client frame, with a fresh random key."""
    key = os.urandom(4)
    buf = bytearray(n)
    i = 0
    for p in parts:
        buf[i:i + len(p)] = p
        i += len(p)
    mask_range(buf, 0, n, key, 0)                 # the codec's body: camdot.websocket.mask stays unloaded
    return header(op, n, mask=key), (buf,)


async def finish(ws):
    """End a client connection, once: the server closes TCP first; wait a moment, then close."""
    if getattr(ws, '_finished', False):
        return
    ws._finished = True
    try:
        await asyncio.wait_for(ws._r.read(64), ws.close_timeout)
    except Exception:
        pass
    await _close(ws._w)


async def _close(writer):
    try:
        if hasattr(writer, 'aclose'):
            await writer.aclose()
        else:
            writer.close()
            await writer.wait_closed()
    except Exception:
        pass
