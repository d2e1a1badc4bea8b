"""Stage microdot's own WebSocket tests from its source distribution into a git-ignored folder.

    .venv/bin/python tools/stage_microdot_tests.py .deps/microdot-tests

Downloads the sdist of the installed (pinned) microdot with pip (`pip download --no-binary :all:
--no-deps microdot==VERSION`) and keeps tests/test_websocket.py from it, unchanged, as
<dest>/test_websocket.py. tests/microdot_suite/run.py runs it against camdot.websocket; nothing
of microdot's is committed here.
"""
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

WANTED = 'tests/test_websocket.py'


def main(dest):
    version = importlib.metadata.version('microdot')
    with tempfile.TemporaryDirectory(prefix='camdot-sdist-') as tmp:
        subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--disable-pip-version-check',
                        '--no-binary', ':all:', '--no-deps', '-d', tmp, 'microdot==' + version],
                       check=True)
        (archive,) = [f for f in os.listdir(tmp) if f.endswith('.tar.gz')]
        with tarfile.open(os.path.join(tmp, archive)) as tar:
            member = tar.getmember('microdot-%s/%s' % (version, WANTED))
            source = tar.extractfile(member)
            os.makedirs(dest, exist_ok=True)
            with open(os.path.join(dest, 'test_websocket.py'), 'wb') as out:
                shutil.copyfileobj(source, out)
    with open(os.path.join(dest, 'VERSION'), 'w') as f:
        f.write(version + '\n')
    print('staged microdot %s %s in %s' % (version, WANTED, dest))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '.deps/microdot-tests')
