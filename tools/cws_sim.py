"""A simulated Espressif CameraWebServer board, quirks included, for the relay's tests and bench.

    .venv/bin/python tools/cws_sim.py --port 8001 --stream-port 8002 [--fps 20] [--framesize QVGA]
        [--mode quirky|espressif|garbage|stall]

Port --port: GET /status (every setting, integers), /control?var=NAME&val=N (200, or 404/500
as the firmware answers), /capture (one JPEG), and the simulator's own /controls (every /control
it got, for tests that count writes). Port --stream-port: GET /stream, MJPEG in HTTP/1.1
chunked encoding as Espressif's httpd sends it, the test card frames of the simulated camera
(.deps/simcam, `make setup`) at --fps. Modes: quirky (the default) sends no boundary before the
first part and no Content-Length (what esp32-cam-webserver does and go2rtc's users trip over);
espressif sends both, as CameraWebServer does; garbage answers /stream with HTML; stall sends
five frames, then nothing while keeping the connection open.
"""
import argparse
import asyncio
import json
import os
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOUNDARY = b'123456789000000000000987654321'
SETTINGS = {'framesize': 5, 'quality': 12, 'brightness': 0, 'contrast': 0, 'saturation': 0,
            'sharpness': 0, 'special_effect': 0, 'wb_mode': 0, 'awb': 1, 'awb_gain': 1, 'aec': 1,
            'aec2': 0, 'ae_level': 0, 'aec_value': 204, 'agc': 1, 'agc_gain': 0,
            'gainceiling': 0, 'bpc': 0, 'wpc': 1, 'raw_gma': 1, 'lenc': 1, 'hmirror': 0,
            'vflip': 0, 'dcw': 1, 'colorbar': 0, 'led_intensity': 0, 'xclk': 20, 'pixformat': 4}
LIMITS = {'framesize': (0, 13), 'quality': (4, 63), 'led_intensity': (0, 255),
          'aec_value': (0, 1200), 'agc_gain': (0, 30), 'gainceiling': (0, 6),
          'special_effect': (0, 6), 'wb_mode': (0, 4)}


def load_frames(framesize):
    folder = os.path.join(ROOT, '.deps', 'simcam', framesize)
    with open(os.path.join(folder, 'frames.idx')) as f:
        lines = f.read().split('\n')
    sizes = [int(x) for x in lines[1:] if x.strip()]
    with open(os.path.join(folder, 'frames.bin'), 'rb') as f:
        data = f.read()
    frames, off = [], 0
    for n in sizes:
        frames.append(data[off:off + n])
        off += n
    return frames


class Board:
    def __init__(self, args):
        self.args = args
        self.frames = load_frames(args.framesize)
        self.settings = dict(SETTINGS)
        self.controls = []   # (var, val) as received: the tests count writes

    async def control_port(self, reader, writer):
        try:
            line = (await reader.readline()).decode('latin-1')
            while (await reader.readline()) not in (b'\r\n', b'\n', b''):
                pass
            parts = line.split()
            path = parts[1] if len(parts) > 1 else '/'
            route, _, query = path.partition('?')
            if route == '/status':
                await self.reply(writer, 200, json.dumps(self.settings).encode(),
                                 'application/json')
            elif route == '/control':
                args = dict(p.partition('=')[::2] for p in query.split('&') if p)
                await self.control(writer, args.get('var', ''), args.get('val', ''))
            elif route == '/controls':  # the simulator's own: every /control it got
                await self.reply(writer, 200, json.dumps(self.controls).encode(),
                                 'application/json')
            elif route == '/capture':
                await self.reply(writer, 200, self.frames[0], 'image/jpeg')
            elif route == '/':
                await self.reply(writer, 200, b'<html><body>CameraWebServer (simulated)'
                                 b'</body></html>', 'text/html')
            else:
                await self.reply(writer, 404, b'Not Found', 'text/plain')
        except (OSError, ConnectionError):
            pass
        finally:
            writer.close()

    async def control(self, writer, var, val):
        self.controls.append((var, val))
        if var not in self.settings or var in ('xclk', 'pixformat'):
            return await self.reply(writer, 404, b'', 'text/plain')
        try:
            n = int(val)
        except ValueError:
            return await self.reply(writer, 500, b'', 'text/plain')
        lo, hi = LIMITS.get(var, (-2, 2) if var in ('brightness', 'contrast', 'saturation',
                                                     'sharpness', 'ae_level') else (0, 1))
        if not lo <= n <= hi:
            return await self.reply(writer, 500, b'', 'text/plain')
        self.settings[var] = n
        await self.reply(writer, 200, b'', 'text/plain')

    async def reply(self, writer, status, body, ctype):
        writer.write(b'HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n'
                     b'Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n' % (
                         status, b'OK' if status == 200 else b'Error', ctype.encode(), len(body)))
        writer.write(body)
        await writer.drain()

    async def stream_port(self, reader, writer):
        mode = self.args.mode
        try:
            line = await reader.readline()
            while (await reader.readline()) not in (b'\r\n', b'\n', b''):
                pass
            if b' /stream' not in line:
                return await self.reply(writer, 404, b'Not Found', 'text/plain')
            if mode == 'garbage':
                writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;'
                             b'boundary=' + BOUNDARY + b'\r\n\r\n')
                for _ in range(50):
                    writer.write(b'<html><body>Internal error, please reboot</body></html>\n')
                    await writer.drain()
                    await asyncio.sleep(0.05)
                return
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary='
                         + BOUNDARY + b'\r\nTransfer-Encoding: chunked\r\n'
                         b'Access-Control-Allow-Origin: *\r\nX-Framerate: 60\r\n\r\n')
            period = 1.0 / self.args.fps
            due = time.monotonic()
            i = 0
            while True:
                if mode == 'stall' and i >= 5:
                    await asyncio.sleep(3600)
                jpeg = self.frames[i % len(self.frames)]
                stamp = b'X-Timestamp: %d.%06d\r\n' % divmod(int(time.time() * 1e6), 1000000)
                if mode == 'espressif':
                    head = (b'\r\n--' + BOUNDARY + b'\r\nContent-Type: image/jpeg\r\n'
                            b'Content-Length: %d\r\n' % len(jpeg)) + stamp + b'\r\n'
                    tail = b''
                else:
                    head = (b'\r\n--' + BOUNDARY + b'\r\n' if i else b'') + \
                        b'Content-Type: image/jpeg\r\n' + stamp + b'\r\n'
                    tail = b''
                for piece in (head, jpeg, tail):
                    if piece:  # one HTTP chunk per httpd_resp_send_chunk(), as the firmware
                        writer.write(b'%x\r\n' % len(piece) + piece + b'\r\n')
                await writer.drain()
                i += 1
                due += period
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    due = time.monotonic()
        except (OSError, ConnectionError):
            pass
        finally:
            writer.close()


async def serve(args):
    board = Board(args)
    a = await asyncio.start_server(board.control_port, '127.0.0.1', args.port)
    b = await asyncio.start_server(board.stream_port, '127.0.0.1', args.stream_port)
    print('cws_sim: control on %d, stream on %d (%s, %s at %g fps)' % (
        args.port, args.stream_port, args.mode, args.framesize, args.fps), flush=True)
    async with a, b:
        await asyncio.gather(a.serve_forever(), b.serve_forever())


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--stream-port', type=int, required=True)
    p.add_argument('--fps', type=float, default=20)
    p.add_argument('--framesize', default='QVGA')
    p.add_argument('--mode', choices=('quirky', 'espressif', 'garbage', 'stall'),
                   default='quirky')
    try:
        asyncio.run(serve(p.parse_args()))
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
