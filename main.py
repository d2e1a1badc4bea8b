"""Board entry point (also `make run` on the unix port): load the config, serve the device app.

On the board (and the simulated board run with --on-board): /config.json, port
config['http_port'], the board's camera (camera.backend 'auto'), a watchdog armed before anything
that can hang and fed by the app's event loop, a Wi-Fi supervisor, and nothing at all in safe
mode (see camdot.board). Nothing between reset and serving leaves the board without its app: a
camera that does not start, a missing or unknown camera driver, a corrupt settings file or a
MemoryError while the app is built give an app without the camera that says why (see
camdot.app.build_app); any other crash is logged and the board resets CRASH_RESET_S later
(Ctrl-C meanwhile: the REPL).
On the unix port: the file named by $CAMDOT_CONFIG, port $HTTP_PORT (default 8080), the simulated
camera. Ctrl-C stops the app ('camdot: stopped') and leaves you at the REPL.
"""
import gc

CRASH_RESET_S = 10   # after a crash on the board: log, wait this long, reset


def log(msg):
    print('camdot:', msg)


async def serve(app, host, port, wdt, wifi):
    import asyncio
    if wdt is not None:
        asyncio.create_task(wdt.run())
    if wifi is not None:
        asyncio.create_task(wifi.run())
    await app.start_server(host=host, port=port)


def wifi_supervisor(board, cfg, app):
    # Keeps a configured station joined after boot (not in access point mode, where the setup
    # page is the way back); None when there is no radio (the simulated board).
    station = cfg['wifi']
    if not station['ssid'] or board.state['mode'] == 'ap':
        return None
    try:
        import network  # noqa: F401
    except ImportError:
        return None
    from camdot.wifi_supervisor import WifiSupervisor
    return WifiSupervisor(station['ssid'], station['password'], app.hub,
                          reset_after_ms=station['reset_after_s'] * 1000)


def run(board, running):
    from camdot import config as camdot_config
    from camdot.compat import getenv, mem_free
    reason = board.safe_mode()   # decided by boot.py on the board; else: does /safemode exist
    if reason:
        log('safe mode (%s): app not started' % reason)
        return
    on_board = board.ON_BOARD
    if on_board:
        cfg = camdot_config.load(camdot_config.BOARD_PATH)
        port = cfg['http_port']
        # First: the camera driver (and anything else below) can hang; then the board resets.
        from camdot import watchdog
        running['wdt'] = watchdog.arm(cfg)
    else:
        cfg = camdot_config.load(getenv('CAMDOT_CONFIG'))
        port = int(getenv('HTTP_PORT', '8080'))
    host = getenv('HTTP_HOST', '0.0.0.0' if on_board else '127.0.0.1')
    from camdot.app import build_app
    app = build_app(cfg)
    gc.collect()
    if on_board:
        # Collect after each quarter of the free heap is allocated: shorter GC pauses, less
        # fragmentation than waiting for the heap to fill (and with PSRAM a full pass takes ~100 ms).
        gc.threshold(gc.mem_free() // 4 + gc.mem_alloc())
    free = mem_free()
    if free is not None:
        log('free heap %d KB' % (free // 1024))
    wifi = wifi_supervisor(board, cfg, app) if on_board else None
    where = board.state['ip'] or host
    log('%s serving on http://%s:%d/ (camera: %s)' % (cfg['hostname'], where, port, app.cam.name))
    import asyncio
    asyncio.run(serve(app, host, port, running['wdt'], wifi))


def crash_then_reset(exc, wdt):
    from camdot.compat import print_exception
    log('crashed; restarting in %d s (Ctrl-C for the REPL)' % CRASH_RESET_S)
    print_exception(exc)
    if wdt is not None:
        wdt.park()   # a timer feeds it meanwhile (and at the REPL after Ctrl-C)
    import machine
    import time
    try:
        time.sleep(CRASH_RESET_S)
    except KeyboardInterrupt:
        return
    machine.reset()


def main():
    try:
        from camdot import board
    except Exception as exc:   # no camdot on this board (or a broken copy): keep the REPL
        log('cannot import camdot: %r' % (exc,))
        return
    running = {'wdt': None}
    try:
        run(board, running)
    except KeyboardInterrupt:
        log('stopped')
        if running['wdt'] is not None:
            running['wdt'].park()  # the ESP32 watchdog can't be stopped: keep the REPL alive
    except Exception as exc:
        if not board.ON_BOARD:
            raise
        crash_then_reset(exc, running['wdt'])


main()
