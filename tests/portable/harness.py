"""Small helpers for portable tests (no pytest on MicroPython)."""


def raises(exc_type, func, *args, **kwargs):
    """Call func and return the exception it raised; fail unless it is an exc_type."""
    try:
        func(*args, **kwargs)
    except exc_type as exc:
        return exc
    raise AssertionError('%s did not raise %s' % (getattr(func, '__name__', func), exc_type.__name__))


async def araises(exc_type, coro):
    """Await coro and return the exception it raised; fail unless it is an exc_type."""
    try:
        await coro
    except exc_type as exc:
        return exc
    raise AssertionError('did not raise %s' % exc_type.__name__)


def tmp_path(name):
    """A scratch file path that works on both runtimes (the unix port has no tempfile)."""
    import os
    base = os.getenv('TMPDIR') or '/tmp'
    return '%s/camdot-test-%s' % (base, name)


def remove(path):
    import os
    try:
        os.remove(path)
    except OSError:
        pass


def free_port():
    """A free TCP port on 127.0.0.1 (the unix port has no getsockname(): probe random ports)."""
    import os
    import socket
    for _ in range(50):
        port = 20000 + int.from_bytes(os.urandom(2), 'big') % 30000
        s = socket.socket()
        try:
            s.bind(socket.getaddrinfo('127.0.0.1', port)[0][-1])
            return port
        except OSError:
            pass
        finally:
            s.close()
    raise OSError('no free port')


class Allocated:
    """What the code in a `with` block allocates, on either runtime:

        with Allocated() as a:
            parse()
        assert a.bytes < 4096

    MicroPython: the heap's growth with the GC off (every allocation counts, garbage too).
    CPython: the traced peak above the start (tracemalloc), as the GC can't be held off.
    """

    def __enter__(self):
        import gc
        gc.collect()
        self._traced = None
        if hasattr(gc, 'mem_alloc'):        # MicroPython
            gc.disable()
            self._start = gc.mem_alloc()
        else:
            import tracemalloc
            self._traced = tracemalloc
            tracemalloc.start()
            self._start = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc):
        import gc
        if self._traced is None:
            self.bytes = gc.mem_alloc() - self._start
            gc.enable()
        else:
            self.bytes = self._traced.get_traced_memory()[1] - self._start
            self._traced.stop()
