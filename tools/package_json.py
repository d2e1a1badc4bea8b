"""Write (or check) package.json, the manifest `mpremote mip install github:<owner>/<repo>` reads.

    .venv/bin/python tools/package_json.py           # rewrite package.json from lib/camdot
    .venv/bin/python tools/package_json.py --check   # exit 1 if package.json is stale

It lists every board file of lib/camdot (.py sources and the device page sources in www/; no .pyi,
no generated .gz) as a relative URL, and microdot's modules (those `make deploy` ships) from
microdot's repository, with target paths that keep microdot a package (mip `deps` would flatten it
into /lib). mip installs them under /lib.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, 'package.json')
MICRODOT_URL = 'github:miguelgrinberg/microdot/src/microdot/'


def camdot_files(lib=os.path.join(ROOT, 'lib')):
    """Board paths (relative to /lib) of the camdot files mip installs, sorted."""
    out = []
    for folder, dirs, names in os.walk(os.path.join(lib, 'camdot')):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        rel = os.path.relpath(folder, lib).replace(os.sep, '/')
        in_www = (rel + '/').startswith('camdot/www/')
        for name in names:
            if (name.endswith('.py') and not in_www) or (in_www and not name.endswith('.gz')):
                out.append(rel + '/' + name)
    return sorted(out)


def microdot_files(deps=os.path.join(ROOT, '.deps', 'microdot')):
    return sorted(n for n in os.listdir(deps) if n.endswith('.py'))


def build():
    sys.path.insert(0, os.path.join(ROOT, 'lib'))
    import camdot
    urls = [[path, 'lib/' + path] for path in camdot_files()]
    urls += [['microdot/' + name, MICRODOT_URL + name] for name in microdot_files()]
    return {'version': camdot.__version__, 'urls': urls, 'deps': []}


def text(package):
    """JSON with one [target, url] pair per line, so diffs stay readable."""
    urls = ',\n'.join('    ' + json.dumps(pair) for pair in package['urls'])
    return ('{\n  "version": %s,\n  "urls": [\n%s\n  ],\n  "deps": %s\n}\n'
            % (json.dumps(package['version']), urls, json.dumps(package['deps'])))


def main(argv):
    wanted = text(build())
    if '--check' in argv:
        try:
            with open(PACKAGE) as f:
                have = f.read()
        except OSError:
            have = ''
        if have != wanted:
            print('package.json is stale: run .venv/bin/python tools/package_json.py')
            return 1
        print('package.json is up to date')
        return 0
    with open(PACKAGE, 'w') as f:
        f.write(wanted)
    print('wrote', PACKAGE)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
