"""Keepalive pings: a peer that does not answer a ping in time is dead, and its connection ends.

    WebSocket.ping_interval = 20     # ping every 20 s; no pong within ping_timeout: close 1011

WebSocket.start_keepalive() runs keepalive(ws) as a task after the opening handshake. It uses the
connection's public side only: ping(), fail(), closed.
"""
import asyncio

from camdot.websocket.codec import CLOSE_INTERNAL_ERROR


async def keepalive(ws):
    """Ping `ws` every ping_interval; without a pong within ping_timeout (0: ping_interval), fail
    the connection with 1011."""
    timeout = ws.ping_timeout or ws.ping_interval
    try:
        while not ws.closed:
            await asyncio.sleep(ws.ping_interval)
            await asyncio.wait_for(ws.ping(), timeout)
    except asyncio.TimeoutError:        # a dead peer
        await ws.fail(CLOSE_INTERNAL_ERROR, 'keepalive timeout')
    except Exception:
        if not ws.closed:               # (once closed, an error just means there is no peer)
            raise
