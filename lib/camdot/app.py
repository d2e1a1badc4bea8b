"""The device app: one function that assembles routes for a given config.

    from camdot import app, config
    device = app.create_app(config.load(None))
    device.run(port=8080)

Feature modules add their routes here, each through its own `install(app, ...)`, so this file stays
the single place that shows what the device serves.
"""
from microdot import Microdot

from camdot import __version__

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s - camdot</title></head>
<body><h1>%s</h1><p>camdot %s is running.</p></body></html>
"""


def create_app(config):
    app = Microdot()
    name = config['hostname']

    @app.get('/')
    async def index(request):
        return PAGE % (name, name, __version__), 200, {'Content-Type': 'text/html; charset=utf-8'}

    return app
