# The chaos run's GPIO rating keypad: a rating device's own process on gpiozero's MockFactory, pressed by citizens.
from __future__ import annotations

import json
import threading
from pathlib import Path

from devkit.configs import write_rating_config
from devkit.processes import DrivenProcess

COUNTER = 2
PINS = (5, 6, 13)  # Rất hài lòng, Hài lòng, Không hài lòng


class GpioRating:
    """`motcua run` of counter 2's rating keypad (devkit/mock_pins.py): its citizens press a level's button; a
    power cut kills it with the rest. Counts presses it took and presses lost (it was off, or still starting)."""

    def __init__(self, workdir: Path, port: int, env: dict[str, str]) -> None:
        config = write_rating_config(workdir, port, f"rating-{COUNTER}", COUNTER, list(PINS), hold_off_s=0.3)
        self.process = DrivenProcess("devkit.mock_pins", config, workdir / f"rating-{COUNTER}.log", env=env)
        self._lock = threading.Lock()
        self.presses = self.lost = 0

    def start(self) -> GpioRating:
        self.process.start()
        return self

    def press(self, level: int) -> None:
        """A citizen presses level `level` (1 = the best), from a simulated counter's thread."""
        with self._lock:
            answer = self.process.ask(json.dumps({"press": PINS[level - 1], "hold_s": 0.05}))
        if answer is not None and json.loads(answer)["pressed"]:
            self.presses += 1
        else:
            self.lost += 1

    def stop(self) -> None:
        self.process.stop()
