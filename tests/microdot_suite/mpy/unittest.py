"""The part of unittest that microdot's tests/test_websocket.py uses, for the unix port (which has
no unittest). tests/microdot_suite/run.py puts this folder on sys.path under MicroPython only."""


class SkipTest(Exception):
    """A test skipped itself (skipIf)."""


def skipIf(condition, reason):
    def decorate(test):
        if not condition:
            return test

        def skipped(*args, **kwargs):
            raise SkipTest(reason)
        return skipped
    return decorate


class TestCase:
    def __init__(self, methodName='runTest'):
        self._testMethodName = methodName

    @classmethod
    def setUpClass(cls):
        pass

    def setUp(self):
        pass

    def tearDown(self):
        pass

    def assertEqual(self, first, second, msg=None):
        assert first == second, msg or '%r != %r' % (first, second)

    def assertIsNone(self, value, msg=None):
        assert value is None, msg or '%r is not None' % (value,)

    def assertTrue(self, value, msg=None):
        assert value, msg or '%r is not true' % (value,)

    def assertRaises(self, exc_type, func, *args, **kwargs):
        try:
            func(*args, **kwargs)
        except exc_type:
            return
        raise AssertionError('%s not raised' % exc_type.__name__)
