"""The device page at `/`: index.html from the www folder, gzipped when the client takes it.

    from camdot.device import page
    page.install(app, config)

The board has only index.html.gz (make deploy ships no raw copy): it goes out as stored, with
Content-Encoding: gzip (even to a client that did not ask: better than no page). Off the board the
raw index.html is streamed with the device name put in its <title>. An ETag made of the file's size
and time (and '-gz') answers a repeated load with 304.
"""
import os

from microdot import Response


def www_dir(config):
    """Where the page is: config www_dir (frozen firmware), else the www folder beside the camdot
    package (/lib/camdot/www on the board)."""
    here = globals().get('__file__', '/lib/camdot/device/x')      # (frozen: no __file__)
    return config.get('www_dir') or here.rsplit('/', 2)[0] + '/www'


def _asset(www, name, gzip_ok):
    # (path, gzipped, stat): NAME.gz when the client takes gzip, else NAME; the board has only the
    # .gz (deploy ships no raw copy), so that is served even then rather than nothing.
    tries = ((name + '.gz', True), (name, False)) if gzip_ok else ((name, False), (name + '.gz', True))
    for file, gz in tries:
        try:
            return www + '/' + file, gz, os.stat(www + '/' + file)
        except OSError:
            pass
    return None, False, None


class _Titled:
    """The raw page file, read in pieces, with the device name put in its <title>."""

    def __init__(self, f, name):
        self.f = f
        self.name = name

    def read(self, n):
        data = self.f.read(n)
        if self.name is not None:  # the title is in the first piece
            data = data.replace(b'<title>camdot', b'<title>%s - camdot' % self.name.encode(), 1)
            self.name = None
        return data

    def close(self):
        self.f.close()


def install(app, config):
    """Serve the device page at `/`."""
    www = www_dir(config)
    name = config.get('hostname', 'camdot')

    @app.get('/')
    async def index(request):
        gzip_ok = 'gzip' in request.headers.get('Accept-Encoding', '')
        path, gz, st = _asset(www, 'index.html', gzip_ok)
        if path is None:
            return 'device page missing (run `make setup`)', 500
        etag = '"%x-%x%s"' % (st[6], int(st[8]), '-gz' if gz else '')
        headers = {'Content-Type': 'text/html; charset=utf-8', 'ETag': etag,
                   'Cache-Control': 'no-cache', 'Vary': 'Accept-Encoding'}
        if request.headers.get('If-None-Match') == etag:
            return '', 304, headers
        if gz:
            headers['Content-Encoding'] = 'gzip'
            headers['Content-Length'] = str(st[6])
            return Response(body=open(path, 'rb'), headers=headers)
        # Uncompressed fallback (only off-board: deploy ships the .gz), streamed like the .gz.
        return Response(body=_Titled(open(path, 'rb'), name), headers=headers)
