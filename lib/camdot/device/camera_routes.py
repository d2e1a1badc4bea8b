"""The camera's routes: /ws/stream, /stream (MJPEG), /capture; the streams are the viewers.

    from camdot.device import camera_routes
    camera_routes.install(app, stream)       # stream: a camdot.device.stream.Stream

/ws/stream and /stream count as viewers (camdot.limits.count_as_viewers, capped by config
max_clients): a viewer over the cap is answered 503 with Retry-After before its stream (or its
WebSocket upgrade) starts, and only after the Host/Origin and login checks let it in. /capture is
one frame, an ordinary request. While the camera does not work, /stream and /capture answer 503
with the reason and Retry-After: the camera's next try; /ws/stream viewers get it as a status.
How each sends its frames: camdot.device.senders.
"""
from microdot import Response

from camdot import limits
from camdot.device import senders
from camdot.device.stream import BOUNDARY, NO_FRAMES
from camdot.websocket import with_websocket


def install(app, stream):
    """Add /ws/stream, /stream and /capture to `app`, serving `stream`."""

    def unavailable():
        # 503 with the reason while the camera does not work; Retry-After: its next try.
        stream.ensure_running()   # (CPython without a loop at install: the retries start here)
        stats = stream.stats
        retry_s = stream.retry_after_s
        return {'error': stats['error'] or NO_FRAMES, 'status': stats['state'],
                'retry_after': retry_s}, 503, {'Retry-After': str(retry_s),
                                               'Access-Control-Allow-Origin': '*'}

    @app.get('/ws/stream')
    @with_websocket
    async def ws_stream(request, ws):
        await senders.serve_ws(stream, ws)

    @app.get('/stream')
    async def mjpeg(request):
        if stream.failing:
            return unavailable()
        return Response(body=senders.MjpegBody(stream), headers={
            'Content-Type': 'multipart/x-mixed-replace;boundary=' + BOUNDARY,
            'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store',
            'X-Framerate': str(stream.stats['target_fps'])})

    @app.get('/capture')
    async def capture(request):
        if stream.failing:
            return unavailable()
        try:
            body = await senders.snapshot(stream)
        except OSError as exc:
            if stream.failing:
                return unavailable()
            return {'error': str(exc), 'status': stream.stats['state']}, 503
        if request.method == 'HEAD':  # microdot won't read the body: let go of the frame now
            await body.aclose()
        return Response(body=body, headers={
            'Content-Type': 'image/jpeg', 'Content-Length': str(body.n),
            'Cache-Control': 'no-store',
            'Content-Disposition': 'inline; filename="camdot-%d.jpg"' % body.seq,
            'X-Timestamp': '%d.%06d' % (body.t // 1000, body.t % 1000 * 1000),
            'Access-Control-Allow-Origin': '*'})

    limits.count_as_viewers(app, ws_stream, mjpeg)
