"""Refused WebSocket upgrades, imported by camdot.websocket only when a request is refused.

    from camdot.websocket import HandshakeError   # loaded from here on first use
"""
from microdot.microdot import HTTPException


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
    await ws._raw(res + '\r\n' + exc.reason)


def version_handler(request, exc):
    # websocket_upgrade: an HTTPException carries no headers, so the app answers 426 with the
    # version through this error handler.
    app = request.app
    if exc.status_code == 426 and 426 not in app.error_handlers:
        app.errorhandler(426)(_version_required)


def _version_required(request):
    return 'Unsupported WebSocket version', 426, {'Sec-WebSocket-Version': '13'}
