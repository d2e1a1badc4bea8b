"""firmware/: the manifest freezes what the board needs; `make firmware` explains what is missing."""
import os
import subprocess

from servers import ROOT

FIRMWARE = os.path.join(ROOT, 'firmware')


def run_manifest():
    """Execute firmware/manifest.py with recording stand-ins for MicroPython's manifest functions."""
    calls = []

    def include(path):
        calls.append(('include', path))

    def package(name, files=None, base_path='.', opt=None):
        calls.append(('package', name, files, os.path.normpath(os.path.join(FIRMWARE, base_path))))

    def module(name, base_path='.', opt=None):
        calls.append(('module', name, os.path.normpath(os.path.join(FIRMWARE, base_path))))

    with open(os.path.join(FIRMWARE, 'manifest.py')) as f:
        exec(compile(f.read(), 'manifest.py', 'exec'),
             {'include': include, 'package': package, 'module': module, 'require': None})
    return calls


def test_manifest_freezes_the_port_modules_microdot_and_camdot():
    calls = run_manifest()
    assert ('include', '$(PORT_DIR)/boards/manifest.py') in calls
    packages = {c[1]: c for c in calls if c[0] == 'package'}
    _, _, files, base = packages['camdot']
    assert files is None and base == os.path.join(ROOT, 'lib')   # the whole package, every module
    _, _, files, base = packages['microdot']
    assert base == os.path.join(ROOT, '.deps')
    staged = sorted(n for n in os.listdir(os.path.join(base, 'microdot'))
                    if n.endswith('.py'))
    assert sorted(files) == staged


def test_board_definition_uses_the_manifest_and_the_ai_thinker_camera():
    board = os.path.join(FIRMWARE, 'boards', 'CAMDOT_AI_THINKER')
    with open(os.path.join(board, 'mpconfigboard.h')) as f:
        assert '#define MICROPY_CAMERA_MODEL_AI_THINKER 1' in f.read()
    with open(os.path.join(board, 'mpconfigboard.cmake')) as f:
        cmake = f.read()
    assert 'boards/sdkconfig.spiram' in cmake   # the camera needs PSRAM
    assert '${MICROPY_BOARD_DIR}/../../manifest.py' in cmake
    assert os.path.exists(os.path.join(board, '..', '..', 'manifest.py'))


def test_make_firmware_without_tools_says_what_is_missing():
    env = {k: v for k, v in os.environ.items() if k not in ('IDF_PATH', 'MICROPY_DIR', 'CAMERA_API_DIR')}
    res = subprocess.run(['make', '-s', 'firmware'], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=300)
    assert res.returncode != 0
    for name in ('IDF_PATH', 'MICROPY_DIR', 'CAMERA_API_DIR'):
        assert name in res.stdout, res.stdout
    assert 'firmware/README.md' in res.stdout


def test_build_script_checks_each_tool(tmp_path):
    # An ESP-IDF and a MicroPython tree that look right: only the camera module is reported.
    idf = tmp_path / 'idf'
    idf.mkdir()
    (idf / 'export.sh').write_text('')
    mpy = tmp_path / 'micropython'
    (mpy / 'ports' / 'esp32').mkdir(parents=True)
    (mpy / 'ports' / 'esp32' / 'Makefile').write_text('')
    env = dict(os.environ, IDF_PATH=str(idf), MICROPY_DIR=str(mpy), CAMERA_API_DIR=str(tmp_path / 'none'))
    res = subprocess.run(['bash', os.path.join(FIRMWARE, 'build.sh')], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert res.returncode == 2
    assert '- CAMERA_API_DIR' in res.stdout
    assert '- IDF_PATH' not in res.stdout and '- MICROPY_DIR' not in res.stdout
