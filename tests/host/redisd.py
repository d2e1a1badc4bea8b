"""A real Redis server for host tests: Debian's redis-server on a free loopback port, no disk.

    with RedisServer() as r:
        r.url                      # redis://127.0.0.1:PORT/0
        r.stop(); r.start()        # the same port again (a restart the clients must survive)

A missing redis-server is a failure, not a skip (.ci/run installs it).
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time

from servers import free_port

REDIS_SERVER = shutil.which('redis-server') or '/usr/bin/redis-server'


def ping(port, timeout=0.5):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=timeout) as s:
            s.sendall(b'PING\r\n')
            return s.recv(16).startswith(b'+PONG')
    except OSError:
        return False


class RedisServer:
    def __init__(self, port=None):
        if not os.path.exists(REDIS_SERVER):
            raise AssertionError('redis-server is missing: apt-get install redis-server '
                                 '(.ci/run does)')
        self.port = port or free_port()
        self.url = 'redis://127.0.0.1:%d/0' % self.port
        self.dir = tempfile.mkdtemp(prefix='camdot-redis-')
        self.proc = None
        self.log = None

    def start(self, timeout=10.0):
        self.log = open(os.path.join(self.dir, 'redis.log'), 'a')
        self.proc = subprocess.Popen(
            [REDIS_SERVER, '--port', str(self.port), '--bind', '127.0.0.1', '--save', '',
             '--appendonly', 'no', '--dir', self.dir, '--protected-mode', 'no'],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('redis-server exited: %s' % self.output())
            if ping(self.port):
                return self
            time.sleep(0.05)
        raise TimeoutError('redis-server did not answer on port %d' % self.port)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None:
            self.log.close()
            self.log = None

    def output(self):
        with open(os.path.join(self.dir, 'redis.log')) as f:
            return f.read()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
