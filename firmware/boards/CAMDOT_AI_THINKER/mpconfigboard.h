// camdot on the AI-Thinker ESP32-CAM: ESP32 + 4 MB PSRAM + OV2640.
#define MICROPY_HW_BOARD_NAME "camdot ESP32-CAM (AI-Thinker)"
#define MICROPY_HW_MCU_NAME "ESP32"

// cnadler86/micropython-camera-API: bake in the AI-Thinker camera pins (PWDN 32, XCLK 0,
// SIOD 26, SIOC 27, D0-D7 5,18,19,21,36,39,34,35, VSYNC 25, HREF 23, PCLK 22).
#define MICROPY_CAMERA_MODEL_AI_THINKER 1
