"""Start tools/sim_board.py for host tests and drive it with mpremote.

    with SimBoard(tmp_path, http_port=port) as sb:
        out = sb.mpremote('exec', 'print(1)')
"""
import os
import subprocess
import sys

from servers import ROOT, PY

SIM = os.path.join(ROOT, 'tools', 'sim_board.py')


class SimBoard:
    def __init__(self, root, http_port=None, autorun=True, log=None, on_board=False, flash_kb=0,
                 mounts=()):
        self.root = str(root)
        self.log = log
        self.argv = [PY, SIM, '--root', self.root]
        if log:
            self.argv += ['--log', str(log)]
        if on_board:
            self.argv.append('--on-board')
        if flash_kb:
            self.argv += ['--flash-kb', str(flash_kb)]
        for host, path in mounts:
            self.argv += ['--mount', '%s:%s' % (host, path)]
        if autorun:
            self.argv.append('--autorun')
        if http_port:
            self.argv += ['--http-port', str(http_port)]
        self.proc = None
        self.device = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, cwd=ROOT)
        self.device = self.proc.stdout.readline().strip()
        if not self.device.startswith('/dev/'):
            self.stop()
            raise RuntimeError('sim board did not start: %r' % self.device)
        return self

    def mpremote(self, *args, timeout=60, check=True):
        res = subprocess.run([PY, '-m', 'mpremote', 'connect', self.device] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise AssertionError('mpremote %s failed (%d):\n%s' % (args, res.returncode, res.stdout))
        return res.stdout

    def deploy(self, *args, timeout=120, out=None):
        """tools/deploy.py to this board; `out`: a private staging folder (parallel test runs)."""
        extra = ['--out', str(out)] if out else []
        res = subprocess.run([PY, os.path.join(ROOT, 'tools', 'deploy.py'), self.device] + list(args) + extra,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=timeout, cwd=ROOT)
        assert res.returncode == 0, res.stdout
        return res.stdout

    def console(self):
        """What the board printed so far (needs `log`)."""
        with open(self.log, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __exit__(self, *exc):
        self.stop()
