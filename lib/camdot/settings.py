"""Saved settings: one small JSON object in a file, replaced atomically, written sparingly.

    store = Settings(settings_path(config))    # '/settings.json' on the board
    saved = store.load()          # {} when missing; {} and a warning when corrupt: never fatal
    store.set('quality', 10)      # remembered; written after `delay_ms` of quiet (one write
                                  # for a burst of slider moves), only if the content changed
    store.flush()                 # write now (if anything changed)
    store.on_error = report       # report(path, exc) when a write fails (full or failing flash)

Writes go through camdot.atomic: a power cut or a full flash leaves the old file or the new one,
never half of one. A failed write is reported (console, on_error) and never raised: the values
stay in RAM and the next change tries again.
"""
import asyncio
import json

from camdot import atomic
from camdot.compat import ON_BOARD, getenv


def settings_path(config):
    """Where settings are saved: $CAMDOT_SETTINGS off the board (test servers point it at a
    scratch file), else config['settings_file'], at the filesystem root on the board."""
    path = config.get('settings_file') or 'settings.json'
    if ON_BOARD:
        return path if path.startswith('/') else '/' + path
    return getenv('CAMDOT_SETTINGS', path)


def _warn(msg):
    print('camdot settings:', msg)


class Settings:
    #: Quiet time before a change is written (flash wears out; sliders send bursts).
    delay_ms = 2000

    def __init__(self, path, delay_ms=None):
        self.path = path
        if delay_ms is not None:
            self.delay_ms = delay_ms
        self.values = {}
        self.writes = 0          # files written so far (tests and stats)
        self._saved = None       # the text last read or written
        self._task = None
        self.on_error = None     # on_error(path, exc) after a write failed

    def load(self):
        """Read the file into `values` and return it; {} on a missing, corrupt or partial file."""
        self.values = {}
        try:
            text = atomic.read(self.path)
            if text is None:
                return self.values
            data = json.loads(text)
        except ValueError:
            _warn('%s is corrupt (not JSON); using defaults' % self.path)
            return self.values
        if not isinstance(data, dict):
            _warn('%s must hold a JSON object; using defaults' % self.path)
            return self.values
        self.values = data
        self._saved = text
        return data

    def set(self, name, value):
        """Remember a value and schedule a write."""
        if name in self.values and self.values[name] == value and \
                isinstance(self.values[name], bool) == isinstance(value, bool):
            return
        self.values[name] = value
        self.schedule()

    def replace(self, values):
        """Replace every value (e.g. reset to defaults) and schedule a write."""
        self.values = dict(values)
        self.schedule()

    def schedule(self):
        """Write after `delay_ms` of quiet when an event loop runs, else at once."""
        if self._task is not None:
            return  # a write is already pending; it will see the newest values
        try:
            asyncio.current_task()
        except RuntimeError:  # no running event loop: nobody to wait for
            self.flush()
            return
        self._task = asyncio.create_task(self._later())

    async def _later(self):
        try:
            await asyncio.sleep(self.delay_ms / 1000)
        finally:
            self._task = None
        self.flush()

    def flush(self):
        """Write the values now if they differ from the file; return True if it wrote."""
        text = json.dumps(self.values)
        if text == self._saved:
            return False
        try:
            atomic.write(self.path, text)
        except OSError as exc:
            _warn('could not save %s (the old file is kept): %s' % (self.path, exc))
            if self.on_error is not None:
                self.on_error(self.path, exc)
            return False
        self._saved = text
        self.writes += 1
        return True
