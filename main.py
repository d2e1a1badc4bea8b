"""Board entry point (also `make run` on the unix port): load the config, serve the device app.

On the board: /config.json, port config['http_port'], the board's camera (camera.backend 'auto'),
a watchdog fed by the app's event loop, and nothing at all in safe mode (see camdot.board).
On the unix port: the file named by $CAMDOT_CONFIG, port $HTTP_PORT (default 8080), the simulated
camera. Ctrl-C stops the app ('camdot: stopped') and leaves you at the REPL.
"""
import gc
import sys

from camdot import board
from camdot import config as camdot_config
from camdot.compat import getenv, mem_free, print_exception

ON_BOARD = sys.platform == 'esp32'


def log(msg):
    print('camdot:', msg)


async def serve(app, host, port, wdt):
    if wdt is not None:
        import asyncio
        asyncio.create_task(wdt.run())
    await app.start_server(host=host, port=port)


def main():
    reason = board.safe_mode()   # decided by boot.py on the board; else: does /safemode exist
    if reason:
        log('safe mode (%s): app not started' % reason)
        return
    if ON_BOARD:
        cfg = camdot_config.load(camdot_config.BOARD_PATH)
        port = cfg['http_port']
    else:
        cfg = camdot_config.load(getenv('CAMDOT_CONFIG'))
        port = int(getenv('HTTP_PORT', '8080'))
    host = getenv('HTTP_HOST', '0.0.0.0' if ON_BOARD else '127.0.0.1')
    from camdot.app import create_app
    app = create_app(cfg)
    gc.collect()
    if ON_BOARD:
        # Collect after each quarter of the free heap is allocated: shorter GC pauses, less
        # fragmentation than waiting for the heap to fill (and with PSRAM a full pass takes ~100 ms).
        gc.threshold(gc.mem_free() // 4 + gc.mem_alloc())
    free = mem_free()
    if free is not None:
        log('free heap %d KB' % (free // 1024))
    wdt = board.Watchdog(board.WATCHDOG_MS) if ON_BOARD else None
    where = board.state['ip'] or host
    log('%s serving on http://%s:%d/ (camera: %s)' % (cfg['hostname'], where, port,
                                                        cfg['camera']['backend']))
    try:
        import asyncio
        asyncio.run(serve(app, host, port, wdt))
    except KeyboardInterrupt:
        log('stopped')
        if wdt is not None:
            wdt.park()  # the ESP32 watchdog can't be stopped: keep the REPL alive
    except Exception as exc:
        if not ON_BOARD:
            raise
        log('crashed; restarting in 10 s (Ctrl-C for the REPL)')
        print_exception(exc)
        import machine
        import time
        try:
            time.sleep(10)
        except KeyboardInterrupt:
            if wdt is not None:
                wdt.park()
            return
        machine.reset()


main()
