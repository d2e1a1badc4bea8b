"""The board's own I/O for the camera Thing: the flash LED, the Wi-Fi signal, the uptime, a reset.

    led = board_io.FlashLed(config.get('led_pin', board_io.LED_PIN))
    led.set(128)                  # 0..255, PWM on the board; nothing elsewhere
    board_io.rssi()               # dBm, or None (off the board, or not connected)
    board_io.reset_soon()         # True: the board resets in half a second; False off the board

Off the board (the unix port, CPython) there is no LED, no Wi-Fi to measure and nothing to reset.
"""
import asyncio

from camdot.compat import ON_BOARD, ticks_diff, ticks_ms

#: The flash LED (AI-Thinker): GPIO 4, driven by PWM.
LED_PIN = 4
RESET_DELAY_S = 0.5     # reset_soon(): time for the answer to leave first


class FlashLed:
    """The flash LED on `pin` (None: the board has none), dimmed by PWM: 0 off .. 255 full."""

    def __init__(self, pin=LED_PIN):
        self.pin = pin
        self._pwm = None

    def set(self, value):
        if not ON_BOARD or self.pin is None:
            return  # no flash LED off the board
        if self._pwm is None:
            # NB: the camera's XCLK also comes from the LEDC peripheral; if a firmware's PWM
            # allocation ever collides with it, set "led_pin": null in the config.
            from machine import PWM, Pin
            self._pwm = PWM(Pin(self.pin), freq=5000)
        self._pwm.duty_u16(value * 257)


def rssi():
    """The Wi-Fi signal in dBm while the station is connected, else None."""
    if not ON_BOARD:
        return None
    try:
        import network
        wlan = network.WLAN(network.STA_IF)
        return wlan.status('rssi') if wlan.isconnected() else None
    except Exception:
        return None


class Uptime:
    """Seconds since boot on the board (since this object was made elsewhere); counted on, so
    it survives the wrap of ticks_ms()."""

    def __init__(self):
        self._ms = ticks_diff(ticks_ms(), 0) if ON_BOARD else 0  # board ticks start at boot
        self._last = ticks_ms()

    def seconds(self):
        now = ticks_ms()
        self._ms += ticks_diff(now, self._last)
        self._last = now
        return self._ms // 1000


def reset_soon():
    """Reset the board in RESET_DELAY_S (the answer saying so leaves first): True; False off the
    board, where there is nothing to reset."""
    if not ON_BOARD:
        return False
    asyncio.create_task(_reset_later())
    return True


async def _reset_later():
    await asyncio.sleep(RESET_DELAY_S)
    import machine
    machine.reset()
