"""A relay deployment of real parts for host tests: Redis, boards, ingests and edges as processes.

    with Deployment(tmp_path) as d:        # Redis, a camdot board (unix port), a simulated
        d.edge_url('A')                    # CameraWebServer, 2 ingests, 2 edges (A, B)
        d.ingests[0].kill()

Every process gets free loopback ports and its own scratch files; a Redis key prefix of its own.
"""
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from redisd import RedisServer
from servers import MPY, PY, ROOT, Server, free_port, wait_for_port

RELAY = os.path.join(ROOT, 'tools', 'relay.py')
CWS_SIM = os.path.join(ROOT, 'tools', 'cws_sim.py')


def until(cond, timeout=15.0, what='condition', step=0.05):
    """Poll cond() until it returns something true; return that (AssertionError at the deadline)."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            value = cond()
            if value:
                return value
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(step)
    raise AssertionError('timed out after %g s waiting for %s (last error: %r)' % (
        timeout, what, last))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def http(url, method='GET', body=None, headers=None, timeout=10):
    """(status, headers, body bytes) of one request, redirects not followed; HTTP errors are
    answers, not exceptions."""
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None and not req.has_header('Content-type'):
        req.add_header('Content-Type', 'application/json')
    try:
        with _OPENER.open(req, timeout=timeout) as res:
            return res.status, dict(res.headers), res.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def get_json(url, **kw):
    status, _, body = http(url, headers={'Accept': 'application/json'}, **kw)
    return status, json.loads(body) if body else None


class Proc:
    """A child process without a port to wait for (an ingest); output in a scratch file."""

    def __init__(self, argv, env=None):
        self.argv = argv
        self.env = dict(os.environ, **(env or {}))
        self.dir = tempfile.mkdtemp(prefix='camdot-proc-')
        self.log_path = os.path.join(self.dir, 'output.log')
        self.proc = None

    def start(self):
        self.log = open(self.log_path, 'a')
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL: the process dies without cleaning up (no lease released)."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout=5):
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, 'log', None) is not None:
            self.log.close()
            self.log = None

    def output(self):
        with open(self.log_path) as f:
            return f.read()


class Edge(Server):
    """An edge process (a Server: it listens)."""

    def restarted(self):
        """A new process in place of this one, on the same port."""
        self.stop()
        return Edge(self.argv, self.port).__enter__()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


class Deployment:
    def __init__(self, folder, fps=20, token=None):
        self.folder = str(folder)
        self.fps = fps
        self.token = token
        self.prefix = 'test-%d-%s' % (os.getpid(), os.urandom(3).hex())
        self.redis = RedisServer()
        self.board = None
        self.cws = None
        self.ingests = []
        self.edges = {}

    # ---- parts ----

    def start_board(self):
        cfg = os.path.join(self.folder, 'board.json')
        with open(cfg, 'w') as f:
            json.dump({'hostname': 'cam1', 'settings_file': os.path.join(self.folder, 's.json'),
                       'camera': {'fps': self.fps}}, f)
        port = free_port()
        self.board = Server([MPY, 'main.py'], port,
                            env={'HTTP_PORT': str(port), 'CAMDOT_CONFIG': cfg}).__enter__()

    def start_cws(self, mode='quirky'):
        port, stream_port = free_port(), free_port()
        self.cws = Server([PY, CWS_SIM, '--port', str(port), '--stream-port', str(stream_port),
                           '--fps', str(self.fps), '--mode', mode], port).__enter__()
        self.cws.stream_port = stream_port
        wait_for_port(stream_port)

    def board_args(self):
        return ['--board', 'cam1=%s,cws=%s' % (self.board.url, self.cws.url),
                '--stream', 'cws=http://127.0.0.1:%d/stream' % self.cws.stream_port,
                '--redis', self.redis.url, '--prefix', self.prefix]

    def start_ingest(self):
        p = Proc([PY, RELAY, '--role', 'ingest'] + self.board_args()).start()
        self.ingests.append(p)
        return p

    def start_edge(self, name):
        port = free_port()
        argv = [PY, RELAY, '--role', 'edge', '--host', '127.0.0.1', '--port', str(port),
                '--board', 'cam1,cws', '--redis', self.redis.url, '--prefix', self.prefix]
        if self.token:
            argv += ['--token', self.token]
        self.edges[name] = Edge(argv, port).__enter__()
        return self.edges[name]

    def edge_url(self, name):
        return self.edges[name].url

    # ---- what the tests ask ----

    def boards(self, edge):
        status, doc = get_json(self.edge_url(edge) + '/')
        assert status == 200, status
        return {b['name']: b for b in doc['boards']}

    def all_online(self, edges=None):
        for e in edges or self.edges:
            boards = self.boards(e)
            if any(b['state'] != 'online' for b in boards.values()):
                return False
        return True

    def lease_holder(self, board='cam1'):
        import socket
        key = ('%s:lease:%s' % (self.prefix, board)).encode()
        with socket.create_connection(('127.0.0.1', self.redis.port), timeout=2) as s:
            s.sendall(b'*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n' % (len(key), key))
            reply = s.recv(256)
        if reply.startswith(b'$-1'):
            return None
        return reply.split(b'\r\n')[1].decode()

    def __enter__(self):
        try:
            self.redis.start()
            self.start_board()
            self.start_cws()
            self.start_ingest()
            self.start_ingest()
            self.start_edge('A')
            self.start_edge('B')
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for e in self.edges.values():
            e.stop()
        for p in self.ingests:
            p.stop()
        for s in (self.cws, self.board):
            if s is not None:
                s.stop()
        self.redis.__exit__()

    def outputs(self):
        """Every process's output, for an assertion message."""
        parts = []
        for i, p in enumerate(self.ingests):
            parts.append('--- ingest %d ---\n%s' % (i, p.output()[-3000:]))
        for name, e in self.edges.items():
            try:
                with open(e.log_path) as f:
                    parts.append('--- edge %s ---\n%s' % (name, f.read()[-3000:]))
            except OSError:
                pass
        return '\n'.join(parts)
