import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pytest

CHROMIUM = '/usr/bin/chromium'
# As root Chromium needs --no-sandbox; without the networking switches it keeps trying to reach
# the outside, which this closed network refuses.
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']


@pytest.fixture(scope='module')
def browser():
    """Debian's chromium driven by Playwright; a missing browser is a failure, not a skip.

    Module scope, not session: Playwright's sync API keeps an event loop running in this thread
    while it is open, and later tests need asyncio.run().
    """
    if not os.path.exists(CHROMIUM):
        pytest.fail('%s is missing: apt-get install chromium (.ci/run does)' % CHROMIUM)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
