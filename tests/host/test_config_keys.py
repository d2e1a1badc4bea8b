"""The config keys the code reads, config.DEFAULTS and docs/configuration.md agree.

A key read in lib/, main.py or boot.py but missing from DEFAULTS (or from the doc) fails; so does
a key in DEFAULTS that nothing reads (stale), a doc row for a key DEFAULTS lacks, and a doc default
that is not DEFAULTS'. How reads are found: tests/host/config_keys.py.
"""
import glob
import json
import os
import re

from camdot import config
from config_keys import keys_read, leaves, sections

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DOC = os.path.join(ROOT, 'docs', 'configuration.md')
ROW = re.compile(r'^\|\s*`([a-z_][a-z_.]*)`\s*\|\s*`([^`]*)`\s*\|')


def code_files():
    files = sorted(glob.glob(os.path.join(ROOT, 'lib', '**', '*.py'), recursive=True))
    files += [os.path.join(ROOT, 'main.py'), os.path.join(ROOT, 'boot.py')]
    assert len(files) > 20
    out = []
    for f in files:
        with open(f, encoding='utf-8') as fh:
            out.append((os.path.relpath(f, ROOT), fh.read()))
    return out


def doc_rows(text):
    """{'camera.fps': '20', ...}: the doc's key table, a row per key."""
    rows = {}
    for line in text.splitlines():
        m = ROW.match(line)
        if m:
            assert m.group(1) not in rows, 'listed twice: ' + m.group(1)
            rows[m.group(1)] = m.group(2)
    return rows


def dotted(paths):
    return sorted('.'.join(p) for p in paths)


def check(found, defaults, doc_text):
    """The mismatches, as readable lines (empty when all agree)."""
    problems = []
    known = leaves(defaults) | sections(defaults)
    for path in sorted(found):
        if path not in known:
            line = '%s is read (%s) but not in config.DEFAULTS' % (
                '.'.join(path), ', '.join(found[path]))
            if path[0] == 'camera' and path[1:] in known:
                line += (' (files under camera/ are taken to receive config["camera"]: see '
                         'tests/host/config_keys.py)')
            problems.append(line)
    for line in found.unresolved:
        problems.append('a computed config key the scan cannot follow: ' + line)
    for path in dotted(leaves(defaults) - set(found)):
        problems.append('%s is in config.DEFAULTS but nothing reads it' % path)
    rows = doc_rows(doc_text)
    for path in dotted(leaves(defaults)):
        if path not in rows:
            problems.append('%s is missing from docs/configuration.md' % path)
    for key, shown in sorted(rows.items()):
        path = tuple(key.split('.'))
        if path not in leaves(defaults):
            problems.append('docs/configuration.md lists %s, which config.DEFAULTS lacks' % key)
            continue
        value = defaults
        for k in path:
            value = value[k]
        try:
            same = json.loads(shown) == value and type(json.loads(shown)) is type(value)
        except ValueError:
            same = False
        if not same:
            problems.append('docs/configuration.md gives %s the default %s, config.DEFAULTS %s'
                            % (key, shown, json.dumps(value)))
    return problems


def read_doc():
    with open(DOC, encoding='utf-8') as f:
        return f.read()


def test_every_key_read_is_in_defaults_and_documented():
    found = keys_read(code_files())
    # the scan sees the code: a few reads every app makes
    for path in [('camera', 'fps'), ('limits', 'max_body'), ('wifi', 'ssid'), ('token',)]:
        assert path in found, path
    assert check(found, config.DEFAULTS, read_doc()) == []


def test_a_key_missing_from_defaults_fails():
    found = keys_read(code_files())
    defaults = json.loads(json.dumps(config.DEFAULTS))
    del defaults['camera']['stall_ms']
    del defaults['base']
    problems = check(found, defaults, read_doc())
    assert any(p.startswith('camera.stall_ms is read') for p in problems), problems
    assert any(p.startswith('base is read') for p in problems), problems
    assert any('lists camera.stall_ms, which config.DEFAULTS lacks' in p for p in problems)


def test_a_key_missing_from_the_doc_fails():
    found = keys_read(code_files())
    doc = '\n'.join(line for line in read_doc().splitlines()
                    if not line.startswith('| `limits.max_line`'))
    assert check(found, config.DEFAULTS, doc) == [
        'limits.max_line is missing from docs/configuration.md']
    doc = read_doc().replace('| `camera.fps` | `20` |', '| `camera.fps` | `25` |')
    assert check(found, config.DEFAULTS, doc) == [
        'docs/configuration.md gives camera.fps the default 25, config.DEFAULTS 20']


def test_a_new_read_is_found():
    source = '''
SETTINGS = ('a', 'b')

def install(app, config):
    station = config['wifi']
    if station.get('channel'):                     # an alias of a section
        pass
    lim = {k: config['limits'][k] for k in SETTINGS}
    cam = (config or {}).get('camera') or {}
    x = cam['mode'], config['extra']['deep']['er']

class Cam:
    def run(self):
        return self.config['flash'], 'x' in self.cfg

def computed(cfg, name):
    return cfg[name]
'''
    found = keys_read([('lib/camdot/new.py', source)])
    assert dotted(found) == [
        'camera', 'camera.mode', 'extra', 'extra.deep', 'extra.deep.er', 'flash', 'limits',
        'limits.a', 'limits.b', 'wifi', 'wifi.channel', 'x']
    assert found.unresolved == ['lib/camdot/new.py:17: cfg[name]']
    # a camera backend receives the camera section
    found = keys_read([('lib/camdot/camera/new.py', 'def f(config):\n    return config["gain"]\n')])
    assert dotted(found) == ['camera.gain']
    problems = check(keys_read([('lib/camdot/new.py', source)]), config.DEFAULTS, read_doc())
    assert 'wifi.channel is read (lib/camdot/new.py:6) but not in config.DEFAULTS' in problems


def test_a_name_assigned_from_itself_is_read_once():
    # `cfg = cfg['camera']` rebinds cfg to the section: its reads below are the camera's (the scan
    # once went on adding 'camera' to the path for ever here)
    source = '''
def f(cfg):
    cfg = cfg['camera']
    quality = 12
    quality = cfg.get('quality', quality)
    return cfg['fps'], quality
'''
    assert dotted(keys_read([('lib/camdot/new.py', source)])) == [
        'camera', 'camera.fps', 'camera.quality']


def test_the_example_config_uses_known_keys_only():
    with open(os.path.join(ROOT, 'config.example.json'), encoding='utf-8') as f:
        example = json.load(f)
    unknown = dotted(leaves(example) - leaves(config.DEFAULTS))
    assert unknown == [], 'config.example.json has keys config.DEFAULTS lacks: %s' % unknown
