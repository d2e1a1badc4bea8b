"""camdot.wifi_supervisor against the fake ESP32 `network` module: Wi-Fi that drops after boot
is rejoined with backoff, a board without a network resets after a bounded time, and the state
reaches the camera Thing's `wifi` property (both runtimes). Times are shortened; the logic is
driven tick by tick through check(now)."""
import fake_network
from board_fixtures import setup, teardown

from camdot import wifi
from camdot.hub import Hub
from camdot.wifi_supervisor import TOPIC, WifiSupervisor


def joined(air=None):
    setup(air if air is not None else {'home': ('secret-pw', 2)})
    assert wifi.connect_station('home', 'secret-pw', timeout_ms=1000, poll_ms=1)   # boot did this


def supervisor(hub=None, **kw):
    resets = []
    sup = WifiSupervisor('home', 'secret-pw', hub, reset=lambda: resets.append(1), **kw)
    sup.grace_ms = 100
    sup.retry_min_ms = 20
    sup.retry_max_ms = 80
    return sup, resets


def connects():
    return len([c for c in fake_network.calls if c[0] == 'connect'])


def test_a_dropped_link_is_rejoined_by_camdot_when_the_driver_gave_up():
    joined()
    try:
        hub = Hub()
        states = []
        hub.subscribe(TOPIC, callback=lambda t, d: states.append(d))
        sup, resets = supervisor(hub)
        sup.check(0)
        assert states[-1]['state'] == 'connected' and '192.168.1.50' in states[-1]['detail']
        before = connects()
        fake_network.drop()                       # the router restarts: link gone
        sup.check(1000)
        assert states[-1]['state'] == 'down'
        sup.check(1050)                           # within the grace: the driver's turn
        assert connects() == before
        sup.check(1100)                           # camdot rejoins
        assert states[-1]['state'] == 'rejoining' and connects() == before + 1
        for t in (1110, 1120, 1130):              # the join takes a few polls
            sup.check(t)
        assert states[-1]['state'] == 'connected' and 'back after' in states[-1]['detail']
        assert sup.drops == 1 and resets == []
    finally:
        teardown()


def test_the_drivers_own_reconnect_is_given_its_chance():
    joined()
    try:
        fake_network.auto_reconnect[0] = True     # the ESP32 default (reconnects=-1)
        sup, resets = supervisor()
        sup.check(0)
        before = connects()
        fake_network.drop()
        for t in (10, 20, 30, 40, 50):
            sup.check(t)
        assert sup.state == 'connected' and connects() == before   # no camdot attempt needed
    finally:
        teardown()


def test_a_network_gone_for_long_is_retried_with_backoff_then_the_board_resets():
    joined()
    try:
        sup, resets = supervisor(reset_after_ms=1000)
        sup.check(0)
        del fake_network.air['home']              # the router is off
        fake_network.drop()
        tries = []
        for t in range(0, 1200, 5):
            n = connects()
            sup.check(t)
            if connects() > n:
                tries.append(t)
            if resets:
                break
        gaps = [b - a for a, b in zip(tries, tries[1:])]
        assert tries[0] >= 100                    # after the grace
        assert gaps[:3] == [20, 40, 80] and max(gaps) <= 80, gaps   # doubling, capped
        assert resets == [1] and sup.state == 'resetting'
        assert 1000 <= t < 1010                   # bounded: reset_after_ms
    finally:
        teardown()


def test_no_reset_when_reset_after_is_zero_and_the_network_comes_back():
    joined()
    try:
        sup, resets = supervisor(reset_after_ms=0)
        sup.check(0)
        del fake_network.air['home']
        fake_network.drop()
        for t in range(0, 5000, 50):
            sup.check(t)
        assert resets == [] and sup.state == 'rejoining'
        fake_network.air['home'] = ('secret-pw', 1)   # back
        for t in range(5000, 7000, 50):
            sup.check(t)
            if sup.state == 'connected':
                break
        assert sup.state == 'connected'
    finally:
        teardown()


def test_the_state_reaches_the_camera_things_wifi_property():
    from microdot import Microdot
    from camdot import config
    from thing_app import install_thing
    from camdot.settings import Settings
    from harness import tmp_path

    class Memory(Settings):
        def flush(self):
            return False
    joined()
    try:
        hub = Hub()
        ct = install_thing(Microdot(), hub, None, None, config.load(None),
                           store=Memory(tmp_path('wifi-sup-unused.json')))
        seen = []
        hub.subscribe('thing/camera/property/wifi', callback=lambda t, v: seen.append(v))
        sup, _ = supervisor(hub)
        sup.check(0)
        fake_network.drop()
        sup.check(10)
        assert ct.thing.read('wifi').startswith('down (')
        assert seen[0].startswith('connected (192.168.1.50') and seen[-1].startswith('down')
    finally:
        teardown()


async def test_run_survives_a_radio_that_raises():
    import asyncio
    joined()
    try:
        sup, _ = supervisor()
        sup.check_ms = 5
        calls = []
        real = sup.check

        def flaky(now=None):
            calls.append(1)
            if len(calls) == 1:
                raise OSError('Wifi Internal Error')
            real(now)
        sup.check = flaky
        task = asyncio.create_task(sup.run())
        for _ in range(100):
            if len(calls) >= 3:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        assert len(calls) >= 3 and sup.state == 'connected'
    finally:
        teardown()
