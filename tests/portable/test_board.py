"""camdot.board (boot sequence, safe mode, watchdog) against fakes of the ESP32 `network` and
`machine` modules (both runtimes)."""
import json
import sys

import fake_machine
import fake_network
from board_fixtures import setup, teardown, write
from harness import raises, remove, tmp_path, until

from camdot import board, boot_sequence, watchdog, wifi, wifi_setup


def test_import_touches_no_hardware_module():
    saved = {name: sys.modules.pop(name) for name in ('network', 'camdot.board') if name in sys.modules}
    try:
        import camdot.board
        assert 'network' not in sys.modules   # nothing hardware-specific runs at import
        assert camdot.board.ON_BOARD == (sys.platform == 'esp32')
        assert camdot.board.state['booted'] is False
    finally:
        sys.modules.pop('camdot.board', None)
        sys.modules.update(saved)
        import camdot
        camdot.board = board   # `from camdot import board` finds the package's attribute first


def test_safe_mode_by_flag_file():
    setup()
    flag = tmp_path('safemode')
    write(flag, '')
    try:
        board.SAFE_FLAG = flag
        assert board.safe_mode() == 'flag file ' + flag   # main.py run without boot.py
        state = board.boot(tmp_path('no-config.json'))
        assert state['safe'] == 'flag file ' + flag
        assert board.safe_mode() == state['safe']
        assert fake_network.calls == []                   # no Wi-Fi in safe mode
    finally:
        remove(flag)
        teardown()


def test_safe_mode_by_pin_held_low():
    setup(levels={0: 0})
    try:
        board.SAFE_FLAG = tmp_path('no-such-flag')
        state = board.boot(tmp_path('no-config.json'))
        assert state['safe'] == 'pin 0 held low'
        assert fake_machine.written[33] == 1   # the LED lit for the window is off again
    finally:
        teardown()


def test_no_safe_mode_when_pin_is_high():
    setup()
    try:
        assert boot_sequence.check_safe_mode(tmp_path('no-such-flag'), 0, 30) is None
    finally:
        teardown()


def boot_with(cfg, air=None, setup_result=False, levels=None, cause=1, rtc=b''):
    """Run board.boot() with `cfg` as the config file and a stand-in for the setup page."""
    path = tmp_path('board-boot.json')
    write(path, json.dumps(cfg))
    setup(air, levels, cause=cause, rtc=rtc)
    board.SAFE_FLAG = tmp_path('no-such-flag')
    sys.modules['camdot.wifi'] = wifi   # boot() drops them after use; patches below go to these
    sys.modules['camdot.wifi_setup'] = wifi_setup
    seen = []
    real = wifi_setup.run_setup

    def fake_setup(name, cfg, path, timeout_ms=0):
        seen.append(name)
        return setup_result
    wifi_setup.run_setup = fake_setup
    try:
        try:
            state = board.boot(path)
        except fake_machine.Reset:
            state = 'reset'
        return state, seen
    finally:
        wifi_setup.run_setup = real
        remove(path)


def test_boot_joins_configured_wifi():
    try:
        state, seen = boot_with({'hostname': 'porch', 'wifi': {'ssid': 'home', 'password': 'secret-pw'}},
                                {'home': ('secret-pw', 2)})
        assert state['mode'] == 'station' and state['ip'] == '192.168.1.50'
        for name in board.BOOT_ONLY:              # dropped: the app's heap doesn't carry them
            assert name not in sys.modules, name
        assert seen == []
        assert fake_network.hostname() == 'porch'
        assert not fake_network.WLAN(fake_network.AP_IF).active()
    finally:
        teardown()


def test_boot_without_wifi_serves_setup_then_goes_on_after_timeout():
    try:
        state, seen = boot_with({'hostname': 'porch'})
        assert seen == ['camdot-B2C3']
        assert state['mode'] == 'ap' and state['ip'] == '192.168.4.1'
        assert fake_network.WLAN(fake_network.AP_IF).active()
        assert fake_machine.resets == []
    finally:
        teardown()


def test_boot_resets_after_setup_saved():
    try:
        state, seen = boot_with({}, setup_result=True)
        assert state == 'reset' and seen == ['camdot-B2C3']
    finally:
        teardown()


