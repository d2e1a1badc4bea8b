"""Keepalive pings for camdot.websocket, imported only when `ping_interval` is set.

    WebSocket.ping_interval = 20     # ping every 20 s; no pong within ping_timeout: close 1011
"""
import asyncio

from camdot.compat import ticks_diff, ticks_ms
from camdot.websocket.codec import close_payload
from camdot.websocket import WebSocketError


async def keepalive(ws):
    """Ping `ws` every ping_interval; a peer whose pong does not come within the timeout is dead."""
    timeout = ws.ping_timeout or ws.ping_interval
    try:
        while not ws.closed:
            await asyncio.sleep(ws.ping_interval)
            ws._pong = False
            await asyncio.wait_for(ws.send_parts(9, (b'',)), timeout)
            start = ticks_ms()
            while not ws._pong:
                left = timeout - ticks_diff(ticks_ms(), start) / 1000
                if left <= 0:
                    raise asyncio.TimeoutError
                if ws._rtask is not None or len(ws._pending) > 7:
                    await asyncio.sleep(0.05)    # the receiving task sees the pong
                    continue
                # Nobody is receiving (a send-only handler): read here, keep the messages for
                # the next receive().
                ws._kread = True
                try:
                    op, data = await asyncio.wait_for(ws._event(), left)
                finally:
                    ws._kread = False
                if op < 8:
                    if not ws._pending:
                        ws._pending = []
                    ws._pending.append(data)
    except asyncio.TimeoutError:         # a dead peer
        await dead(ws)
    except (WebSocketError, OSError):
        pass


async def dead(ws):
    """End `ws`, whose peer missed the keepalive's pong: close 1011 if its socket takes it."""
    try:
        await asyncio.wait_for(ws.send_parts(8, (close_payload(1011, 'keepalive timeout'),)), 1)
    except Exception:
        pass
    ws.close_code = 1011
    ws.abort()
