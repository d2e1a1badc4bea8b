"""The device page's camera controls in a real browser (Playwright + Debian's chromium).

Two browsers open the page of main.py (unix port, simulated camera). Changing `framesize` in the
first one changes the frames it shows; the second one sees the new value and the new frame size
live, and a change made with CameraWebServer's /control shows up in both.
"""
import json
import urllib.request

from servers import MPY, Server, free_port





def frame_size(page):
    return page.evaluate("() => [document.getElementById('cv').width, "
                         "document.getElementById('cv').height]")


def test_framesize_control_changes_the_frames_in_both_browsers(browser, tmp_path):
    port = free_port()
    cfg = tmp_path / 'config.json'
    cfg.write_text(json.dumps({'settings_file': str(tmp_path / 'settings.json'),
                               'camera': {'backend': 'sim', 'framesize': 'QVGA'}}))
    env = {'HTTP_PORT': str(port), 'CAMDOT_CONFIG': str(cfg),
           'CAMDOT_SETTINGS': str(tmp_path / 'settings.json')}
    with Server([MPY, 'main.py'], port, env=env) as srv:
        a = browser.new_context().new_page()
        b = browser.new_context().new_page()
        errors = []
        for page in (a, b):
            page.on('pageerror', lambda exc: errors.append(str(exc)))
            page.goto(srv.url + '/')
            page.wait_for_selector('#p-framesize', timeout=15000)
            # the controls come from the TD: one per property, with the TD's schema
            assert page.eval_on_selector('#p-brightness', 'e => [e.type, e.min, e.max]') == \
                ['range', '-2', '2']
            assert page.eval_on_selector('#p-hmirror', 'e => e.type') == 'checkbox'
            page.wait_for_function("() => document.getElementById('p-framesize').value === 'QVGA'"
                                   " && document.getElementById('cv').width === 320",
                                   timeout=15000)
        assert frame_size(a) == [320, 240]

        a.select_option('#p-framesize', 'VGA')
        a.wait_for_function("() => document.getElementById('cv').width === 640", timeout=15000)
        assert frame_size(a) == [640, 480]
        # live in the other browser: the select follows, and so do its frames
        b.wait_for_function("() => document.getElementById('p-framesize').value === 'VGA'",
                            timeout=10000)
        b.wait_for_function("() => document.getElementById('cv').width === 640", timeout=15000)
        assert frame_size(b) == [640, 480]

        # a CameraWebServer-style client changes it back: both pages follow
        with urllib.request.urlopen(srv.url + '/control?var=framesize&val=1', timeout=5) as res:
            assert res.status == 200                     # 1 = QQVGA in CameraWebServer's table
        for page in (a, b):
            page.wait_for_function("() => document.getElementById('p-framesize').value === 'QQVGA'"
                                   " && document.getElementById('cv').width === 160",
                                   timeout=15000)
            assert frame_size(page) == [160, 120]

        # a slider written in one page shows up in the other
        b.eval_on_selector('#p-brightness',
                           "e => { e.value = '-1'; e.dispatchEvent(new Event('change')); }")
        a.wait_for_function("() => document.getElementById('p-brightness').value === '-1'",
                            timeout=10000)
        assert errors == []
        srv.stop()
