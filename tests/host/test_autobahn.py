"""Autobahn|Testsuite cases (run by kosoku) against camdot.websocket on both runtimes: the server
(tools/ws_echo.py, kosoku as the fuzzing client) and the client (tools/ws_echo_client.py, which
connect()s to kosoku as the fuzzing server).

    make test-autobahn          # reports in reports/autobahn/<runtime>/ and
                                # reports/autobahn-client/<runtime>/ (index.html, index.json)

Cases 1-7, 9.1.1-9.2.3 and 10 (12.x/13.x are compression, not implemented; the other 9.x are
long performance runs). A case passes as OK, NON-STRICT or INFORMATIONAL; anything else fails.
"""
import collections
import json
import os
import shutil
import subprocess

import pytest

from servers import MICROPYPATH, MPY, PY, ROOT, Server, free_port

KOSOKU = os.path.join(ROOT, '.venv', 'bin', 'kosoku')
CASES = ['1.*', '2.*', '3.*', '4.*', '5.*', '6.*', '7.*', '9.1.*', '9.2.1', '9.2.2', '9.2.3', '10.*']
EXPECTED_CASES = 256          # what kosoku 0.1.0 selects with CASES: guards an empty selection
PASSING = ('OK', 'NON-STRICT', 'INFORMATIONAL')
# 9.1.6 echoes a 16 MiB text message: buffer + its str + growth need room on the unix port.
RUNTIMES = {'micropython': [MPY, '-X', 'heapsize=128M'], 'cpython': [PY]}


@pytest.mark.parametrize('runtime', sorted(RUNTIMES))
def test_autobahn_cases_pass(runtime):
    assert os.path.exists(KOSOKU), 'kosoku is missing: run make setup'
    out = os.path.join(ROOT, 'reports', 'autobahn', runtime)
    shutil.rmtree(out, ignore_errors=True)
    port = free_port()
    argv = RUNTIMES[runtime] + ['tools/ws_echo.py', '--port', str(port)]
    cmd = [KOSOKU, '-o', out]
    for case in CASES:
        cmd += ['-i', case]
    cmd.append('127.0.0.1:%d' % port)
    with Server(argv, port) as srv:
        res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
        srv.stop()
    with open(os.path.join(out, 'index.json')) as f:
        index = json.load(f)
    assert len(index) == 1, index.keys()
    cases = list(index.values())[0]
    counts = collections.Counter(c['behavior'] for c in cases.values())
    close_counts = collections.Counter(c['behaviorClose'] for c in cases.values())
    summary = '%s: %d cases; behavior %s; close %s' % (
        runtime, len(cases), dict(sorted(counts.items())), dict(sorted(close_counts.items())))
    with open(os.path.join(out, 'summary.txt'), 'w') as f:
        f.write(summary + '\n')
    print(summary)
    bad = sorted(k for k, c in cases.items()
                 if c['behavior'] not in PASSING or c['behaviorClose'] not in PASSING)
    assert not bad, '%s\nnot passing: %s\n%s' % (summary, bad, res.stdout[-3000:] + res.stderr[-3000:])
    assert len(cases) == EXPECTED_CASES, summary
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert 'Traceback' not in srv.output, srv.output[-3000:]


def summarize(runtime, out):
    """(summary line, cases not passing) from a kosoku report folder."""
    with open(os.path.join(out, 'index.json')) as f:
        index = json.load(f)
    assert len(index) == 1, index.keys()
    cases = list(index.values())[0]
    counts = collections.Counter(c['behavior'] for c in cases.values())
    close_counts = collections.Counter(c['behaviorClose'] for c in cases.values())
    summary = '%s: %d cases; behavior %s; close %s' % (
        runtime, len(cases), dict(sorted(counts.items())), dict(sorted(close_counts.items())))
    bad = sorted(k for k, c in cases.items()
                 if c['behavior'] not in PASSING or c['behaviorClose'] not in PASSING)
    assert len(cases) == EXPECTED_CASES or bad, summary
    return summary, bad


@pytest.mark.parametrize('runtime', sorted(RUNTIMES))
def test_autobahn_client_cases_pass(runtime):
    # kosoku plays the server's side of each case; our client echoes (every message size: the
    # client sets max_message_length=0 on its connections, the per-connection option).
    assert os.path.exists(KOSOKU), 'kosoku is missing: run make setup'
    out = os.path.join(ROOT, 'reports', 'autobahn-client', runtime)
    shutil.rmtree(out, ignore_errors=True)
    port = free_port()
    cmd = [KOSOKU, '-m', 'fuzzingserver', '-o', out]
    for case in CASES:
        cmd += ['-i', case]
    cmd.append('127.0.0.1:%d' % port)
    with Server(cmd, port) as fuzzer:
        res = subprocess.run(RUNTIMES[runtime] + ['tools/ws_echo_client.py',
                                                  'ws://127.0.0.1:%d' % port],
                             cwd=ROOT, capture_output=True, text=True, timeout=240,
                             env=dict(os.environ, MICROPYPATH=MICROPYPATH))
        fuzzer.stop()
    log = res.stdout[-3000:] + res.stderr[-3000:]
    assert res.returncode == 0, log
    assert 'reports updated' in res.stdout and 'Traceback' not in res.stderr, log
    summary, bad = summarize(runtime, out)
    with open(os.path.join(out, 'summary.txt'), 'w') as f:
        f.write(summary + '\n')
    print(summary)
    assert not bad, '%s\nnot passing: %s\n%s' % (summary, bad, log)
