# camdot on the AI-Thinker ESP32-CAM: the ESP32_GENERIC SPIRAM build plus the camera module
# (USER_C_MODULES, passed by firmware/build.sh) and camdot + microdot frozen in.
set(IDF_TARGET esp32)

set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    ${SDKCONFIG_IDF_VERSION_SPECIFIC}
    boards/sdkconfig.ble
    boards/sdkconfig.spiram
    ${MICROPY_BOARD_DIR}/sdkconfig.board
)

set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/../../manifest.py)
