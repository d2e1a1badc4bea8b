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


_token = None


def tmp_path(name):
    """A scratch file path of this process's own (the unix port has no tempfile): runs of the
    suite on one machine at the same time never share a file. Remove it when done."""
    global _token
    import os
    if _token is None:  # random, not the pid: the unix port's os has no getpid()
        _token = ''.join('%02x' % b for b in os.urandom(4))
    base = os.getenv('TMPDIR') or '/tmp'
    return '%s/camdot-test-%s-%s' % (base, _token, name)


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


def _clock():
    import time
    if hasattr(time, 'ticks_ms'):       # MicroPython
        return time.ticks_ms, time.ticks_diff
    return (lambda: int(time.monotonic() * 1000)), (lambda a, b: a - b)


def _check(cond, start, timeout, what):
    """cond()'s value if true, else None; AssertionError once `timeout` s have passed."""
    value = cond()
    if not value:
        now, diff = _clock()
        if diff(now(), start) > timeout * 1000:
            raise AssertionError('waited %s s for %s in vain (last: %r)' % (timeout, what, value))
    return value


async def until(cond, timeout=10, what='the condition', step=0.01):
    """Poll cond() until it returns something true, letting other tasks run; return that value.

        await until(lambda: len(ws.frames) >= 10, what='10 frames')

    AssertionError after `timeout` seconds. Tests wait for what they check with this, never with
    a fixed sleep: on a loaded machine everything may take longer, but nothing is missed.
    """
    import asyncio
    start = _clock()[0]()
    while True:
        value = _check(cond, start, timeout, what)
        if value:
            return value
        await asyncio.sleep(step)


def pending(sub):
    """What waits in a camdot.hub Subscription now, without waiting: a list of (topic, payload)."""
    out = []
    while True:
        item = sub.get_nowait()
        if item is None:
            return out
        out.append(item)


def wait_until(cond, timeout=10, what='the condition', step=0.05):
    """until() for code without an event loop (host tests polling a server process)."""
    import time
    start = _clock()[0]()
    while True:
        value = _check(cond, start, timeout, what)
        if value:
            return value
        time.sleep(step)


async def serve(app, host='127.0.0.1'):
    """Start a Microdot app on a free port; return (server task, port) once it listens."""
    import asyncio
    for attempt in range(3):
        port = free_port()
        task = asyncio.create_task(app.start_server(host=host, port=port))
        await until(lambda: app.server is not None or task.done(), what='listening')
        if not task.done():
            return task, port
        try:
            task.result()
        except OSError:  # the port was taken meanwhile (other test runs share this machine)
            if attempt == 2:
                raise
    raise OSError('the server stopped at once')


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
