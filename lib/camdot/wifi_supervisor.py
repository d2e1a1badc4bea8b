"""Keeps the board on its Wi-Fi after boot: notices the station is down, rejoins with backoff,
resets the board after a bounded time without a network, and says so on 'board/wifi'.

    from camdot.wifi_supervisor import WifiSupervisor
    wifi = WifiSupervisor('home', 'secret', hub)     # main.py, when a network is configured
    asyncio.create_task(wifi.run())

What the ESP32 does by itself: MicroPython's network driver reconnects on its own when the link
drops (WLAN.config('reconnects'), default -1: for ever), but it stops for good after some
failures (an authentication failure, as a restarting router can answer), and a station that was
never joined at boot is never retried. What camdot adds: this supervisor checks isconnected()
every CHECK_MS; once the link has been down for GRACE_MS (the driver's own reconnect had its
chance), it calls disconnect() + connect() itself, again after RETRY_MIN_MS doubling to
RETRY_MAX_MS; after reset_after_ms without a network (config wifi.reset_after_s, 10 min; 0:
never) it resets the board, whose boot tries again and offers the setup page when the network
is gone for good. connect() does not block: the app keeps serving whoever can still reach it.

Each change of state is printed and published on TOPIC ({'state': 'connected' | 'down' |
'rejoining' | 'resetting', 'detail': ...}); the camera Thing's `wifi` property shows it on the
page. Viewers reconnect by themselves once the board is back (the page retries with backoff);
connections that died with the link are dropped by the stream's viewer timeout and the
WebSocket keepalive.
"""
import asyncio

from camdot.compat import ticks_add, ticks_diff, ticks_ms

TOPIC = 'board/wifi'
CHECK_MS = 2000          # how often the link is checked
GRACE_MS = 10000         # down this long before camdot rejoins (the driver tries first)
RETRY_MIN_MS = 5000      # between camdot's own attempts, doubling ...
RETRY_MAX_MS = 60000     # ... up to this
RESET_AFTER_MS = 600000  # no network this long: reset the board (config wifi.reset_after_s)


def log(msg):
    print('camdot wifi:', msg)


def _reset():
    import machine
    machine.reset()


class WifiSupervisor:
    check_ms = CHECK_MS
    grace_ms = GRACE_MS
    retry_min_ms = RETRY_MIN_MS
    retry_max_ms = RETRY_MAX_MS

    def __init__(self, ssid, password, hub=None, reset_after_ms=RESET_AFTER_MS, reset=_reset):
        self.ssid = ssid
        self.password = password
        self.hub = hub
        self.reset_after_ms = reset_after_ms
        self.reset = reset
        self.state = None        # the last published state
        self.down_since = None   # ticks when the link was found down
        self.next_try = 0        # ticks of camdot's next own attempt
        self.delay = self.retry_min_ms
        self.attempts = 0        # camdot's own attempts in this outage
        self.drops = 0           # outages since boot

    def _publish(self, state, detail):
        self.state = state
        log('%s (%s)' % (state, detail))
        if self.hub is not None:
            self.hub.publish(TOPIC, {'state': state, 'detail': detail})

    def check(self, now=None):
        """One look at the link (run() calls it every check_ms): act on what it finds."""
        import network
        wlan = network.WLAN(network.STA_IF)
        now = ticks_ms() if now is None else now
        if wlan.isconnected():
            if self.state != 'connected':
                detail = wlan.ifconfig()[0]
                if self.down_since is not None:
                    detail += ', back after %d s' % (ticks_diff(now, self.down_since) // 1000)
                self._publish('connected', detail)
            self.down_since = None
            self.delay = self.retry_min_ms
            self.attempts = 0
            return
        if self.down_since is None:
            self.down_since = now
            self.drops += 1
            self.next_try = ticks_add(now, self.grace_ms)
            self._publish('down', 'no link to %r (status %s)' % (self.ssid, wlan.status()))
            return
        down = ticks_diff(now, self.down_since)
        if self.reset_after_ms and down >= self.reset_after_ms:
            self._publish('resetting', 'no network for %d s' % (down // 1000))
            self.reset()
            return
        if ticks_diff(now, self.next_try) >= 0:
            self.attempts += 1
            self._publish('rejoining', 'attempt %d, down %d s' % (self.attempts, down // 1000))
            try:
                wlan.active(True)
                wlan.disconnect()
                wlan.connect(self.ssid, self.password)
            except OSError as exc:
                log('connect failed: %r' % (exc,))
            self.next_try = ticks_add(now, self.delay)
            self.delay = min(self.delay * 2, self.retry_max_ms)

    async def run(self):
        while True:
            try:
                self.check()
            except Exception as exc:   # the supervisor must outlive any surprise from the radio
                log('check failed: %r' % (exc,))
            await asyncio.sleep(self.check_ms / 1000)
