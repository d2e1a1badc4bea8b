"""Refused WebSocket upgrades and failed connections: what camdot.websocket imports only when a
request is refused or a peer breaks the protocol.

    from camdot.websocket import HandshakeError   # loaded from here on first use
"""
import asyncio

from microdot.microdot import HTTPException

from camdot.websocket.codec import close_payload


class HandshakeError(HTTPException):
    """An upgrade request refused with `status_code` (400, 403, 426) and extra `headers`."""

    def __init__(self, status_code, reason, headers=None):
        super().__init__(status_code, reason)
        self.headers = headers or {}


# WebSocket.handshake's checks, in order: (status, reason) when one fails.
REFUSALS = (
    (400, 'WebSocket upgrade needs GET and HTTP/1.1'),
    (400, 'Not a WebSocket upgrade request'),
    (426, 'Unsupported WebSocket version'),
    (400, 'Bad Sec-WebSocket-Key'),
    (403, 'Origin not allowed'),
)


def refuse(bad):
    """Raise the HandshakeError for failed check number `bad` (an index into REFUSALS)."""
    status, reason = REFUSALS[bad]
    # 426 tells the client which version we speak (RFC 6455 4.4).
    raise HandshakeError(status, reason, {'Sec-WebSocket-Version': '13'} if status == 426 else None)


async def answer(ws, exc):
    # Written here: microdot's responses say HTTP/1.0, and some clients (websockets) only read
    # an HTTP/1.1 answer to an upgrade.
    phrase = {400: 'Bad Request', 403: 'Forbidden'}.get(exc.status_code, 'Upgrade Required')
    res = 'HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n' \
          'Connection: close\r\n' % (exc.status_code, phrase, len(exc.reason))
    for name in exc.headers:
        res += '%s: %s\r\n' % (name, exc.headers[name])
    await ws.send_parts(None, ((res + '\r\n' + exc.reason).encode(),))


async def fail(ws, exc):
    """Fail `ws` for the ProtocolError `exc`: send its code, drain, end; raise WebSocketError."""
    from camdot.websocket import WebSocketError
    ws.close_code = exc.code
    try:
        await ws.send_parts(8, (close_payload(exc.code, str(exc)[:100]),))
        # Read what the peer still sends until it pauses or closes: closing a socket with unread
        # data resets the connection, and the peer could lose our close.
        try:
            ws._w.write_eof()      # CPython: tell the peer we are done
        except Exception:
            pass
        for _ in range(int(ws.close_timeout * 10)):
            try:
                if not await asyncio.wait_for(ws._r.read(ws.read_size), 0.1):
                    break
            except Exception:
                break
    except (WebSocketError, ValueError):
        pass
    await ws._end()
    raise WebSocketError('protocol error (%d)' % exc.code)

