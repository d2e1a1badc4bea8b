"""Start project processes (the unix-port app, tools/*.py servers) for host tests.

    with Server([MPY, 'main.py'], env={'HTTP_PORT': str(port)}, port=port) as srv:
        urllib.request.urlopen(srv.url + '/')
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MPY = os.path.join(ROOT, '.venv', 'bin', 'micropython')
PY = sys.executable
MICROPYPATH = 'lib:.deps:.frozen'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=15.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError('server exited with %s before listening' % proc.returncode)
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError('nothing listening on port %d after %.0f s' % (port, timeout))


class Server:
    """A child process that serves on `port`; stopped with SIGINT (as Ctrl-C), then killed."""

    def __init__(self, argv, port, env=None, cwd=ROOT, timeout=15.0):
        self.argv = argv
        self.port = port
        self.url = 'http://127.0.0.1:%d' % port
        self.env = dict(os.environ, MICROPYPATH=MICROPYPATH)
        # Saved camera settings go to a scratch file unless the test names one: a test server must
        # never read or write the developer's settings.json.
        scratch = self._scratch = tempfile.mkdtemp(prefix='camdot-server-')   # removed by stop()
        self.env['CAMDOT_SETTINGS'] = os.path.join(scratch, 'settings.json')
        self.env.update(env or {})
        self.cwd = cwd
        self.timeout = timeout
        self.proc = None
        self.output = ''
        # A file, not a pipe: nobody reads a pipe while the test runs, and a chatty server would
        # block once the pipe's buffer is full.
        self.log_path = os.path.join(scratch, 'output.log')
        self._log = None

    def __enter__(self):
        self._log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, text=True)
        try:
            wait_for_port(self.port, self.timeout, self.proc)
        except Exception:
            self.stop()
            raise RuntimeError('%s\n--- output ---\n%s' % (' '.join(self.argv), self.output))
        return self

    def stop(self, timeout=5.0):
        """Ctrl-C the process; return its exit code (killed if it does not stop in time)."""
        if self.proc is None or self._log.closed:
            return None if self.proc is None else self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        with open(self.log_path) as f:
            self.output = f.read()
        shutil.rmtree(self._scratch, ignore_errors=True)
        return self.proc.returncode

    def __exit__(self, *exc):
        self.stop()


def device_app(folder, **config):
    """The device app (main.py on the unix port) with `config`, its config and settings files in
    `folder` (never the repo's); a Server to use in a `with`."""
    config.setdefault('settings_file', str(folder / 'settings.json'))
    path = folder / 'config.json'
    path.write_text(json.dumps(config))
    port = free_port()
    return Server([MPY, 'main.py'], port, env={'HTTP_PORT': str(port), 'CAMDOT_CONFIG': str(path)})


class PageServer:
    """A page served on its own loopback origin (another port is another origin), for browser
    tests: `with PageServer(html) as url: page.goto(url + '/')`."""

    def __init__(self, html):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        body = html.encode()

        class Page(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header('Content-Type', 'text/html')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', free_port()), Page)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]

    def __enter__(self):
        import threading
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.url

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
