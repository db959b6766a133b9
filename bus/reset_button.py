# The reset button: held hold_s a factory reset while its LED counts down; released early nothing; a tap identifies.
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from bus.config import ResetButtonSection
from bus.gpio import pins

log = logging.getLogger(__name__)

TAP_S = 1.5  # a press shorter than this is a tap: the device makes itself known
IDENTIFY_S = 10.0
FAST_S = 3.0  # in the last seconds of the hold the LED blinks fast: let go now or the reset happens


class ResetButton:
    """A button to ground on `pin` (gpiozero, pulled up). While it is held the LED blinks once a second, then fast
    for the last FAST_S seconds, then stays on and `reset` runs; let go before the end and nothing happens (the LED
    goes off). A tap calls `identify`. `reset` may refuse (ValueError: the hub on a working day): the LED then
    flickers for three seconds and the reason is logged."""

    def __init__(self, section: ResetButtonSection, identify: Callable[[float], object], reset: Callable[[], object],
                 pin_factory: Any = None) -> None:
        from gpiozero import LED, Button

        self.section, self.identify, self.reset = section, identify, reset
        with pins("the reset button"):
            self.button = Button(section.pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)
            self.led = LED(section.led, pin_factory=pin_factory) if section.led >= 0 else None
        self.outcomes: list[str] = []  # "identify", "cancelled", "reset", "refused": what each press did
        self._busy = threading.Lock()
        self.button.when_pressed = lambda _=None: self._pressed()

    def _pressed(self) -> None:
        if self._busy.acquire(blocking=False):  # a bounce while a hold is being counted is the same press
            threading.Thread(target=self._count, name="reset-button", daemon=True).start()

    def _count(self) -> None:
        try:
            self.outcomes.append(self._hold())
        except Exception:  # service edge: a failing reset must not leave the button dead; logged with its trace
            log.exception("reset button: the press could not be carried out")
        finally:
            self._led(False)
            self._busy.release()

    def _hold(self) -> str:
        start, hold = time.monotonic(), self.section.hold_s
        while True:
            held = time.monotonic() - start
            if not self.button.is_pressed:
                if held < TAP_S:
                    self.identify(IDENTIFY_S)
                    return "identify"
                log.info("reset button released after %.1f s of %d: nothing done", held, hold)
                return "cancelled"
            if held >= hold:
                break
            rate = 8 if hold - held <= FAST_S else 2  # LED changes per second
            self._led(int(held * rate) % 2 == 0)
            time.sleep(0.05)
        self._led(True)
        log.warning("reset button held %d s: factory reset", hold)
        try:
            self.reset()
        except ValueError as exc:
            log.error("reset button: factory reset refused: %s", exc)
            for i in range(30):
                self._led(i % 2 == 0)
                time.sleep(0.1)
            return "refused"
        return "reset"

    def _led(self, on: bool) -> None:
        if self.led is not None:
            self.led.value = on

    def close(self) -> None:
        self.button.close()
        if self.led is not None:
            self.led.close()
