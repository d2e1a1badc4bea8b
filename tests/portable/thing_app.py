"""create_app's camera Thing part for tests: the Thing (settings restored) and all its routes."""
from camdot.device import camera_thing, cws, thing_routes


def install_thing(app, hub, cam, stream, config, store=None):
    ct = camera_thing.build(hub, cam, stream, config, store)
    thing_routes.install(app, ct, config)
    cws.install(app, ct)
    return ct


class FakeFrame:
    users = 0


class FakeStream:
    """camdot.device.stream.Stream's surface the camera Thing uses: its `stats`, its viewers and
    frame (is it idle?), set_fps() (its pace)."""

    def __init__(self, **stats):
        self.stats = stats
        self.viewers = []
        self.frame = FakeFrame()
        self.paced = []

    def set_fps(self, fps):
        self.paced.append(fps)
        self.stats['target_fps'] = fps
        return fps
