"""The README's example: a route, a WebSocket, the hub and a Web Thing property in one small app.

    make example        # the unix port: http://127.0.0.1:8080/setpoint, ws://127.0.0.1:8080/ws

tests/portable/test_example_app.py runs it on both runtimes and checks that the README shows this
file as it is, from `import json` to the end.
"""
import json

from microdot import Microdot

from camdot.hub import Hub
from camdot.thing import Thing, ThingError
from camdot.websocket import with_websocket

app = Microdot()
hub = Hub()
room = Thing('room', 'urn:example:room', 'Room', hub=hub)    # its changes go to the hub
room.property('setpoint', {'type': 'number', 'minimum': 5, 'maximum': 30}, 20.0)


@app.get('/setpoint')
async def setpoint(request):
    return {'setpoint': room.read('setpoint')}


@app.route('/ws')
@with_websocket
async def live(request, ws):
    async def tell(topic, value):              # every change, whoever made it
        await ws.send(json.dumps({topic.rsplit('/', 1)[1]: value}))
    with hub.subscribe(room.topics, callback=tell):
        async for text in ws:                  # a new setpoint, e.g. 21.5
            try:
                room.write('setpoint', json.loads(text))   # checked, then published
            except (ThingError, ValueError) as exc:
                await ws.send(json.dumps({'error': str(exc)}))


if __name__ == '__main__':
    app.run(port=8080)
