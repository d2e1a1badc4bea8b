"""The README and docs/ say what is there: the module map matches lib/camdot, links resolve.

(The README's example app is checked by tests/portable/test_example_app.py, the config keys by
tests/host/test_config_keys.py.)
"""
import glob
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
LINK = re.compile(r'\]\(([^)\s]+)\)')


def read(path):
    with open(os.path.join(ROOT, path), encoding='utf-8') as f:
        return f.read()


def module_map(readme):
    """The names the README's '## Modules' list gives ('app', 'camera/', ...)."""
    section = readme.split('\n## Modules\n', 1)[1].split('\n## ', 1)[0]
    names = []
    for line in section.splitlines():
        if line.startswith('- `'):
            head = line[2:].split(':', 1)[0]         # "`compat`, `_cpython`"
            names += re.findall(r'`([^`]+)`', head)
    return names


def lib_entries():
    """What lib/camdot holds: modules by name, folders with a trailing '/'."""
    base = os.path.join(ROOT, 'lib', 'camdot')
    out = []
    for name in sorted(os.listdir(base)):
        if os.path.isdir(os.path.join(base, name)):
            if name != '__pycache__':
                out.append(name + '/')
        elif name.endswith('.py') and name != '__init__.py':
            out.append(name[:-3])
    return out


def test_the_module_map_lists_exactly_what_lib_camdot_holds():
    shown = module_map(read('README.md'))
    assert len(shown) == len(set(shown)), 'listed twice: %s' % shown
    there = lib_entries()
    assert sorted(shown) == sorted(there), (
        'README module map: missing %s, not in lib/camdot %s'
        % (sorted(set(there) - set(shown)), sorted(set(shown) - set(there))))


def slug(heading):
    # GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens
    text = re.sub(r'[^\w\- ]', '', heading.strip().lower())
    return text.replace(' ', '-')


def anchors(text):
    return {slug(line.lstrip('#')) for line in text.splitlines() if re.match(r'#{1,6} ', line)}


def test_every_relative_link_in_the_readme_and_docs_resolves():
    files = ['README.md'] + sorted(os.path.relpath(p, ROOT)
                                   for p in glob.glob(os.path.join(ROOT, 'docs', '*.md')))
    assert len(files) >= 12
    checked = 0
    bad = []
    for name in files:
        text = read(name)
        for target in LINK.findall(text):
            if re.match(r'[a-z]+:', target):
                continue                           # http://, https://, mailto:
            path, _, anchor = target.partition('#')
            full = os.path.normpath(os.path.join(ROOT, os.path.dirname(name), path)) if path \
                else os.path.join(ROOT, name)
            checked += 1
            if not os.path.exists(full):
                bad.append('%s: %s (no such file)' % (name, target))
            elif anchor and full.endswith('.md'):
                with open(full, encoding='utf-8') as f:
                    if anchor not in anchors(f.read()):
                        bad.append('%s: %s (no such heading)' % (name, target))
    assert checked > 20
    assert bad == []


def test_every_camdot_module_the_docs_name_exists():
    # `camdot.pubsub.pipe`, `camdot_relay.lease`: the module after the package must be there
    named = []
    for name in ['README.md'] + sorted(glob.glob(os.path.join(ROOT, 'docs', '*.md'))):
        text = read(name)
        for package, module in re.findall(r'\b(camdot|camdot_relay)\.([a-z_][a-z0-9_]*)', text):
            named.append((os.path.basename(name), package, module))
    assert len(named) > 30
    folders = {'camdot': os.path.join(ROOT, 'lib', 'camdot'),
               'camdot_relay': os.path.join(ROOT, 'tools', 'camdot_relay')}
    hosts = ('local', 'fritz')      # host names in examples: camdot.local, camdot.fritz.box
    missing = sorted({'%s: %s.%s' % (doc, package, module) for doc, package, module in named
                      if module not in hosts
                      and not os.path.exists(os.path.join(folders[package], module + '.py'))
                      and not os.path.isdir(os.path.join(folders[package], module))})
    assert missing == []


def test_the_readme_stays_short():
    # the README is the five-minute read; the rest belongs in docs/ (one file per topic)
    assert len(read('README.md').encode()) < 12000
