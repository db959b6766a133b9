# The chaos run's serial units: counter 1's rating keypad and LED display on the C firmware, behind the real bridge.
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from devkit import c_unit
from devkit.c_unit import CUnit
from devkit.demo_bridge import COUNTER, DemoBridge
from devkit.errors import DevkitError


class ChaosBridge(DemoBridge):
    """The demo's bridge with its two units running the C firmware core instead of fakes: counter 1's citizens
    rate on its keypad, its LED display follows the calls. `unplug` pulls both cables for a while."""

    def __init__(self, workdir: Path, port: int, env: dict[str, str]) -> None:
        super().__init__(workdir, port, env)
        self.presses = self.lost = 0  # citizens' presses on the keypad; those made while its cable was out

    def units(self, folder: Path) -> tuple[Any, Any]:
        program = c_unit.build(folder)
        return (CUnit(program, "rating_keypad", folder, f"rating-keypad-{COUNTER}", serial_no="CHAOS-RK1", keys=3),
                CUnit(program, "led_display", folder, f"led-display-{COUNTER}", serial_no="CHAOS-LED1"))

    def press(self, level: int) -> None:
        """A citizen presses the keypad (from a simulated counter's thread): on an unplugged one, nothing happens."""
        try:
            self.keypad.press(level)
            self.presses += 1
        except (DevkitError, OSError, ValueError, AttributeError):  # the unit's program is gone with its cable
            self.lost += 1

    def unplug(self, seconds: float) -> None:
        """Both cables pulled, then plugged back `seconds` later: the same paths, new lines behind them."""
        self.keypad.unplug()
        self.display.unplug()
        time.sleep(seconds)
        self.keypad.plug()
        self.display.plug()
