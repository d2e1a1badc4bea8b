"""Run microdot's own tests/test_websocket.py (staged by `make setup`) against camdot.websocket.

    .venv/bin/python tests/microdot_suite/run.py .deps/microdot-tests/test_websocket.py [--client C]
    .venv/bin/micropython tests/microdot_suite/run.py .deps/microdot-tests/test_websocket.py [...]

`microdot.websocket` resolves to `camdot.websocket`. The tests drive the app with a TestClient:
--client microdot (the default) keeps microdot's own; --client camdot resolves
`microdot.test_client` to `camdot.test_client` as well. Every test runs. EXCLUDED names those
that must fail, each with the RFC 6455 section or the microdot private it needs and a phrase the
failure must contain: an excluded test that passes, or fails for another reason, fails the run,
as does any other test that does not pass. A test microdot's file skips on this runtime is shown
as skipped, not counted as passed. The last line sums up; the exit status is 1 on anything
unexpected.
"""
import sys

# Why a test can't pass against camdot.websocket, and what its failure must say.
NEEDS_HTTP10_AND_UNMASKED = (
    "microdot's TestClient asks for the upgrade in HTTP/1.0 and sends unmasked frames; RFC 6455 "
    "4.1 wants HTTP/1.1 or later (camdot answers 400) and 5.1 masked client frames (1002)",
    'WebSocket upgrade needs GET and HTTP/1.1')
CALLS_A_PRIVATE = (
    "calls WebSocket._process_websocket_frame, a private function of microdot.websocket",
    '_process_websocket_frame')
EXCLUDED = {
    'microdot': {
        'test_websocket_echo': NEEDS_HTTP10_AND_UNMASKED,
        'test_websocket_large_message': NEEDS_HTTP10_AND_UNMASKED,
        'test_process_websocket_frame': CALLS_A_PRIVATE,
    },
    'camdot': {
        'test_process_websocket_frame': CALLS_A_PRIVATE,
    },
}
MICROPYTHON = sys.implementation.name == 'micropython'


def load(path, client):
    """Import the test file as module `microdot_test_websocket`, microdot.websocket (and with
    --client camdot, microdot.test_client) resolved to camdot's."""
    folder, _, name = path.rpartition('/')
    if MICROPYTHON:
        try:
            import unittest  # noqa: F401
        except ImportError:
            sys.path.insert(0, __file__.rpartition('/')[0] + '/mpy')
    import camdot.websocket
    sys.modules['microdot.websocket'] = camdot.websocket
    if client == 'camdot':
        import camdot.test_client
        sys.modules['microdot.test_client'] = camdot.test_client
    sys.path.insert(0, folder or '.')
    return __import__(name[:-3])


def error_text(exc):
    return '%s: %s' % (type(exc).__name__, exc)


def run(module, client):
    import unittest
    excluded = EXCLUDED[client]
    seen = set()
    counts = {'passed': 0, 'excluded': 0, 'skipped': 0, 'unexpected': 0}
    for cls_name in sorted(dir(module)):
        cls = getattr(module, cls_name)
        if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase)) or \
                cls is unittest.TestCase:
            continue
        cls.setUpClass()
        for name in sorted(dir(cls)):
            if not name.startswith('test_'):
                continue
            seen.add(name)
            error = None
            try:
                case = cls(name)
                case.setUp()
                try:
                    getattr(case, name)()
                finally:
                    case.tearDown()
            except unittest.SkipTest as exc:
                counts['skipped'] += 1
                print('SKIP  %s (microdot: %s)' % (name, exc))
                continue
            except Exception as exc:
                error = error_text(exc)
            if name in excluded:
                reason, phrase = excluded[name]
                if error is not None and phrase in error:
                    counts['excluded'] += 1
                    print('XFAIL %s: %s [failed with: %s]' % (name, reason, error[:160]))
                else:
                    counts['unexpected'] += 1
                    print('ERROR %s is listed as failing (%s) but %s' % (
                        name, reason, 'passed' if error is None else 'failed with: ' + error))
            elif error is None:
                counts['passed'] += 1
                print('PASS  %s' % name)
            else:
                counts['unexpected'] += 1
                print('FAIL  %s: %s' % (name, error))
    for name in sorted(excluded):
        if name not in seen:
            counts['unexpected'] += 1
            print('ERROR %s is listed but not in the file' % name)
    if not counts['passed']:
        counts['unexpected'] += 1
    print('microdot suite (%s, %s client): %d passed, %d excluded as listed, %d skipped by '
          "microdot's file, %d unexpected" % (sys.implementation.name, client, counts['passed'],
                                             counts['excluded'], counts['skipped'],
                                             counts['unexpected']))
    return counts['unexpected']


def main(argv):
    client = 'microdot'
    args = list(argv)
    if '--client' in args:
        i = args.index('--client')
        client = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1 or client not in EXCLUDED:
        print(__doc__)
        return 2
    return 1 if run(load(args[0], client), client) else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
