"""When there is no working camera: the camera that is not there, and why.

    from camdot.camera.unavailable import NoCamera, describe_error
    describe_error(exc)        # 'camera not detected: check the ribbon cable ... (driver: ...)'
    cam = NoCamera(config, 'this firmware has no camera driver: ...')   # init() raises why

Imported only when something went wrong, so a board whose camera works does not carry it.
(describe_error comes from camdot.camera.errors, which camdot.camera.base uses too.)
"""
from camdot.camera.base import RANGES, Camera
from camdot.camera.errors import Unavailable, describe_error  # noqa: F401

NO_DRIVER = ("this firmware has no camera driver: flash one with a camera driver (camdot's "
             "firmware, or cnadler86's micropython-camera-API)")
UNKNOWN_DRIVER = ("this firmware's camera driver is of a kind camdot does not know (it has %s): "
                  "camdot supports cnadler86's micropython-camera-API and lemariva's "
                  "micropython-camera-driver")


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
