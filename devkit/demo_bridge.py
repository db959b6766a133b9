# The demo's serial units: a rating keypad and an LED display on counter 1, fake devices behind the real bridge.
from __future__ import annotations

from pathlib import Path
from typing import Any

from devkit.configs import write_bridge_config
from devkit.processes import RoleProcess
from firmware_bridge.fake_mcu import FakeMcu

COUNTER = 1


class DemoBridge:
    """Runs `motcua bridge run` as its own process against two fake microcontrollers on ptys: the simulated
    citizens at counter 1 rate on the serial keypad, and the counter's LED display follows the calls."""

    def __init__(self, workdir: Path, port: int, env: dict[str, str] | None = None) -> None:
        self.folder = workdir / "serial"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.keypad, self.display = self.units(self.folder)
        config = write_bridge_config(workdir, port, [
            {"port": str(self.keypad.path), "kind": "rating_keypad", "counter": COUNTER, "hold_off_s": 0.2},
            {"port": str(self.display.path), "kind": "led_display", "counter": COUNTER}])
        self.process = RoleProcess("bridge", config, workdir / "bridge.log", command=("bridge", "run"), env=env)

    def units(self, folder: Path) -> tuple[Any, Any]:
        """The rating keypad and the LED display, on ptys in `folder`: fake microcontrollers here."""
        return (FakeMcu("rating_keypad", folder, name=f"rating-keypad-{COUNTER}", serial_no="DEMO-RK1"),
                FakeMcu("led_display", folder, name=f"led-display-{COUNTER}", serial_no="DEMO-LED1"))

    def start(self) -> DemoBridge:
        self.keypad.plug()
        self.display.plug()
        self.process.start()
        return self

    def press(self, level: int) -> None:
        self.keypad.press(level)

    def stop(self) -> None:
        self.process.stop()
        self.keypad.close()
        self.display.close()

    def summary(self) -> dict[str, Any]:
        return {"serial_keypad_answers": len(self.keypad.feedback),
                "serial_keypad_ok": self.keypad.feedback.count("ok"),
                "led_display_updates": len(self.display.shown)}
