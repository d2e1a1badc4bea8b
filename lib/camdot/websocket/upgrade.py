"""microdot's in-route upgrade, imported by camdot.websocket on first use.

    from camdot.websocket import websocket_upgrade   # loaded from here
"""
from microdot import Response
from microdot.microdot import HTTPException

from camdot.websocket import WebSocket


async def websocket_upgrade(request, protocols=None, origins=None):
    """Upgrade the request to a WebSocket inside a route; returns the WebSocket.

        ws = await websocket_upgrade(request, protocols=['chat'])

    A bad request raises HandshakeError (an HTTPException: 400, 403 or 426).
    """
    ws = WebSocket(request)
    try:
        await ws.handshake(protocols, origins)
    except HTTPException as exc:         # HandshakeError (camdot.websocket.refuse)
        # An HTTPException carries no headers, so the app answers 426 with the version through
        # this error handler.
        app = request.app
        if exc.status_code == 426 and 426 not in app.error_handlers:
            app.errorhandler(426)(_version_required)
        raise

    @request.after_request
    async def after_request(request, response):
        return Response.already_handled

    return ws


def _version_required(request):
    return 'Unsupported WebSocket version', 426, {'Sec-WebSocket-Version': '13'}
