"""Board entry point (also `make run` on the unix port): load the config, serve the device app.

On the board the config is /config.json; on the unix port the file named by $CAMDOT_CONFIG and the
port from $HTTP_PORT (default 8080).
"""
import sys

from camdot import config as camdot_config
from camdot.app import create_app
from camdot.compat import getenv

ON_BOARD = sys.platform == 'esp32'


def main():
    if ON_BOARD:
        cfg = camdot_config.load(camdot_config.BOARD_PATH)
        port = cfg['http_port']
    else:
        cfg = camdot_config.load(getenv('CAMDOT_CONFIG'))
        port = int(getenv('HTTP_PORT', '8080'))
    host = getenv('HTTP_HOST', '0.0.0.0' if ON_BOARD else '127.0.0.1')
    app = create_app(cfg)
    print('camdot: serving on http://%s:%d/' % (host, port))
    try:
        app.run(host=host, port=port)
    except KeyboardInterrupt:
        print('camdot: stopped')


main()
