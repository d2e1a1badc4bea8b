"""Settings file: atomic replace, corrupt file -> defaults, few writes."""
import asyncio
import json
import os

from board_fixtures import exists
from camdot.settings import Settings
from harness import remove, tmp_path, until


def fresh(name):
    # a random part: several test runs may share /tmp
    path = tmp_path('%s-%s' % (''.join('%02x' % b for b in os.urandom(4)), name))
    remove(path)
    remove(path + '.tmp')
    return path


def read(path):
    with open(path) as f:
        return f.read()


def test_missing_file_is_empty_and_values_round_trip():
    path = fresh('settings-rt.json')
    s = Settings(path)
    assert s.load() == {}
    s.set('quality', 10)           # no event loop: written at once
    s.set('hmirror', True)
    assert json.loads(read(path)) == {'quality': 10, 'hmirror': True}
    assert Settings(path).load() == {'quality': 10, 'hmirror': True}
    try:                           # the temp file was renamed away
        os.stat(path + '.tmp')
        left = True
    except OSError:
        left = False
    assert not left
    remove(path)


def test_corrupt_or_partial_file_falls_back_to_defaults():
    for text in ('{"quality": 1', 'garbage', '[1, 2]', ''):
        path = fresh('settings-bad.json')
        with open(path, 'w') as f:
            f.write(text)
        s = Settings(path)
        assert s.load() == {}, text
        s.set('quality', 5)        # and the next save repairs the file
        assert json.loads(read(path)) == {'quality': 5}
        remove(path)


def test_unchanged_values_are_not_rewritten():
    path = fresh('settings-same.json')
    s = Settings(path)
    s.load()
    s.set('brightness', 1)
    s.set('brightness', 1)
    assert s.writes == 1
    assert s.flush() is False
    s.set('brightness', True)      # a boolean is not the integer 1
    assert s.writes == 2
    t = Settings(path)
    t.load()
    assert t.flush() is False      # content as loaded: nothing to write
    remove(path)


async def test_a_burst_of_changes_is_one_write_after_a_quiet_delay():
    path = fresh('settings-burst.json')
    s = Settings(path, delay_ms=50)
    s.load()
    for v in (-2, -1, 0, 1, 2):
        s.set('brightness', v)
    assert s.writes == 0
    await until(lambda: s.writes, what='the write')
    await asyncio.sleep(0.1)  # twice the delay: no second write comes
    assert s.writes == 1
    assert json.loads(read(path)) == {'brightness': 2}
    remove(path)


# ---- a full or failing flash (camdot.atomic, through fake_flash) ----

def test_a_write_that_fails_at_any_step_keeps_the_old_file_and_is_reported():
    from fake_flash import FailingFlash, STEPS
    for step in STEPS:
        path = fresh('settings-fail-%s.json' % step)
        s = Settings(path)
        s.load()
        s.set('quality', 10)                       # the old file: written while the flash works
        before = read(path)
        reports = []
        s.on_error = lambda p, exc: reports.append((p, exc))
        flash = FailingFlash(step, after=5).install()
        try:
            s.set('quality', 20)                   # fails: never raised, reported
        finally:
            flash.uninstall()
        assert flash.failures == 1, step
        assert read(path) == before, step          # the old file, whole
        assert len(reports) == 1 and reports[0][0] == path, (step, reports)
        assert isinstance(reports[0][1], OSError)
        assert not exists(path + '.tmp'), step     # the half-written file does not take space
        assert s.values == {'quality': 20}          # kept in RAM: the next change tries again
        s.set('hmirror', True)
        assert json.loads(read(path)) == {'quality': 20, 'hmirror': True}, step
        remove(path)


def test_a_replace_cut_short_on_fat_is_recovered_from_the_temp_file():
    from camdot import atomic
    path = fresh('settings-fat.json')
    s = Settings(path)
    s.set('quality', 10)
    # FAT refuses to rename over a file: atomic removes the old one first. Power fails between
    # the two steps: only the complete '.tmp' is left.
    with open(path + atomic.TMP_SUFFIX, 'w') as f:
        f.write('{"quality": 30}')
    os.remove(path)
    assert Settings(path).load() == {'quality': 30}
    remove(path + atomic.TMP_SUFFIX)


class FatOS:
    """camdot.atomic's `os` as on FAT: rename() refuses to replace an existing file."""

    def __getattr__(self, name):
        return getattr(os, name)

    def rename(self, src, dest):
        if exists(dest):
            raise OSError(17, 'EEXIST')
        os.rename(src, dest)


def test_rename_replaces_on_a_filesystem_that_refuses_to_rename_over_a_file():
    from camdot import atomic
    path = fresh('settings-fat2.json')
    s = Settings(path)
    s.set('quality', 10)
    atomic.os = FatOS()
    try:
        s.set('quality', 11)
    finally:
        atomic.os = os
    assert json.loads(read(path)) == {'quality': 11}
    assert not exists(path + '.tmp')
    remove(path)


def test_an_undecodable_file_is_corrupt_not_fatal():
    path = fresh('settings-bin.json')
    with open(path, 'wb') as f:
        f.write(b'\xff\xfe\x00{')
    assert Settings(path).load() == {}
    remove(path)

