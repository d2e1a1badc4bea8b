"""create_app's camera Thing part for tests: the Thing (settings restored) and all its routes."""
from camdot.device import camera_thing, cws, thing_routes


def install_thing(app, hub, cam, stream, config, store=None):
    ct = camera_thing.build(hub, cam, stream, config, store)
    thing_routes.install(app, ct, config)
    cws.install(app, ct)
    return ct
