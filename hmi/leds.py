# "Which device is this?" for devices with LEDs only: every LED blinks fast for some seconds, then shows what it did.
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any


def blink_to_identify(leds: Sequence[Any], seconds: float, restore: Callable[[], None]) -> str:
    """Blinks gpiozero `leds` four times a second for `seconds`, then calls `restore` (the LEDs' normal meaning)."""
    if not leds:
        return "this device has no LED to blink: find it by its host name and addresses"
    for led in leds:
        led.blink(on_time=0.125, off_time=0.125, n=max(1, int(seconds * 4)), background=True)
    timer = threading.Timer(seconds + 0.2, restore)
    timer.daemon = True
    timer.start()
    return f"{len(leds)} LED(s) blink fast for {seconds:g} s"
