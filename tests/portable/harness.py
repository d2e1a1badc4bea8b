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
