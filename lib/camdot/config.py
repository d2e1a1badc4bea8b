"""Device configuration: one JSON file, merged over defaults, never fatal.

    from camdot import config
    cfg = config.load(config.BOARD_PATH)   # a dict; defaults when missing or malformed

On the board the file is BOARD_PATH (`/config.json`); on the unix port `main.py` reads the file
named by the `CAMDOT_CONFIG` environment variable. A missing file is normal (defaults); an
unreadable or malformed one, or a value of the wrong type, is reported on the console and replaced
by its default. Every key, its default and its meaning: docs/configuration.md (a test checks that
it, DEFAULTS and the keys the code reads agree).
"""
import json

from camdot import atomic

BOARD_PATH = '/config.json'
SECRETS = ('token', 'password')
# keys whose value may also be null (it then turns the feature off)
NULLABLE = ('led_pin',)

DEFAULTS = {  # type: dict
    'hostname': 'camdot',
    # reset_after_s: without a network that long after boot, the board resets (0: never); see
    # camdot.wifi_supervisor
    'wifi': {'ssid': '', 'password': '', 'reset_after_s': 600},
    'http_port': 80,
    # main.py's watchdog on the board: a hung app resets it after this long (0: no watchdog)
    'watchdog_ms': 30000,
    'token': '',
    # fps: the pace the capture loop starts at (the Thing's max_fps property); fps_cap: the
    # highest pace that property takes; stall_ms 0: two frame periods, >= 100 ms (see
    # camdot.device.stream); viewer_timeout_ms: a viewer that takes no frame that long is dropped (a
    # dead connection); frames_dir '': the simulated camera's default (.deps/simcam). The
    # drivers' own: fb_count (cnadler), fb_location 'psram' or 'dram' (lemariva), xclk_freq in Hz
    # (0: the driver's usual, 20 MHz cnadler, 10 MHz lemariva).
    'camera': {'backend': 'auto', 'framesize': 'QVGA', 'fps': 20, 'quality': 12, 'fps_cap': 30,
               'stall_ms': 0, 'viewer_timeout_ms': 30000, 'frames_dir': '',
               'fb_count': 2, 'fb_location': 'psram', 'xclk_freq': 0},
    'max_clients': 4,
    'allowed_origins': [],
    'allowed_hosts': [],
    # connection and request limits sized for an ESP32 (camdot.limits); times in seconds
    'limits': {'max_requests': 4, 'header_timeout': 10, 'request_timeout': 30, 'write_timeout': 20,
               'max_headers': 32, 'max_header_bytes': 4096, 'max_line': 1024, 'max_body': 8192,
               'ping_interval': 20, 'max_sockets': 4},
    'settings_file': 'settings.json',
    # the flash LED's GPIO (the led_intensity property; null: no LED)
    'led_pin': 4,
    # the Thing Description's base URL ('': from the request's Host header)
    'base': '',
    # the folder of the device page ('': the www folder beside camdot, /lib/camdot/www on a board)
    'www_dir': '',
    # true: GET /debug/heap answers the free heap and the connection budgets (tests, soak)
    'debug': False,
}


def _warn(msg):
    print('camdot config:', msg)


def _same_type(default, value):
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def merge(defaults, given, where=''):
    """Return defaults updated from `given`, keeping defaults where a value has the wrong type.

    Unknown keys are kept as they are, so later features can read their own settings.
    """
    out = {}
    for key, default in defaults.items():
        out[key] = dict(default) if isinstance(default, dict) else default
    for key, value in given.items():
        if key not in defaults:
            out[key] = value
            continue
        default = defaults[key]
        if isinstance(default, dict) and isinstance(value, dict):
            out[key] = merge(default, value, where + key + '.')
        elif _same_type(default, value) or (value is None and key in NULLABLE):
            out[key] = value
        else:
            shown = '<hidden>' if key in SECRETS else repr(value)  # never log a secret
            _warn('%s%s: expected %s, got %s; using default %r' % (
                where, key, type(default).__name__, shown, default))
    return out


def load(path=None, defaults=DEFAULTS):
    """Load the config at `path` (None: defaults only). Never raises."""
    if not path:
        return merge(defaults, {})
    try:
        text = atomic.read(path)
        if text is None:
            _warn('no file at %s; using defaults' % path)
            return merge(defaults, {})
        given = json.loads(text)
    except ValueError as exc:
        _warn('%s is not valid JSON (%s); using defaults' % (path, exc))
        return merge(defaults, {})
    if not isinstance(given, dict):
        _warn('%s must hold a JSON object; using defaults' % path)
        return merge(defaults, {})
    _rename(given)
    return merge(defaults, given)


def _rename(given):
    # Keys that were renamed: an older config file keeps working (and is told the new name).
    cam = given.get('camera')
    if isinstance(cam, dict) and 'max_fps' in cam:
        _warn('camera.max_fps is now camera.fps_cap (the Thing\'s max_fps is the pace)')
        cam.setdefault('fps_cap', cam.pop('max_fps'))


def save_section(path, name, values):
    """Set the keys of `values` in section `name` of the config file at `path`, keeping every
    other key (the Wi-Fi setup page saves the network this way).

    camdot.atomic writes it, so a power cut or a full flash leaves the old file or the new one,
    never half of one; OSError when it could not be saved. A malformed existing file is kept as
    path + '.bad'.
    """
    data = {}  # type: dict
    try:
        text = atomic.read(path)
        data = json.loads(text) if text is not None else {}
        if not isinstance(data, dict):
            raise ValueError('not an object')
    except ValueError:
        _warn('%s is malformed; kept as %s.bad' % (path, path))
        atomic.rename(path, path + '.bad')
        data = {}
    section = data.get(name)
    section = dict(section) if isinstance(section, dict) else {}
    section.update(values)
    data[name] = section
    atomic.write(path, json.dumps(data))
