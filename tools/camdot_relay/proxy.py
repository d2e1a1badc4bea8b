"""A WebSocket proxy for microdot + camdot.websocket: a client's WebSocket piped to a target URL.

    @app.route('/chat')
    async def chat(request):
        return await proxy(request, 'ws://10.0.0.5:8080/chat')

The target is connected first, offered the client's subprotocols (and `headers`, e.g. the
target's token, which the client never sees): when it refuses or does not answer in `timeout`
seconds the client gets 502 or 504 and no upgrade. Then the client's upgrade is accepted with the
subprotocol the target chose, and messages go both ways as they are (text stays text, binary
stays binary, never re-encoded), each side within its own message limit (an oversized message
closes its sender with 1009, as camdot.websocket does anywhere). When one side closes, the other
is closed with the same code and reason; a side that failed or vanished (1006) closes the other
with 1011, and a close without a code (1005) with 1000. Pings are answered at each hop: each
connection has its own keepalive (camdot.websocket answers pings inside receive(); they are
not messages an application sees).

Like fastapi-distributed-websocket's WebSocketProxy, with binary messages and close codes.
The relay does not put it on the viewers' path (each viewer would be one more connection to the
board); it is here for apps that front a WebSocket they do not serve themselves.
"""
import asyncio

from camdot.websocket.codec import close_payload
from camdot.websocket import WebSocketError, connect, websocket_upgrade
from microdot.microdot import HTTPException


def _offered(request):
    value = request.headers.get('Sec-WebSocket-Protocol', '')
    return [p.strip() for p in value.split(',') if p.strip()]


def _passed_on(ws):
    """(code, reason) to close the other side with, from how `ws` ended."""
    code = ws.close_code
    if code is None or code == 1005:
        return 1000, ''
    reason = ws.close_reason or ''
    try:
        close_payload(code, reason)
    except ValueError:  # 1006 (lost) and other codes nobody may send
        return 1011, 'the other side of the proxy failed'
    return code, reason


async def _pump(src, dst):
    # src's messages to dst until src ends; returns src (to tell how it ended)
    try:
        while True:
            await dst.send(await src.receive())
    except (WebSocketError, OSError):
        pass
    return src


async def proxy(request, url, protocols=None, headers=None, timeout=5.0):
    """Pipe the WebSocket upgrade `request` to `url` (see the module docstring)."""
    try:
        target = await asyncio.wait_for(
            connect(url, protocols if protocols is not None else _offered(request) or None,
                    headers), timeout)
    except asyncio.TimeoutError:
        return 'The WebSocket target did not answer in %g s.' % timeout, 504
    except (WebSocketError, OSError, ValueError) as exc:
        return 'The WebSocket target refused: %s' % exc, 502
    try:
        client = await websocket_upgrade(
            request, [target.subprotocol] if target.subprotocol else None)
    except HTTPException:
        await target.close(1001)
        raise
    pumps = [asyncio.create_task(_pump(client, target)),
             asyncio.create_task(_pump(target, client))]
    try:
        done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        ended = done.pop().result()
        other = target if ended is client else client
        code, reason = _passed_on(ended)
        try:
            await other.close(code, reason)
        except Exception:
            other.abort()
        if not ended.closed:
            await ended.close(code)
    finally:
        for p in pumps:
            p.cancel()
    return ''
