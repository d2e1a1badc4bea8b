# Type stub for lemariva's micropython-camera-driver `camera` module (module-level API): the part
# camdot calls (lib/camdot/camera/lemariva.py), mirroring the driver's C code (src/modcamera.c;
# tests/portable/fake_lemariva.py behaves the same). Used by `make typecheck`.
from typing import Final, Literal

JPEG: Final[int]
YUV422: Final[int]
GRAYSCALE: Final[int]
RGB565: Final[int]

FRAME_96X96: Final[int]
FRAME_QQVGA: Final[int]
FRAME_QCIF: Final[int]
FRAME_HQVGA: Final[int]
FRAME_240X240: Final[int]
FRAME_QVGA: Final[int]
FRAME_CIF: Final[int]
FRAME_HVGA: Final[int]
FRAME_VGA: Final[int]
FRAME_SVGA: Final[int]
FRAME_XGA: Final[int]
FRAME_HD: Final[int]
FRAME_SXGA: Final[int]
FRAME_UXGA: Final[int]
FRAME_FHD: Final[int]
FRAME_P_HD: Final[int]
FRAME_P_3MP: Final[int]
FRAME_QXGA: Final[int]
FRAME_QHD: Final[int]
FRAME_WQXGA: Final[int]
FRAME_P_FHD: Final[int]
FRAME_QSXGA: Final[int]

WB_NONE: Final[int]
WB_SUNNY: Final[int]
WB_CLOUDY: Final[int]
WB_OFFICE: Final[int]
WB_HOME: Final[int]
EFFECT_NONE: Final[int]
EFFECT_NEG: Final[int]
EFFECT_BW: Final[int]
EFFECT_RED: Final[int]
EFFECT_GREEN: Final[int]
EFFECT_BLUE: Final[int]
EFFECT_RETRO: Final[int]
XCLK_10MHz: Final[int]
XCLK_20MHz: Final[int]
DRAM: Final[int]
PSRAM: Final[int]

# True, or OSError("Camera Init Failed") (also when already running: esp32-camera then stops
# the running camera). ValueError for an unknown format, frame size or xclk_freq (only
# XCLK_10MHz, the default, and XCLK_20MHz). Quality 10-63, lower is better: not checked.
def init(id: int, *, format: int = ..., framesize: int = ..., quality: int = 12,
         d0: int = ..., d1: int = ..., d2: int = ..., d3: int = ..., d4: int = ..., d5: int = ...,
         d6: int = ..., d7: int = ..., vsync: int = ..., href: int = ..., pclk: int = ...,
         pwdn: int = ..., reset: int = ..., xclk: int = ..., siod: int = ..., sioc: int = ...,
         xclk_freq: int = ..., fb_size: int = 1, fb_location: int = ...) -> bool: ...
# False when the camera was not running.
def deinit() -> bool: ...
# A new bytes object (a copy of the frame), or False when no frame came (or not running; or
# the frame size outgrew the buffers init() made); MemoryError when the copy does not fit.
def capture() -> bytes | Literal[False]: ...
# Setters only; each returns None, or False when the camera is not running (before any check:
# framesize() raises ValueError for an unknown size only while running). The sensor's own
# refusals are not reported.
def flip(direction: int) -> Literal[False] | None: ...
def mirror(direction: int) -> Literal[False] | None: ...
def framesize(size: int) -> Literal[False] | None: ...
def quality(value: int) -> Literal[False] | None: ...
def contrast(value: int) -> Literal[False] | None: ...
def saturation(value: int) -> Literal[False] | None: ...
def brightness(value: int) -> Literal[False] | None: ...
def speffect(value: int) -> Literal[False] | None: ...
def whitebalance(value: int) -> Literal[False] | None: ...
