# The chaos run's serial units: counter 1's rating keypad and LED display on the C firmware, behind the real bridge.
from __future__ import annotations

import time
from pathlib import Path

from devkit import c_unit
from devkit.c_unit import CUnit
from devkit.configs import write_bridge_config
from devkit.errors import DevkitError
from devkit.processes import RoleProcess

COUNTER = 1


class ChaosBridge:
    """`motcua bridge run` as its own process with two units running the C firmware core on ptys: counter 1's
    citizens rate on its keypad, its LED display follows the calls. `unplug` pulls both cables for a while."""

    def __init__(self, workdir: Path, port: int, env: dict[str, str]) -> None:
        folder = workdir / "serial"
        folder.mkdir(parents=True, exist_ok=True)
        program = c_unit.build(folder)
        self.keypad = CUnit(program, "rating_keypad", folder, f"rating-keypad-{COUNTER}", serial_no="CHAOS-RK1",
                            keys=3)
        self.display = CUnit(program, "led_display", folder, f"led-display-{COUNTER}", serial_no="CHAOS-LED1")
        config = write_bridge_config(workdir, port, [
            {"port": str(self.keypad.path), "kind": "rating_keypad", "counter": COUNTER, "hold_off_s": 0.2},
            {"port": str(self.display.path), "kind": "led_display", "counter": COUNTER}])
        self.process = RoleProcess("bridge", config, workdir / "bridge.log", command=("bridge", "run"), env=env)
        self.presses = self.lost = 0  # citizens' presses on the keypad; those made while its cable was out

    def start(self) -> ChaosBridge:
        self.keypad.plug()
        self.display.plug()
        self.process.start()
        return self

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

    def stop(self) -> None:
        self.process.stop()
        self.keypad.close()
        self.display.close()
