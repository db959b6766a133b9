# Counts what a device refused and why, and logs it without letting a flood of bad messages fill the disk.
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

LOG_EVERY_S = 60.0  # one window of logging
LOG_PER_WINDOW = 10  # rejections logged in full per window; the rest are counted and summed up
MAX_KEYS = 40  # distinct reasons kept; more are counted as "other" (a device's state must stay small)


class Rejections:
    """`count(reason_key, text)` counts a rejection under a short key (the field at fault) and logs its full text
    (field, expected, got): every one until LOG_PER_WINDOW in a window, then a single line per window saying how
    many more were refused. The counts go into the device's state for ward IT."""

    def __init__(self, logger: logging.Logger, who: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.log, self.who, self.clock = logger, who, clock
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._window = -LOG_EVERY_S
        self._logged = 0
        self._quiet = 0

    def count(self, key: str, text: str) -> None:
        with self._lock:
            if key not in self.counts and len(self.counts) >= MAX_KEYS:
                key = "other"
            self.counts[key] += 1
            now = self.clock()
            if now - self._window >= LOG_EVERY_S:
                if self._quiet:
                    self.log.warning("%s: %d more messages rejected in the last %.0f s (counts: %s)", self.who,
                                     self._quiet, now - self._window, dict(self.counts.most_common(5)))
                self._window, self._logged, self._quiet = now, 0, 0
            if self._logged < LOG_PER_WINDOW:
                self._logged += 1
                self.log.warning("%s: %s", self.who, text)
            else:
                self._quiet += 1

    def __getitem__(self, key: str) -> int:
        return self.counts[key]

    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)
