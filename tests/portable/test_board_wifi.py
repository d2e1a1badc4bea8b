"""camdot.wifi (joining Wi-Fi as a station, the access point, scanning) against a fake of the
ESP32 `network` module (both runtimes). The setup page: test_wifi_setup.py."""
import fake_network
from board_fixtures import setup, teardown

from camdot import wifi
from camdot.compat import ticks_diff, ticks_ms


def test_ap_name_uses_last_two_mac_bytes():
    assert wifi.ap_name(b'\x24\x6f\x28\xa1\xb2\xc3') == 'camdot-B2C3'
    assert wifi.ap_name(bytes([0, 1, 2, 3, 4, 5])) == 'camdot-0405'


def test_station_connects_after_some_polls():
    setup({'home': ('secret-pw', 3)})
    try:
        assert wifi.set_hostname('porch-cam')
        ip = wifi.connect_station('home', 'secret-pw', timeout_ms=2000, poll_ms=1)
        assert ip == '192.168.1.50'
        assert fake_network.hostname() == 'porch-cam'
        assert ('connect', 'home') in fake_network.calls
        # the hostname is set before the interface is brought up, as MicroPython asks
        assert fake_network.calls.index(('hostname', 'porch-cam')) < fake_network.calls.index(('connect', 'home'))
    finally:
        teardown()


def test_bad_hostname_is_logged_not_raised():
    setup()
    try:
        assert wifi.set_hostname('x' * 40) is False
    finally:
        teardown()


def test_wrong_password_stops_at_once():
    setup({'home': ('secret-pw', 2)})
    try:
        start = ticks_ms()
        ip = wifi.connect_station('home', 'nope-nope', timeout_ms=5000, retries=3, poll_ms=1)
        assert ip is None
        assert ticks_diff(ticks_ms(), start) < 2000  # no waiting out the timeout, no retries
        assert [c for c in fake_network.calls if c[0] == 'connect'] == [('connect', 'home')]
        assert fake_network.WLAN(fake_network.STA_IF).active() is False
    finally:
        teardown()


def test_missing_network_retries_then_gives_up_in_bounded_time():
    setup({})
    try:
        start = ticks_ms()
        ip = wifi.connect_station('elsewhere', 'secret-pw', timeout_ms=60, retries=3, poll_ms=5)
        elapsed = ticks_diff(ticks_ms(), start)
        assert ip is None
        assert len([c for c in fake_network.calls if c[0] == 'connect']) == 3
        assert elapsed < 2000, elapsed
    finally:
        teardown()


def test_existing_link_to_the_same_network_is_reused():
    setup({'home': ('secret-pw', 1)})
    try:
        assert wifi.connect_station('home', 'secret-pw', poll_ms=1)
        del fake_network.calls[:]
        assert wifi.connect_station('home', 'secret-pw', poll_ms=1) == '192.168.1.50'
        assert not [c for c in fake_network.calls if c[0] == 'connect']
    finally:
        teardown()


def test_access_point_is_open_and_named():
    setup()
    try:
        ap = wifi.start_ap('camdot-B2C3')
        assert ap.active()
        assert ap.config('ssid') == 'camdot-B2C3'
        assert ap.config('security') == fake_network.AUTH_OPEN
    finally:
        teardown()


def test_scan_dedupes_and_sorts_by_signal():
    setup({'b': ('x' * 8, 1), 'a': ('x' * 8, 1), '': ('', 1)}, rssi={'a': -40, 'b': -80})
    try:
        assert wifi.scan() == [('a', -40), ('b', -80)]
    finally:
        teardown()


def test_scan_failure_gives_empty_list():
    setup()
    try:
        fake_network.WLAN(fake_network.STA_IF).scan = None  # calling None raises TypeError
        assert wifi.scan() == []
    finally:
        teardown()
