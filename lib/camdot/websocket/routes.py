"""microdot routes that upgrade to a WebSocket: with_websocket, websocket_upgrade, websocket_wrapper.

    @app.route('/echo')
    @with_websocket                          # or @with_websocket(protocols=['chat'],
    async def echo(request, ws):             #        origins=[...], max_message_length=65536)
        async for message in ws:
            await ws.send(message)

A refused upgrade raises HandshakeError, an HTTPException: microdot answers it as it answers
abort(400), so the app's error handlers, its after_error_request hooks and the test client all
see it. A 426 must name the version spoken (RFC 6455 4.4), which an HTTPException can't carry:
the first 426 adds an error handler for 426 to the app that does (an app's own 426 handler is
used instead, if it has one).
"""
import gc

from microdot import Response
from microdot.microdot import HTTPException

from camdot.compat import print_exception
from camdot.websocket.codec import CLOSE_INTERNAL_ERROR, CLOSE_NORMAL
from camdot.websocket.connection import WebSocket, WebSocketError
from camdot.websocket.handshake import UNSUPPORTED_VERSION, VERSION_HEADERS, HandshakeError

try:
    from functools import wraps
except ImportError:   # MicroPython: the wrapper keeps its own name (saves microdot.helpers' RAM)
    wraps = None


async def upgrade(request, protocols=None, origins=None, max_message_length=None):
    """The WebSocket for `request` after a good opening handshake; a bad one raises
    HandshakeError (400, 403, 426), and no room for one more connection HTTPException 503."""
    try:
        ws = WebSocket(request, max_message_length=max_message_length)
        await ws.handshake(protocols, origins)
    except HandshakeError as exc:
        if exc.status_code == UNSUPPORTED_VERSION[0]:
            _answer_426_with_version(request)
        raise
    except MemoryError:
        gc.collect()
        raise HTTPException(503, 'Out of memory, try again later')
    return ws


async def websocket_upgrade(request, protocols=None, origins=None, max_message_length=None):
    """Upgrade the request to a WebSocket inside a route (microdot's API); returns it.

        ws = await websocket_upgrade(request, protocols=['chat'])

    The route's return value is then ignored: the connection is the answer.
    """
    ws = await upgrade(request, protocols, origins, max_message_length)

    @request.after_request
    async def after_request(request, response):
        return Response.already_handled

    return ws


def websocket_wrapper(f, upgrade_function):
    """The route that runs the handler f(request, ws, ...) on the WebSocket that
    `await upgrade_function(request)` opens (microdot's API). When f returns, the connection is
    closed with 1000; an exception in f is logged and closes it with 1011."""
    async def wrapper(request, *args, **kwargs):
        ws = await upgrade_function(request)
        code = CLOSE_NORMAL
        out_of_memory = False
        try:
            await f(request, ws, *args, **kwargs)
        except (WebSocketError, OSError):
            pass
        except MemoryError:
            out_of_memory = True
            code = CLOSE_INTERNAL_ERROR
        except Exception as exc:
            print_exception(exc)
            code = CLOSE_INTERNAL_ERROR
        try:   # (closing drops the messages not received yet: room to log after it)
            await (ws.close() if code == CLOSE_NORMAL else ws.close(code))
        except Exception:
            ws.abort()
        if out_of_memory:
            gc.collect()
            print('camdot.websocket: out of memory; closed this connection with 1011')
        return Response.already_handled
    return wraps(f)(wrapper) if wraps else wrapper


def with_websocket(f=None, protocols=None, origins=None, max_message_length=None):
    """Make a route a WebSocket endpoint; the handler gets (request, ws, ...).

        @app.route('/echo')
        @with_websocket          # or @with_websocket(protocols=[...], origins=[...],
        async def echo(request, ws): ...            max_message_length=N)

    `protocols`: subprotocols, in order of preference. `origins`: the browser origins allowed
    (WebSocket.origins if None). `max_message_length`: this route's limit (bytes; 0: none;
    None: WebSocket.max_message_length). A bad upgrade request is answered 400, 403 (origin) or
    426 (version). An exception in the handler is logged and closes its connection with 1011;
    the server keeps serving.
    """
    if f is None:
        return lambda g: with_websocket(g, protocols, origins, max_message_length)

    async def upgrade_route(request):
        return await upgrade(request, protocols, origins, max_message_length)

    return websocket_wrapper(f, upgrade_route)


def _answer_426_with_version(request):
    app = request.app
    sub = request.subapp
    if 426 not in app.error_handlers and not (sub and 426 in sub.error_handlers):
        app.errorhandler(426)(_version_required)


def _version_required(request):
    return UNSUPPORTED_VERSION[1], 426, VERSION_HEADERS
