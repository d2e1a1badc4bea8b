"""When there is no working camera: what it means to a user, and the camera that is not there.

    from camdot.camera.unavailable import NoCamera, describe_error
    describe_error(exc)        # 'camera not detected: check the ribbon cable ... (driver: ...)'
    cam = NoCamera(config, 'this firmware has no camera driver: ...')   # init() raises why

Imported only when something went wrong, so a board whose camera works does not carry it.
"""
from camdot.camera.base import RANGES, Camera

NO_DRIVER = ("this firmware has no camera driver: flash one with a camera driver (camdot's "
             "firmware, or cnadler86's micropython-camera-API)")
UNKNOWN_DRIVER = ("this firmware's camera driver is of a kind camdot does not know (it has %s): "
                  "camdot supports cnadler86's micropython-camera-API and lemariva's "
                  "micropython-camera-driver")

# What a user can do about a camera that does not start, by what the driver said.
NOT_DETECTED = 'camera not detected: check the ribbon cable (and that the camera is an OV2640)'
NO_PICTURE = 'the camera answers but sends no picture: reseat the ribbon cable'
NO_MEMORY = 'not enough memory for the frame buffers: choose a smaller frame size'
INIT_FAILED = ('the camera did not start: check the ribbon cable; if it is seated, choose a '
               'smaller frame size')


class Unavailable(OSError):
    """There is no camera to start (NoCamera): the message already says why, for a user."""


def describe_error(exc):
    """What a camera failure means to a user, followed by what the driver said."""
    if isinstance(exc, Unavailable):
        return str(exc)
    said = '%s: %s' % (type(exc).__name__, exc)
    args = getattr(exc, 'args', ())
    text = ' '.join(str(a) for a in args)
    if isinstance(exc, MemoryError) or 'NO_MEM' in text or 'ESP_FAIL' in text or (
            args and args[0] == 12):
        hint = NO_MEMORY
    elif 'NOT_SUPPORTED' in text or 'NOT_FOUND' in text or 'NOT_DETECTED' in text or (
            args and args[0] in (95, -261, -0x20001)):
        hint = NOT_DETECTED
    elif 'initial frame' in text:
        hint = NO_PICTURE
    elif 'Init Failed' in text:
        hint = INIT_FAILED
    else:
        return said
    return '%s (driver: %s)' % (hint, said)


class NoCamera(Camera):
    """The camera that could not be opened (no driver, an unknown one, a bad backend name): the
    app runs without it; init() always raises Unavailable(`reason`) (an OSError), which the page
    shows."""
    name = 'none'
    SUPPORTED = tuple(RANGES) + ('framesize',)

    def __init__(self, config=None, reason='no camera'):
        Camera.__init__(self, config)
        self.reason = reason

    def _init(self):
        raise Unavailable(self.reason)

    def _fallback_sizes(self, failed):
        return ()   # no frame size makes a missing camera work

    def _set(self, name, value):
        return True
