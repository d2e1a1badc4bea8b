"""The client side: connect() opens a ClientWebSocket, with the same API as the server's WebSocket.

    from camdot.websocket import connect
    ws = await connect('ws://192.168.4.1/ws/stream', max_message_length=1 << 20, timeout=10)
    frame = await ws.receive()

What differs from the server side is the opening handshake (the client asks: client_request()
and check_response() below, sans-IO), the masking of every frame it sends (ClientProtocol), and
the end: the server closes TCP first, the client waits a moment for that and then closes its
socket. (camdot.websocket loads this module on first use of connect or ClientWebSocket.)
"""
import asyncio
import binascii
import os

from camdot.websocket.connection import WebSocket, WebSocketError
from camdot.websocket.handshake import accept_key, tokens
from camdot.websocket.protocol import ClientProtocol


def client_request(path, host, protocols=None, headers=None):
    """(key, request head as bytes) for an upgrade of `path` on `host` ('name:port')."""
    key = binascii.b2a_base64(os.urandom(16))[:-1].decode()
    req = 'GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' \
          'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n' % (path, host, key)
    if protocols:
        req += 'Sec-WebSocket-Protocol: ' + ', '.join(protocols) + '\r\n'
    for name in headers or {}:
        req += '%s: %s\r\n' % (name, headers[name])
    return key, (req + '\r\n').encode()


def check_response(status_line, headers, key, protocols=None):
    """The subprotocol the server chose (or None) from its answer: the status line (str) and
    `headers` (a dict with lower-case names). ValueError says what is wrong with it."""
    status = status_line.split(' ', 2)
    if len(status) < 2 or status[1] != '101':
        raise ValueError('upgrade refused: ' + ' '.join(status[1:]).strip())
    if 'websocket' not in tokens(headers.get('upgrade')) or \
            'upgrade' not in tokens(headers.get('connection')) or \
            headers.get('sec-websocket-accept') != accept_key(key):
        raise ValueError('not a valid upgrade response')
    sub = headers.get('sec-websocket-protocol')
    if sub and sub not in (protocols or ()):
        raise ValueError('server chose a subprotocol not offered: ' + sub)
    return sub


class ClientWebSocket(WebSocket):
    """One client connection (see connect())."""
    Protocol = ClientProtocol
    #: Largest message accepted by a client unless connect() says otherwise: 1 MiB, as the
    #: `websockets` library has it, enough for any ESP32-CAM frame (UXGA JPEG at the best
    #: quality is a few hundred KB; VGA ~30 KB). A bigger one closes with 1009. 0: no limit.
    max_message_length = 1 << 20
    _finished = False

    def __init__(self, reader, writer, max_message_length=None):
        WebSocket.__init__(self, None, reader, writer, max_message_length)

    async def handshake(self, path, host, protocols=None, headers=None):
        """Ask for the upgrade of `path` on `host` and check the answer (WebSocketError if
        refused: `status_code` is the HTTP status, or None for an answer that isn't one)."""
        key, req = client_request(path, host, protocols, headers)
        await self._write(req)
        status = (await self._r.readline()).decode()
        got = {}
        while True:
            line = (await self._r.readline()).decode().strip()
            if not line:
                break
            name, _, value = line.partition(':')
            got[name.strip().lower()] = value.strip()
        try:
            self.subprotocol = check_response(status, got, key, protocols)
        except ValueError as exc:
            err = WebSocketError(str(exc))
            code = status.split(' ', 2)[1:2]
            if code and code[0].isdigit() and code[0] != '101':
                err.status_code = int(code[0])
            raise err
        self.start_keepalive()

    async def _end(self):
        # The server closes TCP first (RFC 6455 7.1.1): wait up to close_timeout for that,
        # unless another task is reading (it sees the end too), then close the socket, once.
        await WebSocket._end(self)
        if self._finished:
            return
        self._finished = True
        if self._reader is None or self._reader is asyncio.current_task():
            try:
                await asyncio.wait_for(self._r.read(64), self.close_timeout)
            except Exception:
                pass
        await _close(self._w)


async def connect(url, protocols=None, headers=None, max_message_length=None, timeout=None):
    """Open a client connection (ws:// or wss://) and return its ClientWebSocket.

        ws = await connect('ws://127.0.0.1:5000/echo', protocols=['chat'])

    `max_message_length`: the largest message this connection accepts (None: the class
    default, 1 MiB; 0: no limit). `timeout`: seconds for the TCP connect and the opening
    handshake together (None: no bound); asyncio.TimeoutError when it runs out. Raises
    WebSocketError when the server refuses the upgrade, ValueError for a URL that isn't ws://
    or wss://.
    """
    scheme, _, rest = url.partition('://')
    if scheme not in ('ws', 'wss'):
        raise ValueError('not a ws:// or wss:// URL: ' + url)
    hostport, slash, path = rest.partition('/')
    host, _, port = hostport.rpartition(':')
    if not host or not port.isdigit():
        host, port = hostport, '443' if scheme == 'wss' else '80'
    host = host.strip('[]')
    opening = _open(scheme == 'wss', host, int(port), (slash + path) or '/', hostport, protocols,
                    headers, max_message_length)
    if timeout is None:
        return await opening
    return await asyncio.wait_for(opening, timeout)


async def _open(tls, host, port, path, hostport, protocols, headers, max_message_length):
    if tls:
        reader, writer = await asyncio.open_connection(host, port, ssl=True)
    else:
        reader, writer = await asyncio.open_connection(host, port)
    try:
        ws = ClientWebSocket(reader, writer, max_message_length)
        await ws.handshake(path, hostport, protocols, headers)
    except BaseException:          # (a timeout's cancellation too: the socket is closed)
        await _close(writer)
        raise
    return ws


async def _close(writer):
    try:
        if hasattr(writer, 'aclose'):
            await writer.aclose()
        else:
            writer.close()
            await writer.wait_closed()
    except Exception:
        pass
