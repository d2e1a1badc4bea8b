"""camdot: a real-time web stack for ESP32-CAM boards, on microdot.

The package runs unchanged on MicroPython (ESP32 and the unix port) and on CPython 3.11.
"""
__version__ = '0.1.0'
