# Filters a person's key presses: contact bounce and a hold-off so one rating is one press, whatever the keypad.
from __future__ import annotations

import time
from collections.abc import Callable


class PressFilter:
    """Accepts a press unless it came within `bounce_s` of the previous edge (contact bounce, which gpiozero's mock
    and some keypads do not filter) or within `hold_off_s` of the last accepted press (a citizen pressing again
    and again). Every refused press is counted."""

    def __init__(self, bounce_s: float, hold_off_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.bounce_s, self.hold_off_s, self.clock = bounce_s, hold_off_s, clock
        self.ignored = 0
        self._last_edge = -1e9
        self._last_press = -1e9

    def accept(self) -> bool:
        now = self.clock()
        bounce = now - self._last_edge < self.bounce_s
        self._last_edge = now
        if bounce or now - self._last_press < self.hold_off_s:
            self.ignored += 1
            return False
        self._last_press = now
        return True
