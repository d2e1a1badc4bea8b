"""RFC 6455 WebSockets for microdot: a drop-in for `microdot.websocket`, plus a client.

    @app.route('/echo')
    @with_websocket                    # or @with_websocket(protocols=['chat'], origins=[...])
    async def echo(request, ws):
        async for message in ws:       # str (text) or bytes (binary); ends when closed
            await ws.send(message)

    ws = await connect('ws://127.0.0.1:5000/echo')   # a client with the same WebSocket API

Layers, lowest first (each imports only those before it):
    codec       frames <-> bytes, sans-IO (mask, utf8 and _viper: its hot paths)
    protocol    the rules over the codec, sans-IO: pings answered, closes echoed, violations failed
    handshake   the server's opening handshake, sans-IO: requests checked, the 101; the refusals
    keepalive   pings on a timer
    connection  WebSocket: the server side of a connection over asyncio streams
    client      ClientWebSocket and connect(), with the client's handshake (loaded on first use)
    routes      microdot glue: with_websocket, websocket_upgrade, websocket_wrapper
"""
from camdot.websocket.connection import WebSocket, WebSocketError
from camdot.websocket.handshake import HandshakeError, accept_key
from camdot.websocket.routes import websocket_upgrade, websocket_wrapper, with_websocket

# microdot.websocket's public names, then ours.
__all__ = ['WebSocket', 'WebSocketError', 'websocket_upgrade', 'websocket_wrapper',
           'with_websocket', 'ClientWebSocket', 'HandshakeError', 'accept_key', 'connect']


def __getattr__(name):
    # The client (camdot.websocket.client) is loaded on first use: a server, the board's app,
    # does not hold it (~4 KB of RAM from .mpy files).
    if name in ('connect', 'ClientWebSocket'):
        import camdot.websocket.client as client
        return getattr(client, name)
    raise AttributeError(name)
