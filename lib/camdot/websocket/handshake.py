"""The opening handshake (RFC 6455 section 4), the server's side, sans-IO: a request checked, the
answer built. (The client's side is camdot.websocket.client's.)

    refusal = check_request(request, origins, origin_allowed)   # None, or e.g. UNSUPPORTED_VERSION
    head = accept(request, subprotocol)                          # the 101 answer, bytes

A refusal is (status, reason) with a name; `raise HandshakeError(*refusal)` answers it (a microdot
HTTPException).
"""
import binascii
import hashlib

from microdot.microdot import HTTPException

GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'    # RFC 6455 1.3

# Why an upgrade request is refused (the first check that fails): (HTTP status, reason).
NOT_GET_OR_HTTP_1_1 = (400, 'WebSocket upgrade needs GET and HTTP/1.1')     # RFC 6455 4.1
NOT_AN_UPGRADE = (400, 'Not a WebSocket upgrade request')                   # 4.2.1 items 3-4
UNSUPPORTED_VERSION = (426, 'Unsupported WebSocket version')                # 4.2.2, 4.4
BAD_KEY = (400, 'Bad Sec-WebSocket-Key')                                    # 4.2.1 item 5
ORIGIN_NOT_ALLOWED = (403, 'Origin not allowed')                            # 10.2
#: What a 426 answer must say: the version this server speaks (RFC 6455 4.4).
VERSION_HEADERS = {'Sec-WebSocket-Version': '13'}


class HandshakeError(HTTPException):
    """An upgrade refused with `status_code` (400, 403, 426) and extra `headers` (a 426 names
    the version spoken unless `headers` says otherwise). Raised in a route, microdot answers it
    like any HTTPException.

        raise HandshakeError(*BAD_KEY)
    """

    def __init__(self, status_code, reason, headers=None):
        super().__init__(status_code, reason)
        if headers is None:
            headers = VERSION_HEADERS if status_code == UNSUPPORTED_VERSION[0] else {}
        self.headers = headers


def tokens(value, lower=True):
    """A header's comma-separated list, each item stripped (and lower-cased)."""
    out = []
    if value:
        for t in value.split(','):
            t = t.strip()
            out.append(t.lower() if lower else t)
    return out


def accept_key(key):
    """The Sec-WebSocket-Accept value (str) for a Sec-WebSocket-Key (str)."""
    return binascii.b2a_base64(hashlib.sha1(key.encode() + GUID).digest())[:-1].decode()


def origin_allowed(request, origins):
    """True when `request` may connect given the allow-list `origins` (None or '*': any).
    Requests without an Origin header (not from a browser) are let in."""
    origin = request.headers.get('Origin')
    if origins is None or origin is None or '*' in origins:
        return True
    origin = origin.lower().rstrip('/')
    for o in origins:
        if o.lower().rstrip('/') == origin:
            return True
    return False


def _valid_key(key):
    # base64 of exactly 16 bytes, in its one canonical 24-character form
    try:
        raw = binascii.a2b_base64(key)
    except ValueError:
        return False
    return len(raw) == 16 and binascii.b2a_base64(raw)[:-1] == key.encode()


def check_request(request, origins=None, allowed=origin_allowed):
    """The refusal for an upgrade request (a microdot Request), or None when it is good.
    `allowed(request, origins)` is the Origin policy."""
    h = request.headers
    if request.method != 'GET' or request.http_version == '1.0':
        return NOT_GET_OR_HTTP_1_1
    if 'websocket' not in tokens(h.get('Upgrade')) or 'upgrade' not in tokens(h.get('Connection')):
        return NOT_AN_UPGRADE
    if h.get('Sec-WebSocket-Version', '').strip() != '13':
        return UNSUPPORTED_VERSION
    if not _valid_key(h.get('Sec-WebSocket-Key', '').strip()):
        return BAD_KEY
    if not allowed(request, origins):
        return ORIGIN_NOT_ALLOWED
    return None


def choose_subprotocol(request, protocols):
    """The first of `protocols` (the server's order is its preference) the client offered."""
    offered = tokens(request.headers.get('Sec-WebSocket-Protocol'), False)
    for p in protocols or ():
        if p in offered:
            return p
    return None


def accept(request, subprotocol=None):
    """The 101 answer to a good upgrade request (bytes)."""
    res = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' \
          'Sec-WebSocket-Accept: ' + accept_key(request.headers['Sec-WebSocket-Key'].strip()) + '\r\n'
    if subprotocol:
        res += 'Sec-WebSocket-Protocol: ' + subprotocol + '\r\n'
    return (res + '\r\n').encode()
