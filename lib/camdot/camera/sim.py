"""The simulated camera: real JPEG frames of a moving test card, read from files made at setup.

    cam = SimCamera({'framesize': 'QVGA'}); cam.init(); buf = cam.capture()

`tools/make_frames.py` (Pillow, `make setup`) writes a loop of frames per frame size into
<frames_dir>/<FRAMESIZE>/frames.bin (the JPEGs back to back) and frames.idx (text: "W H N", then
one length per line). frames_dir: config['frames_dir'], else $CAMDOT_SIMCAM, else .deps/simcam
(relative to the working directory, as in `make run` and the tests).

Like cnadler86's driver, capture() returns a memoryview into one reusable buffer (no allocation
of frame data per frame), valid until the next capture(). Every setting is accepted and kept;
only the frame size changes the picture (and only to the sizes generated at setup).
"""
import gc

from camdot.camera.base import Camera, RANGES
from camdot.compat import getenv

DEFAULT_DIR = '.deps/simcam'


class SimCamera(Camera):
    name = 'sim'
    SUPPORTED = tuple(n for n in RANGES if n != 'led_intensity') + ('framesize',)

    def __init__(self, config=None):
        Camera.__init__(self, config)
        self.root = self.config.get('frames_dir') or getenv('CAMDOT_SIMCAM', DEFAULT_DIR)
        self._file = None
        self._lengths = list(range(0))
        self._buf = None
        self._mv = None
        self._i = 0
        self.frames = 0  # frames captured since init (the test card shows its own loop counter)

    def _dir(self, framesize):
        return '%s/%s' % (self.root, framesize)

    def _read_index(self, framesize):
        try:
            with open(self._dir(framesize) + '/frames.idx') as f:
                head = f.readline().split()
                lengths = [int(line) for line in f if line.strip()]
        except (OSError, ValueError):
            return None
        if len(head) != 3 or int(head[2]) != len(lengths) or not lengths:
            return None
        return lengths

    def _can_size(self, name):
        return self._read_index(name) is not None

    def _open(self, framesize):
        lengths = self._read_index(framesize)
        if lengths is None:
            raise OSError('simulated camera: no frames for %s in %s (run `make setup`)' % (
                framesize, self.root))
        f = open(self._dir(framesize) + '/frames.bin', 'rb')
        self._close()
        self._file = f
        self._lengths = lengths
        self._i = 0
        need = max(lengths)
        if self._buf is None or len(self._buf) < need:
            # One buffer for all frames of this size; a bigger size gets a new one (a viewer
            # still sending from the old one keeps it alive until it is done).
            self._buf = None
            self._mv = None
            gc.collect()  # one big block: give it the best chance in a fragmented heap
            self._buf = bytearray(need)
            self._mv = memoryview(self._buf)

    def _close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def _init(self):
        self._open(self.settings['framesize'])
        self.frames = 0

    def _deinit(self):
        self._close()

    def _capture(self):
        f = self._file
        whole = self._mv
        if f is None or whole is None:
            raise OSError('camera not initialised')
        if self._i >= len(self._lengths):
            self._i = 0
            f.seek(0)
        n = self._lengths[self._i]
        self._i += 1
        mv = whole[:n]
        if f.readinto(mv) != n:
            raise OSError('simulated camera: short read')
        self.frames += 1
        return mv

    def _set(self, name, value):
        if name == 'framesize':
            self._open(value)
        return True
