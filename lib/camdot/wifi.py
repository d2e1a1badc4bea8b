"""Wi-Fi for boot: join the configured network as a station, or open an access point.

    from camdot import wifi
    ip = wifi.connect_station('home', 'secret')       # None after bounded retries
    wifi.start_ap(wifi.ap_name(mac))                   # then camdot.wifi_setup serves the form
    wifi.scan()                                        # [(ssid, rssi)], strongest first

Used by camdot.boot_sequence (camdot.board.boot() drops it afterwards; the running app keeps the
link up with camdot.wifi_supervisor). `network` is imported only when a function needs it (tests
put a fake in sys.modules).
"""
from camdot.compat import sleep_ms, ticks_diff, ticks_ms

AP_IP = '192.168.4.1'       # ESP32 soft-AP default address
SCAN_LIMIT = 12             # networks scan() lists at most


def log(msg):
    print('camdot wifi:', msg)


def ap_name(mac):
    """'camdot-XXXX' from the last two bytes of the MAC."""
    return 'camdot-%02X%02X' % (mac[-2], mac[-1])


def set_hostname(name):
    import network
    try:
        network.hostname(name)
        return True
    except Exception as exc:
        log('hostname %r refused: %r' % (name, exc))
        return False


def _ip(wlan):
    return wlan.ifconfig()[0]


def connect_station(ssid, password, timeout_ms=15000, retries=3, poll_ms=100):
    """Join `ssid`; return the IP address, or None after `retries` bounded attempts."""
    import network
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if wlan.isconnected():
        # A soft reset keeps the link: reuse it only if it is the network we want.
        if wlan.config('ssid') == ssid:
            return _ip(wlan)
        wlan.disconnect()
    wrong_password = getattr(network, 'STAT_WRONG_PASSWORD', None)
    for attempt in range(1, retries + 1):
        log('joining %r (attempt %d of %d)' % (ssid, attempt, retries))
        try:
            wlan.connect(ssid, password)
        except OSError as exc:
            log('connect failed: %r' % exc)
            sleep_ms(poll_ms)
            continue
        start = ticks_ms()
        status = None
        while ticks_diff(ticks_ms(), start) < timeout_ms:
            if wlan.isconnected():
                ip = _ip(wlan)
                log('connected to %r as %s' % (ssid, ip))
                return ip
            status = wlan.status()
            if status == wrong_password:
                break
            sleep_ms(poll_ms)
        log('not connected (status %r)' % (status,))
        try:
            wlan.disconnect()
        except OSError:
            pass
        if status == wrong_password:
            log('wrong password for %r: no retry' % ssid)
            break
    wlan.active(False)
    return None


def start_ap(name):
    """Open access point `name` (for the setup page only); returns the AP's WLAN."""
    import network
    ap = network.WLAN(network.AP_IF)
    ap.active(True)
    ap.config(ssid=name, security=network.AUTH_OPEN)
    return ap


def _text(raw):
    try:
        return raw.decode()
    except UnicodeError:
        return ''


def scan(limit=SCAN_LIMIT):
    """Visible networks as [(ssid, rssi)], strongest first, names unique; [] on any error."""
    import network
    try:
        wlan = network.WLAN(network.STA_IF)
        wlan.active(True)
        found = wlan.scan()
    except Exception as exc:
        log('scan failed: %r' % exc)
        return []
    best = {}  # type: dict
    for ssid, _bssid, _channel, rssi, _security, _hidden in found:
        name = _text(ssid)
        if name and (name not in best or rssi > best[name]):
            best[name] = rssi      # a name seen from several access points: the strongest
    return sorted(best.items(), key=lambda item: -item[1])[:limit]
