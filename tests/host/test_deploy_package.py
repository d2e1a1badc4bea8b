"""package.json (for `mpremote mip install github:<owner>/<repo>`) lists every board file of
lib/camdot and microdot, and installs a working camdot (checked offline on the simulated board)."""
import json
import os

from servers import ROOT
from simboard import SimBoard


def load():
    with open(os.path.join(ROOT, 'package.json')) as f:
        return json.load(f)


def test_package_json_lists_every_camdot_board_file():
    lib = os.path.join(ROOT, 'lib')
    wanted = set()
    for folder, dirs, names in os.walk(os.path.join(lib, 'camdot')):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        for name in names:
            rel = os.path.relpath(os.path.join(folder, name), lib).replace(os.sep, '/')
            if rel.startswith('camdot/www/'):
                if not name.endswith('.gz'):       # generated at setup; the source is enough
                    wanted.add(rel)
            elif name.endswith('.py'):
                wanted.add(rel)
    urls = dict(load()['urls'])
    listed = {target for target in urls if target.startswith('camdot/')}
    missing, extra = sorted(wanted - listed), sorted(listed - wanted)
    assert not missing and not extra, (
        'package.json is stale (missing %s, extra %s): run .venv/bin/python tools/package_json.py'
        % (missing, extra))
    for target in listed:
        assert urls[target] == 'lib/' + target   # relative to package.json: the repo itself


def test_package_json_brings_microdot_as_a_package():
    urls = dict(load()['urls'])
    staged = sorted(n for n in os.listdir(os.path.join(ROOT, '.deps', 'microdot'))
                    if n.endswith('.py'))
    for name in staged:
        assert urls['microdot/' + name] == 'github:miguelgrinberg/microdot/src/microdot/' + name
    assert 'microdot/test_client.py' in urls       # camdot.test_client builds on it
    assert load()['version']


def test_mip_install_from_package_json_works_on_the_board(tmp_path):
    # Offline: the same manifest with microdot's URLs pointed at the staged (pinned) copy.
    # mpremote resolves a local manifest's URLs relative to its folder.
    package = load()
    for pair in package['urls']:
        if pair[1].startswith('github:miguelgrinberg/microdot/'):
            local = os.path.join(ROOT, '.deps', 'microdot', pair[0].split('/')[-1])
        else:
            local = os.path.join(ROOT, pair[1])
        pair[1] = os.path.relpath(local, str(tmp_path))
    manifest = tmp_path / 'package.json'
    manifest.write_text(json.dumps(package))
    flash = tmp_path / 'flash'
    flash.mkdir()
    with SimBoard(flash, autorun=False) as sb:
        out = sb.mpremote('mip', 'install', '--target', '/lib', str(manifest), timeout=120)
        assert 'Installing:' in out, out
        out = sb.mpremote('exec', 'from camdot.app import create_app\nfrom camdot import config\n'
                                  'app = create_app(config.load(None))\nprint("routes", len(app.url_map))')
    assert 'routes' in out, out
    assert (flash / 'lib' / 'camdot' / 'www' / 'index.html').exists()
    assert (flash / 'lib' / 'microdot' / 'microdot.py').exists()
