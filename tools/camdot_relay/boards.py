"""Which boards the relay serves: `--board name=URL` (and `--stream name=URL`) as objects.

    boards = parse_boards(['porch=http://:s3cret@192.168.1.20', 'shop=http://192.168.1.21'],
                          streams=['shop=http://192.168.1.21:81/stream'])
    boards[0].name, boards[0].url, boards[0].headers()   # the token as a Bearer header

A board's token rides in its URL's password (http://:TOKEN@host) and stays with the ingest: an
edge needs the names only (`--board porch` is enough there). A CameraWebServer board streams on
port 81 unless `--stream name=URL` says otherwise.
"""
from camdot_relay.http_client import HTTPError, split_url
from camdot_relay.topics import check_name


class Board:
    """One board: its name, base URL (no credentials), token, and CameraWebServer stream URL."""

    def __init__(self, name, url=None, token=None, stream=None):
        self.name = check_name(name)
        self.url = url
        self.token = token
        self.stream = stream

    def __repr__(self):
        return '<Board %s %s>' % (self.name, self.url or '(name only)')

    def headers(self):
        return {'Authorization': 'Bearer ' + self.token} if self.token else {}

    def ws_url(self, path):
        return 'ws' + self.url[4:] + path  # http -> ws, https -> wss

    def stream_url(self):
        """Where a CameraWebServer board streams: `--stream`, else port 81 of its host."""
        if self.stream:
            return self.stream
        secure, host, port, hostport, path = split_url(self.url)
        if ':' in host:
            host = '[%s]' % host
        return '%s://%s:81/stream' % ('https' if secure else 'http', host)


def parse_board(spec):
    """'name=URL' or 'name' -> Board (ValueError with the reason)."""
    name, eq, url = spec.partition('=')
    name = name.strip()
    if not eq:
        return Board(name)
    url = url.strip()
    try:
        split_url(url)
    except HTTPError as exc:
        raise ValueError('board %s: %s' % (name, exc))
    scheme, _, rest = url.partition('://')
    hostport, slash, path = rest.partition('/')
    token = None
    if '@' in hostport:
        cred, _, hostport = hostport.rpartition('@')
        token = cred.partition(':')[2] or cred
    base = '%s://%s%s%s' % (scheme, hostport, slash, path)
    return Board(name, base.rstrip('/'), token)


def parse_boards(specs, streams=()):
    boards = []
    seen = set()
    for spec in specs:
        for part in spec.split(','):
            if part.strip():
                b = parse_board(part)
                if b.name in seen:
                    raise ValueError('board %s named twice' % b.name)
                seen.add(b.name)
                boards.append(b)
    by_name = {b.name: b for b in boards}
    for spec in streams:
        name, eq, url = spec.partition('=')
        if not eq or name not in by_name:
            raise ValueError('--stream wants NAME=URL for a board named by --board: %r' % spec)
        split_url(url)
        by_name[name].stream = url
    return boards
