"""microdot 2.7.0's own tests/test_websocket.py (from its sdist, staged by `make setup`) against
camdot.websocket, on CPython and on the unix port, with microdot's TestClient and with
camdot.test_client (tests/microdot_suite/run.py: the tests that must fail are listed there, each
with its reason, and checked to fail for it)."""
import os
import subprocess

import pytest

from servers import MICROPYPATH, MPY, PY, ROOT

SUITE = os.path.join(ROOT, '.deps', 'microdot-tests', 'test_websocket.py')
RUNNER = os.path.join(ROOT, 'tests', 'microdot_suite', 'run.py')
# What each run must sum up to: (passed, excluded as listed, skipped by microdot's file). On the
# unix port microdot's file skips test_websocket_large_message itself (no async generators).
EXPECTED = {
    ('cpython', 'microdot'): (1, 3, 0),
    ('micropython', 'microdot'): (1, 2, 1),
    ('cpython', 'camdot'): (3, 1, 0),
    ('micropython', 'camdot'): (2, 1, 1),
}


@pytest.mark.parametrize('runtime,client', sorted(EXPECTED))
def test_microdot_websocket_tests_against_camdot(runtime, client):
    assert os.path.exists(SUITE), 'microdot tests not staged: run make setup'
    cmd = [MPY if runtime == 'micropython' else PY, RUNNER, SUITE, '--client', client]
    env = dict(os.environ, MICROPYPATH=MICROPYPATH, PYTHONPATH='lib:.deps')
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    out = res.stdout + res.stderr
    print(out)
    assert res.returncode == 0, out
    passed, excluded, skipped = EXPECTED[runtime, client]
    assert ("microdot suite (%s, %s client): %d passed, %d excluded as listed, %d skipped by "
            "microdot's file, 0 unexpected" % (runtime, client, passed, excluded, skipped)) in out, out
    assert 'PASS  test_bad_websocket_request' in out
