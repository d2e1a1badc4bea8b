"""The portable runner itself: counts, tracebacks, async tests, and non-zero exits."""
import subprocess

from servers import MPY, MICROPYPATH, ROOT

PASSING = '''
def test_plain():
    assert 1 + 1 == 2

async def test_async():
    import asyncio
    await asyncio.sleep(0)

def helper_not_a_test():
    raise AssertionError
'''

FAILING = '''
def test_fails():
    assert 1 == 2, 'one is not two'

async def test_async_fails():
    raise ValueError('async boom')
'''


def run(folder):
    env = {'MICROPYPATH': MICROPYPATH, 'PATH': '/usr/bin:/bin'}
    res = subprocess.run([MPY, 'tools/mprun.py', str(folder)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    return res.returncode, res.stdout + res.stderr


def test_counts_sync_and_async_tests(tmp_path):
    (tmp_path / 'test_ok.py').write_text(PASSING)
    code, out = run(tmp_path)
    assert code == 0, out
    assert out.strip().splitlines()[-1] == 'micropython: 2 passed, 0 failed'


def test_failures_show_tracebacks_and_exit_non_zero(tmp_path):
    (tmp_path / 'test_ok.py').write_text(PASSING)
    (tmp_path / 'test_bad.py').write_text(FAILING)
    code, out = run(tmp_path)
    assert code == 1
    assert 'one is not two' in out and 'async boom' in out
    assert 'Traceback' in out
    assert out.strip().splitlines()[-1] == 'micropython: 2 passed, 2 failed'


def test_a_test_file_named_runs_that_module_only(tmp_path):
    (tmp_path / 'test_ok.py').write_text(PASSING)
    (tmp_path / 'test_bad.py').write_text(FAILING)
    code, out = run(tmp_path / 'test_ok.py')
    assert code == 0, out
    assert out.strip().splitlines()[-1] == 'micropython: 2 passed, 0 failed'
    code, out = run(tmp_path / 'test_missing.py')   # nothing ran: a failure
    assert code == 1 and out.strip().splitlines()[-1] == 'micropython: 0 passed, 0 failed'


def test_no_tests_is_a_failure(tmp_path):
    code, out = run(tmp_path)
    assert code == 1
    assert 'micropython: 0 passed, 0 failed' in out


def test_a_module_without_tests_is_a_failure(tmp_path):
    (tmp_path / 'test_ok.py').write_text(PASSING)
    # A test indented into a helper, and a name that is not a function: no test in this module
    (tmp_path / 'test_empty.py').write_text('def helper():\n    def test_lost():\n        pass\n\n'
                                            'test_flag = True\n')
    for heap in (None, '256K'):
        code, out = run_heap(tmp_path, heap) if heap else run(tmp_path)
        assert code == 1, out
        assert 'test_empty has no test_* functions' in out, out
        assert out.strip().splitlines()[-1] == 'micropython: 2 passed, 1 failed', out


def test_import_error_counts_as_failure(tmp_path):
    (tmp_path / 'test_broken.py').write_text('import no_such_module_here\n')
    code, out = run(tmp_path)
    assert code == 1
    assert 'no_such_module_here' in out


def run_heap(folder, heap='256K'):
    env = {'MICROPYPATH': MICROPYPATH, 'PATH': '/usr/bin:/bin'}
    res = subprocess.run([MPY, 'tools/mprun.py', '--heap', heap, str(folder)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    return res.returncode, res.stdout + res.stderr


def test_heap_mode_runs_each_module_in_its_own_small_heap(tmp_path):
    (tmp_path / 'test_ok.py').write_text(PASSING)
    (tmp_path / 'test_bad.py').write_text(FAILING)
    # 160 KB fits a fresh 256K heap, but not a heap that already holds the previous module's 160 KB
    keep = 'import gc\nBIG = bytearray(160 * 1024)\n\ndef test_big():\n    assert len(BIG) == 160 * 1024\n'
    (tmp_path / 'test_big1.py').write_text(keep)
    (tmp_path / 'test_big2.py').write_text(keep)
    code, out = run_heap(tmp_path)
    assert code == 1
    assert 'async boom' in out
    assert out.strip().splitlines()[-1] == 'micropython: 4 passed, 2 failed'


def test_heap_mode_reports_a_module_too_big_for_the_heap(tmp_path):
    (tmp_path / 'test_huge.py').write_text('def test_huge():\n    bytearray(512 * 1024)\n')
    code, out = run_heap(tmp_path)
    assert code == 1
    assert 'MemoryError' in out
    assert out.strip().splitlines()[-1] == 'micropython: 0 passed, 1 failed'
