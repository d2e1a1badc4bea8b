"""CameraWebServer compatibility: /status and /control as Espressif's example sketch answers them,
for the page and the scripts written for it (Home Assistant, motionEye, the relay).

    from camdot.device import cws
    cws.install(app, camera_thing)     # a camdot.device.camera_thing.CameraThing

GET /status: every setting as CameraWebServer reports it: flat JSON of integers (booleans 0/1,
framesize as its number in FRAMESIZE_TABLE; -1 for a size that table lacks).
GET /control?var=NAME&val=INT: sets one setting through the Thing (checked, applied, published,
saved); answers 200 with an empty body on success, 400 for a missing or non-integer `val` or a
value out of range, 404 for an unknown `var`, 403 for a read-only one (problem+json).
"""
import json

from camdot.thing import ThingError, problem

#: CameraWebServer's frame size numbers: the name at each index (the framesize_t that its page and
#: the scripts written for it use; newer esp32-camera releases insert 128X128 and 320X320, so
#: camdot.camera.FRAMESIZES counts differently; /status and /control keep the familiar numbers).
FRAMESIZE_TABLE = ('96X96', 'QQVGA', 'QCIF', 'HQVGA', '240X240', 'QVGA', 'CIF', 'HVGA', 'VGA',
                   'SVGA', 'XGA', 'HD', 'SXGA', 'UXGA', 'FHD', 'P_HD', 'P_3MP', 'QXGA', 'QHD',
                   'WQXGA', 'P_FHD', 'QSXGA')
XCLK_MHZ = 20           # what /status reports: CameraWebServer's clock
PIXFORMAT_JPEG = 4      # esp32-camera's pixformat_t for JPEG


def status(thing, names):
    """/status: the settings `names` of `thing` (a camdot.thing.Thing) in CameraWebServer's form."""
    out = {'xclk': XCLK_MHZ, 'pixformat': PIXFORMAT_JPEG}
    values = thing.values
    for name in names:
        v = values[name]
        if name == 'framesize':
            v = FRAMESIZE_TABLE.index(v) if v in FRAMESIZE_TABLE else -1
        elif isinstance(v, bool):
            v = int(v)
        out[name] = v
    return out


def control_value(thing, var, val):
    """The value /control?var=&val= means for `thing`'s property `var` (ThingError if none)."""
    if not var:
        raise ThingError(400, 'var is missing')
    if val is None or val == '':
        raise ThingError(400, 'val is missing')
    try:
        n = int(val)
    except ValueError:
        raise ThingError(400, 'val must be an integer, not %r' % val)
    schema = thing.schema(var)   # 404 for an unknown var
    if schema.get('readOnly'):
        raise ThingError(403, '%s is read-only' % var)
    if var == 'framesize':
        if not 0 <= n < len(FRAMESIZE_TABLE):
            raise ThingError(400, 'framesize %d out of range 0..%d' % (n, len(FRAMESIZE_TABLE) - 1))
        return FRAMESIZE_TABLE[n]
    if schema.get('type') == 'boolean':
        if n not in (0, 1):
            raise ThingError(400, '%s must be 0 or 1' % var)
        return n == 1
    return n


def install(app, ct):
    """Add /status and /control for the camera Thing `ct` (a CameraThing)."""
    thing = ct.thing

    @app.get('/status')
    async def get_status(request):
        return json.dumps(status(thing, ct.persisted)), 200, {
            'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*'}

    @app.get('/control')
    async def control(request):
        var = request.args.get('var')
        try:
            value = thing.write(var, control_value(thing, var, request.args.get('val')))
            refused = await ct.settled(var, value)
            if refused:
                raise ThingError(400, refused)
        except ThingError as exc:
            return json.dumps(problem(exc.status, exc.detail)), exc.status, {
                'Content-Type': 'application/problem+json', 'Access-Control-Allow-Origin': '*'}
        return '', 200, {'Access-Control-Allow-Origin': '*'}   # as CameraWebServer's