def test_boot_resets_to_retry_a_configured_network_after_setup_timeout():
    try:
        real = wifi.connect_station
        wifi.connect_station = lambda ssid, password: None   # the router is down
        try:
            state, seen = boot_with({'wifi': {'ssid': 'home', 'password': 'secret-pw'}})
        finally:
            wifi.connect_station = real
        assert state == 'reset' and seen == ['camdot-B2C3']
    finally:
        teardown()


def test_boot_after_soft_reset_is_quick_and_never_serves_setup():
    try:
        calls = []
        real = wifi.connect_station

        def connect(ssid, password, timeout_ms=15000, retries=3):
            calls.append((timeout_ms, retries))
            return None
        wifi.connect_station = connect
        try:
            state, seen = boot_with({'wifi': {'ssid': 'home', 'password': 'secret-pw'}},
                                    levels={0: 0}, cause=fake_machine.SOFT_RESET)
        finally:
            wifi.connect_station = real
        assert state['safe'] == ''          # no pin window after a soft reset
        assert calls == [(5000, 1)]         # one short attempt
        assert seen == [] and fake_machine.resets == []
        assert not fake_network.WLAN(fake_network.AP_IF).active()
    finally:
        teardown()


def test_boot_swallows_errors():
    try:
        real = wifi.set_hostname

        def broken(name):
            raise RuntimeError('radio on fire')
        wifi.set_hostname = broken
        try:
            state, seen = boot_with({'wifi': {'ssid': 'home', 'password': 'secret-pw'}})
        finally:
            wifi.set_hostname = real
        assert state['booted'] and state['mode'] == '' and state['safe'] == ''
    finally:
        teardown()


async def test_watchdog_is_fed_by_a_task_and_parked_on_a_timer():
    import asyncio
    setup()
    try:
        wdt = watchdog.Watchdog(4000)
        assert fake_machine.watchdogs[0].timeout == 4000
        task = asyncio.create_task(wdt.run(interval_ms=5))
        # 3 feeds 5 ms apart: well within 1.5 s (at the default quarter of 4 s it would take 2 s)
        await until(lambda: fake_machine.watchdogs[0].feeds >= 3, timeout=1.5, what='3 feeds')
        task.cancel()
        wdt.park()
        feeds = fake_machine.watchdogs[0].feeds
        fake_machine.timers[0].fire()
        assert fake_machine.watchdogs[0].feeds == feeds + 1
        assert fake_machine.timers[0].period == 1000
    finally:
        teardown()


def test_watchdog_rejects_bad_timeout():
    setup()
    try:
        raises(ValueError, watchdog.Watchdog, 0)
    finally:
        teardown()


def test_watchdog_marks_rtc_memory_and_takes_over_from_a_parked_timer():
    setup()
    try:
        first = watchdog.Watchdog(4000)
        assert fake_machine.rtc_memory[0] == watchdog.WDT_MARK
        first.park()
        timer = fake_machine.timers[-1]
        assert timer.callback is not None
        watchdog.Watchdog(4000)               # main.py: the app feeds it now, not the timer
        assert timer.callback is None
    finally:
        teardown()


def test_soft_reset_keeps_an_armed_watchdog_fed():
    try:
        state, _ = boot_with({}, cause=fake_machine.SOFT_RESET, rtc=watchdog.WDT_MARK)
        assert fake_machine.watchdogs and fake_machine.watchdogs[-1].timeout == watchdog.WATCHDOG_MS
        timer = fake_machine.timers[-1]
        feeds = fake_machine.watchdogs[-1].feeds
        timer.fire()
        assert fake_machine.watchdogs[-1].feeds == feeds + 1
    finally:
        teardown()


def test_soft_reset_without_armed_watchdog_arms_none():
    try:
        boot_with({}, cause=fake_machine.SOFT_RESET)
        assert fake_machine.watchdogs == [] and fake_machine.timers == []
    finally:
        teardown()


def test_hard_reset_clears_the_watchdog_mark():
    try:
        boot_with({}, rtc=watchdog.WDT_MARK)          # power-on / machine.reset: the WDT is off
        assert fake_machine.rtc_memory[0] == b''
        assert fake_machine.watchdogs == []
    finally:
        teardown()
