"""A fake of MicroPython's ESP32 `network` module (the parts camdot.board uses), for tests.

    import fake_network
    fake_network.install(air={'home': ('secret-pw', 3)})   # ssid -> (password, polls until linked)
    ...   # code under test does `import network` and gets this module
    fake_network.uninstall()

Mirrors the real API and its ESP32 behaviour: WLAN(id) is one object per interface, connect() on an
inactive interface raises OSError, status() goes CONNECTING -> GOT_IP / WRONG_PASSWORD /
NO_AP_FOUND, scan() gives (ssid, bssid, channel, RSSI, security, hidden) tuples, config() takes one
name to read or keyword arguments to set and rejects unknown names with ValueError.

After boot: drop() takes the link down (a router restart); the router being off is `air` without
it. With auto_reconnect[0] True the driver rejoins by itself, as the ESP32's does by default
(reconnects=-1), except after a wrong password; False is a driver that gave up.
"""
import sys

STA_IF = 0
AP_IF = 1
AUTH_OPEN = 0
AUTH_WPA2_PSK = 3
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_BEACON_TIMEOUT = 200
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_CONNECT_FAIL = 203

CONFIG_NAMES = ('mac', 'ssid', 'essid', 'channel', 'hidden', 'security', 'authmode', 'key',
                'password', 'hostname', 'dhcp_hostname', 'reconnects', 'txpower', 'pm')

# Test-visible state, reset by install().
air = {}          # ssid -> (password, polls before the link is up)
rssi = {}         # ssid -> RSSI for scan()
interfaces = {}
calls = []        # ('connect', ssid) / ('hostname', name) / ('config', kw) ... in order
auto_reconnect = [False]
_hostname = ['espressif']


def WLAN(interface_id=STA_IF):
    """One object per interface, as on the ESP32."""
    if interface_id not in (STA_IF, AP_IF):
        raise ValueError('invalid WLAN interface identifier')
    wlan = interfaces.get(interface_id)
    if wlan is None:
        wlan = interfaces[interface_id] = _WLAN(interface_id)
    return wlan


class _WLAN:
    def __init__(self, interface_id):
        self._init(interface_id)

    def _init(self, interface_id):
        self.interface = interface_id
        self._active = False
        self._status = STAT_IDLE
        self._target = None
        self._polls = 0
        self._ip = '0.0.0.0'
        self._config = {'ssid': '', 'security': AUTH_OPEN, 'key': '',
                        'mac': bytes([0x24, 0x6F, 0x28, 0xA1, 0xB2, 0xC3 + interface_id])}

    def active(self, *args):
        if not args:
            return self._active
        self._active = bool(args[0])
        calls.append(('active', self.interface, self._active))
        if not self._active:
            self._status = STAT_IDLE
            self._ip = '0.0.0.0'
        return None

    def connect(self, ssid=None, key=None, *, bssid=None):
        if self.interface != STA_IF:
            raise OSError('AP interface cannot connect')
        if not self._active:
            raise OSError('Wifi Not Started')
        calls.append(('connect', ssid))
        self._config['ssid'] = ssid
        self._target = (ssid, key)
        self._status = STAT_CONNECTING
        self._polls = 0

    def _advance(self):
        if (auto_reconnect[0] and self._target and
                self._status in (STAT_NO_AP_FOUND, STAT_BEACON_TIMEOUT)):
            self._status = STAT_CONNECTING   # the driver's own retry
            self._polls = 0
        if self._status != STAT_CONNECTING:
            return
        ssid, key = self._target
        self._polls += 1
        if ssid not in air:
            if self._polls >= 2:
                self._status = STAT_NO_AP_FOUND
            return
        password, polls = air[ssid]
        if self._polls < polls:
            return
        if key != password:
            self._status = STAT_WRONG_PASSWORD
        else:
            self._status = STAT_GOT_IP
            self._ip = '192.168.1.50'

    def status(self, *args):
        if args:
            if args[0] == 'rssi':
                return rssi.get(self._config['ssid'], -60)
            raise ValueError('unknown status param')
        self._advance()
        return self._status

    def isconnected(self):
        self._advance()
        return self._status == STAT_GOT_IP

    def disconnect(self):
        calls.append(('disconnect',))
        self._status = STAT_IDLE
        self._ip = '0.0.0.0'

    def ifconfig(self, *args):
        if args:
            raise NotImplementedError('fake: setting ifconfig')
        if self.interface == AP_IF:
            return ('192.168.4.1', '255.255.255.0', '192.168.4.1', '0.0.0.0')
        return (self._ip, '255.255.255.0', '192.168.1.1', '192.168.1.1')

    def scan(self):
        if self.interface != STA_IF or not self._active:
            raise OSError('STA must be active')
        calls.append(('scan',))
        return [(name.encode(), b'\x00\x11\x22\x33\x44\x55', 6, rssi.get(name, -70), 3, False)
                for name in air]

    def config(self, *args, **kwargs):
        if args and kwargs:
            raise TypeError('either get or set')
        if args:
            name = args[0]
            if name not in CONFIG_NAMES:
                raise ValueError('unknown config param')
            name = {'essid': 'ssid', 'authmode': 'security', 'password': 'key'}.get(name, name)
            if name == 'hostname' or name == 'dhcp_hostname':
                return _hostname[0]
            return self._config.get(name)
        for name, value in kwargs.items():
            if name not in CONFIG_NAMES:
                raise ValueError('unknown config param')
            name = {'essid': 'ssid', 'authmode': 'security', 'password': 'key'}.get(name, name)
            self._config[name] = value
        calls.append(('config', self.interface, kwargs))
        return None


def drop(status=STAT_BEACON_TIMEOUT):
    """The station's link goes down (the router restarted, the board is out of range)."""
    wlan = WLAN(STA_IF)
    calls.append(('drop', status))
    wlan._ip = '0.0.0.0'
    wlan._status = status


def hostname(*args):
    if not args:
        return _hostname[0]
    name = args[0]
    if not isinstance(name, str) or len(name) > 32:
        raise ValueError('hostname too long')
    calls.append(('hostname', name))
    _hostname[0] = name
    return None


def install(air_=None, rssi_=None):
    """Make `import network` return this module, with a fresh radio and the given networks."""
    air.clear()
    air.update(air_ or {})
    rssi.clear()
    rssi.update(rssi_ or {})
    interfaces.clear()
    del calls[:]
    auto_reconnect[0] = False
    _hostname[0] = 'espressif'
    sys.modules['network'] = sys.modules[__name__]


def uninstall():
    sys.modules.pop('network', None)
