"""Generate the simulated camera's frames: a loop of JPEG test cards per frame size (Pillow).

    .venv/bin/python tools/make_frames.py .deps/simcam [--sizes QQVGA,QVGA,...] [--frames 30]

Writes <out>/<FRAMESIZE>/frames.bin (the JPEGs back to back) and frames.idx ("W H N" then one
length per line), which lib/camdot/camera/sim.py reads on either runtime. The test card: colour
bars, a ball moving around, a sweeping clock hand and the frame number, so a viewer can see
motion and tell frames apart. `make setup` makes the default sizes (up to SVGA); bigger sizes
only on request (--sizes XGA,...), since they cost disk and nobody streams them off-board.
"""
import argparse
import io
import math
import os
import sys

from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'lib'))
from camdot.camera import FRAMESIZES  # noqa: E402  (the one list of sizes)

DEFAULT_SIZES = ('QQVGA', 'HQVGA', 'QVGA', 'CIF', 'VGA', 'SVGA')
BARS = ((235, 235, 235), (235, 235, 16), (16, 235, 235), (16, 235, 16),
        (235, 16, 235), (235, 16, 16), (16, 16, 235), (16, 16, 16))


def font(px):
    try:
        return ImageFont.load_default(size=px)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def card(w, h, i, n, name):
    img = Image.new('RGB', (w, h))
    d = ImageDraw.Draw(img)
    bar_h = h * 2 // 3
    for k, colour in enumerate(BARS):
        d.rectangle((k * w // 8, 0, (k + 1) * w // 8 - 1, bar_h), fill=colour)
    d.rectangle((0, bar_h, w, h), fill=(40, 40, 48))
    # A ball on a Lissajous path: every frame of the loop differs, and the loop closes smoothly.
    a = 2 * math.pi * i / n
    r = max(4, h // 10)
    cx = w / 2 + (w / 2 - r - 2) * math.sin(a)
    cy = bar_h / 2 + (bar_h / 2 - r - 2) * math.sin(2 * a)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 128, 0), outline=(0, 0, 0), width=2)
    # A clock hand in the lower band.
    cr = (h - bar_h) // 2 - 3
    ox, oy = w - cr - 6, bar_h + (h - bar_h) // 2
    d.ellipse((ox - cr, oy - cr, ox + cr, oy + cr), outline=(200, 200, 200), width=1)
    d.line((ox, oy, ox + cr * math.sin(a), oy - cr * math.cos(a)), fill=(255, 255, 255), width=2)
    f = font(max(8, (h - bar_h) // 4))
    d.text((6, bar_h + 4), 'sim %s %dx%d' % (name, w, h), fill=(255, 255, 255), font=f)
    d.text((6, bar_h + 4 + (h - bar_h) // 2), 'frame %02d/%02d' % (i + 1, n), fill=(255, 220, 0),
           font=f)
    return img


def make(out, name, count, quality):
    w, h = FRAMESIZES[name]
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    lengths = []
    with open(os.path.join(folder, 'frames.bin'), 'wb') as f:
        for i in range(count):
            buf = io.BytesIO()
            card(w, h, i, count, name).save(buf, 'JPEG', quality=quality)
            data = buf.getvalue()
            f.write(data)
            lengths.append(len(data))
    with open(os.path.join(folder, 'frames.idx'), 'w') as f:
        f.write('%d %d %d\n' % (w, h, count))
        f.write(''.join('%d\n' % n for n in lengths))
    return sum(lengths)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('out', nargs='?', default=os.path.join(ROOT, '.deps', 'simcam'))
    p.add_argument('--sizes', default=','.join(DEFAULT_SIZES))
    p.add_argument('--frames', type=int, default=30)
    p.add_argument('--quality', type=int, default=80, help='Pillow JPEG quality (1-95)')
    args = p.parse_args(argv)
    for name in args.sizes.split(','):
        name = name.strip().upper()
        if name not in FRAMESIZES:
            p.error('unknown frame size %r (known: %s)' % (name, ', '.join(FRAMESIZES)))
        total = make(args.out, name, args.frames, args.quality)
        print('simcam %-6s %4d frames, %7d bytes' % (name, args.frames, total))


if __name__ == '__main__':
    main()
