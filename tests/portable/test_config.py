"""Config loading: defaults, merging, and never failing on a bad file; writing one section
(portable)."""
import json

from camdot import atomic, config
from harness import tmp_path, remove


def write(name, text):
    path = tmp_path(name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def load_text(name, text):
    """config.load() of a scratch file holding `text`."""
    path = write(name, text)
    try:
        return config.load(path)
    finally:
        remove(path)


def test_no_path_gives_defaults():
    cfg = config.load(None)
    assert cfg == config.DEFAULTS
    assert cfg is not config.DEFAULTS
    cfg['camera']['fps'] = 1
    assert config.DEFAULTS['camera']['fps'] == 20


def test_missing_file_gives_defaults():
    cfg = config.load(tmp_path('does-not-exist.json'))
    assert cfg['hostname'] == 'camdot'


def test_values_override_defaults_and_nested_dicts_merge():
    path = write('cfg-ok.json', '{"hostname": "porch", "camera": {"fps": 10}, "extra": [1]}')
    try:
        cfg = config.load(path)
    finally:
        remove(path)
    assert cfg['hostname'] == 'porch'
    assert cfg['camera']['fps'] == 10
    assert cfg['camera']['framesize'] == 'QVGA'
    assert cfg['extra'] == [1]


def test_malformed_json_falls_back_to_defaults():
    for text in ('{"hostname": ', '', 'null', '[1, 2]', '\x00\xff'):
        path = write('cfg-bad.json', text)
        try:
            cfg = config.load(path)
        finally:
            remove(path)
        assert cfg == config.DEFAULTS, text


def test_wrong_types_keep_the_default():
    path = write('cfg-types.json', '{"max_clients": "many", "camera": {"fps": true}, "token": 5}')
    try:
        cfg = config.load(path)
    finally:
        remove(path)
    assert cfg['max_clients'] == 4
    assert cfg['camera']['fps'] == 20
    assert cfg['token'] == ''


def test_null_turns_off_a_nullable_key_only():
    cfg = load_text('cfg-null.json', '{"led_pin": null, "http_port": null}')
    assert cfg['led_pin'] is None          # no flash LED
    assert cfg['http_port'] == 80          # null is the wrong type here: the default


def test_example_config_is_valid():
    cfg = config.load('config.example.json')
    assert cfg['wifi']['ssid'] == 'your-network'
    assert cfg['max_clients'] == 4


# ---- writing: the Wi-Fi setup page saves the network with save_section ----

def test_save_section_keeps_other_keys_and_leaves_no_temp_file():
    path = write('board-config.json',
                 json.dumps({'hostname': 'porch', 'token': 't0k', 'wifi': {'ssid': 'old', 'x': 1}}))
    try:
        config.save_section(path, 'wifi', {'ssid': 'new net', 'password': 'pass word 1'})
        data = json.loads(atomic.read(path))
        assert data['hostname'] == 'porch' and data['token'] == 't0k'
        assert data['wifi'] == {'ssid': 'new net', 'password': 'pass word 1', 'x': 1}
        assert not atomic.exists(path + '.tmp')
    finally:
        remove(path)


def test_save_section_creates_file_and_keeps_a_malformed_one_aside():
    path = tmp_path('board-config2.json')
    remove(path)
    try:
        config.save_section(path, 'wifi', {'ssid': 'home', 'password': ''})
        assert json.loads(atomic.read(path)) == {'wifi': {'ssid': 'home', 'password': ''}}
        write('board-config2.json', '{"hostname": ')
        config.save_section(path, 'wifi', {'ssid': 'home2', 'password': 'abcdefgh'})
        assert json.loads(atomic.read(path))['wifi']['ssid'] == 'home2'
        with open(path + '.bad') as f:
            assert f.read() == '{"hostname": '
    finally:
        remove(path)
        remove(path + '.bad')


def test_a_renamed_key_keeps_working():
    # camera.max_fps (the cap) is camera.fps_cap now: max_fps is the Thing's pace property
    cfg = load_text('cfg-renamed.json', '{"camera": {"max_fps": 12, "fps": 10}}')
    assert cfg['camera']['fps_cap'] == 12 and 'max_fps' not in cfg['camera']
    assert cfg['camera']['fps'] == 10
