"""MJPEG (multipart/x-mixed-replace) as ESP32-CAM firmwares send it: a sans-IO parser.

    parser = MjpegParser(boundary_of(res.headers['content-type']))
    for jpeg in parser.feed(data): ...          # complete JPEGs (bytes), in order

Tolerant of what board firmwares do: no boundary before the first part (esp32-cam-webserver),
parts without Content-Length (the part then ends at the next boundary), boundaries declared with
or without their leading '--', bare LF line ends, whitespace between parts. Strict about what
would make a viewer show garbage: a part that is not a JPEG, a header block or a part over its
limit, bytes that are neither part headers nor a boundary: MjpegError, the stream is unusable.
Every search is bytes.find over the buffer (no per-byte Python loop).
"""

MAX_HEAD = 4096


class MjpegError(ValueError):
    """The stream is not MJPEG (or a part is too big)."""


def boundary_of(content_type):
    """The boundary parameter of a multipart Content-Type, or None."""
    for param in (content_type or '').split(';')[1:]:
        name, _, value = param.strip().partition('=')
        if name.strip().lower() == 'boundary':
            return value.strip().strip('"') or None
    return None


class MjpegParser:
    """Feed body bytes, get whole JPEG frames (see the module docstring)."""

    def __init__(self, boundary=None, max_frame=4 * 1024 * 1024):
        self.max_frame = max_frame
        self.buf = bytearray()
        self.length = None      # Content-Length of the part being read, if it said one
        self.in_body = False
        self.scan = 0           # where the next boundary search starts (no re-scanning)
        self.frames = 0
        self.delims = ()
        if boundary:
            self._learn(boundary.encode() if isinstance(boundary, str) else boundary)

    def _learn(self, boundary):
        # RFC 2046: the delimiter is '--' + boundary; some firmwares declare it with the dashes.
        delims = [b'--' + boundary]
        if boundary.startswith(b'--'):
            delims.append(boundary)
        self.delims = tuple(delims)

    def feed(self, data):
        """Take more body bytes; return the frames they completed (a list of bytes)."""
        self.buf += data
        out = []
        while True:
            if self.in_body:
                frame = self._body()
                if frame is None:
                    break
                out.append(frame)
                self.frames += 1
            elif not self._head():
                break
        if len(self.buf) > self.max_frame + MAX_HEAD:
            raise MjpegError('a part over %d bytes' % self.max_frame)
        return out

    def _head(self):
        # Skip blank lines and boundary lines, then read one part's headers. False: need more.
        buf = self.buf
        while True:
            start = 0
            n = len(buf)
            while start < n and buf[start] in b'\r\n \t':
                start += 1
            if start:
                del buf[:start]
            end = buf.find(b'\n')
            if end < 0:
                if len(buf) > MAX_HEAD:
                    raise MjpegError('no part headers in the first %d bytes' % MAX_HEAD)
                return False
            line = bytes(buf[:end]).rstrip(b'\r')
            if line.startswith(b'--'):
                if not self.delims:
                    self._learn(line[2:].rstrip())
                elif not any(line.startswith(d) for d in self.delims):
                    raise MjpegError('unexpected boundary %r' % line[:60])
                del buf[:end + 1]
                continue
            break
        # headers (the first part may come without a boundary before it)
        stop = buf.find(b'\r\n\r\n')
        skip = 4
        lf = buf.find(b'\n\n')
        if lf >= 0 and (stop < 0 or lf < stop):
            stop, skip = lf, 2
        if stop < 0:
            if len(buf) > MAX_HEAD:
                raise MjpegError('part headers over %d bytes' % MAX_HEAD)
            self._check_header_start(buf)
            return False
        length = None
        kind = None
        for raw in bytes(buf[:stop]).split(b'\n'):
            name, colon, value = raw.strip().partition(b':')
            if not colon:
                raise MjpegError('not a part header: %r' % raw[:60])
            name = name.strip().lower()
            if name == b'content-length':
                value = value.strip()
                if not value.isdigit():
                    raise MjpegError('bad Content-Length %r' % value[:20])
                length = int(value)
                if length > self.max_frame:
                    raise MjpegError('a part of %d bytes (limit %d)' % (length, self.max_frame))
            elif name == b'content-type':
                kind = value.strip().lower()
        if kind is not None and not kind.startswith(b'image/jpeg'):
            raise MjpegError('a part of type %r' % kind[:40])
        del buf[:stop + skip]
        self.length = length
        self.in_body = True
        self.scan = 0
        return True

    def _check_header_start(self, buf):
        # Fail early on garbage: a header line starts with a token and a colon.
        end = buf.find(b'\n')
        first = bytes(buf[:end if end >= 0 else 80])
        if (end >= 0 or len(first) >= 80) and b':' not in first:
            raise MjpegError('not MJPEG: %r' % first[:40])

    def _body(self):
        buf = self.buf
        if self.length is not None:
            n = self.length
            if len(buf) < n:
                return None
            frame = bytes(buf[:n])
            del buf[:n]
        else:
            # no length: the part ends at the line break before the next boundary
            if not self.delims:
                raise MjpegError('a part without Content-Length and no boundary to end it')
            end = -1
            for d in self.delims:
                i = buf.find(b'\n' + d, self.scan)
                if i >= 0 and (end < 0 or i < end):
                    end = i
            if end < 0:
                self.scan = max(0, len(buf) - 1 - max(len(d) for d in self.delims))
                if len(buf) > self.max_frame:
                    raise MjpegError('a part over %d bytes' % self.max_frame)
                return None
            cut = end - 1 if end > 0 and buf[end - 1] == 13 else end  # \r\n or \n
            frame = bytes(buf[:cut])
            del buf[:end + 1]
        self.in_body = False
        self.length = None
        if frame[:2] != b'\xff\xd8':
            raise MjpegError('a part that is not a JPEG (starts %r)' % frame[:8])
        return frame
