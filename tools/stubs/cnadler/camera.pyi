# Type stub for cnadler86's micropython-camera-API `camera` module: the part camdot calls
# (lib/camdot/camera/cnadler.py), mirroring the driver's C code (src/modcamera_api.c,
# src/modcamera.c; tests/portable/fake_cnadler.py behaves the same). Used by `make typecheck`.
from typing import Final

class GrabMode:
    WHEN_EMPTY: Final[int]
    LATEST: Final[int]

class PixelFormat:
    RGB565: Final[int]
    YUV422: Final[int]
    YUV420: Final[int]
    GRAYSCALE: Final[int]
    JPEG: Final[int]
    RGB888: Final[int]
    RAW: Final[int]
    RGB444: Final[int]
    RGB555: Final[int]

class GainCeiling:
    X2: Final[int]
    X4: Final[int]
    X8: Final[int]
    X16: Final[int]
    X32: Final[int]
    X64: Final[int]
    X128: Final[int]

class FrameSize:
    R96X96: Final[int]
    QQVGA: Final[int]
    R128x128: Final[int]
    QCIF: Final[int]
    HQVGA: Final[int]
    R240X240: Final[int]
    QVGA: Final[int]
    R320X320: Final[int]
    CIF: Final[int]
    HVGA: Final[int]
    VGA: Final[int]
    SVGA: Final[int]
    XGA: Final[int]
    HD: Final[int]
    SXGA: Final[int]
    UXGA: Final[int]
    FHD: Final[int]
    P_HD: Final[int]
    P_3MP: Final[int]
    QXGA: Final[int]
    QHD: Final[int]
    WQXGA: Final[int]
    P_FHD: Final[int]
    QSXGA: Final[int]

# Present when the firmware was built with MP_CAMERA_DRIVER_VERSION.
def Version() -> str: ...

# A singleton: every call returns the same object, stopped and set up again. The constructor
# starts the sensor and takes a first frame even with init=False (then stops again); it raises
# OSError when either fails (esp32-camera's error, or "Failed to capture initial frame..."),
# ValueError for jpeg_quality outside 0-100, xclk_freq above 40 MHz (below 1000: MHz), an
# unknown grab_mode or pixel_format. Until init() works, every property raises AttributeError
# and capture(), frame_available(), reconfigure() raise OSError(ENOENT).

class Camera:
    def __init__(self, *, data_pins: list[int] | None = None, pclk_pin: int | None = None,
                 vsync_pin: int | None = None, href_pin: int | None = None,
                 sda_pin: int | None = None, scl_pin: int | None = None,
                 xclk_pin: int | None = None, xclk_freq: int = 20000000,
                 powerdown_pin: int = -1, reset_pin: int = -1,
                 pixel_format: int = ..., frame_size: int = ..., jpeg_quality: int = 85,
                 i2c: object | None = None,
                 fb_count: int = 1, grab_mode: int = ..., init: bool = True) -> None: ...
    def init(self) -> None: ...
    # OSError when esp32-camera fails to stop.
    def deinit(self) -> None: ...
    # Stops the camera and starts it again (new frame buffers; the sensor forgets every
    # setting but the frame size and quality). OSError when the start fails: it stays stopped.
    def reconfigure(self, *, frame_size: int | None = None, pixel_format: int | None = None,
                    grab_mode: int | None = None, fb_count: int | None = None) -> None: ...
    def frame_available(self) -> bool: ...
    # A zero-copy view of the driver's frame buffer, valid until the next capture() or
    # free_buffer(); None when no frame came.
    def capture(self) -> memoryview | None: ...
    def free_buffer(self) -> None: ...
    # Read-only
    @property
    def pixel_width(self) -> int: ...
    @property
    def pixel_height(self) -> int: ...
    @property
    def sensor_name(self) -> str: ...
    @property
    def pixel_format(self) -> int: ...
    @property
    def grab_mode(self) -> int: ...
    @property
    def fb_count(self) -> int: ...
    @property
    def max_frame_size(self) -> int: ...
    # Read-write settings (JPEG quality in percent: higher is better). A value the sensor
    # refuses raises ValueError("Invalid setting for NAME") (the OV2640 has no sharpness or
    # denoise control: those always do); a frame size above the sensor's is scaled down.
    frame_size: int
    quality: int
    contrast: int
    brightness: int
    saturation: int
    sharpness: int
    denoise: int
    gainceiling: int
    colorbar: bool
    whitebal: bool
    gain_ctrl: bool
    exposure_ctrl: bool
    hmirror: bool
    vflip: bool
    aec2: bool
    awb_gain: bool
    agc_gain: int
    aec_value: int
    special_effect: int
    wb_mode: int
    ae_level: int
    dcw: bool
    bpc: bool
    wpc: bool
    raw_gma: bool
    lenc: bool
