"""Settings file: atomic replace, corrupt file -> defaults, few writes."""
import asyncio
import json
import os

from camdot.settings import Settings
from harness import remove, tmp_path


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
    for _ in range(100):
        if s.writes:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    assert s.writes == 1
    assert json.loads(read(path)) == {'brightness': 2}
    remove(path)
