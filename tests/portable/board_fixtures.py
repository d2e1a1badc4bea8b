"""Shared set-up for the board tests: fakes of `network` and `machine` installed and removed."""
import json

import fake_machine
import fake_network

from camdot import board, watchdog
from camdot.atomic import exists  # noqa: F401 (the tests' exists())


def setup(air=None, levels=None, rssi=None, cause=1, rtc=b''):
    fake_network.install(air, rssi)
    fake_machine.install(levels, cause, rtc)
    watchdog.unpark()
    board.state.update({'booted': False, 'safe': '', 'mode': '', 'ip': ''})
    board.SAFE_WINDOW_MS = 30


def teardown():
    fake_network.uninstall()
    fake_machine.uninstall()
    board.SAFE_FLAG = '/safemode'
    board.SAFE_WINDOW_MS = 1000


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)


def read_json(path):
    with open(path) as f:
        return json.loads(f.read())
