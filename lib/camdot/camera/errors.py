"""What a camera failure means to a user: the hint for what the driver said.

    from camdot.camera.errors import describe_error
    describe_error(exc)        # 'camera not detected: check the ribbon cable ... (driver: ...)'

Used by camdot.camera.base (a setting rolled back) and camdot.camera.unavailable (no camera).
"""

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
