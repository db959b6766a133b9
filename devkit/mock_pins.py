# A GPIO device (`motcua run`) in its own process on gpiozero's MockFactory, its buttons pressed by lines on stdin.
from __future__ import annotations

import json
import sys
import threading
import time
from typing import IO, Any


def fingers(factory: Any, commands: IO[str], answers: IO[str]) -> None:
    """`{"press": PIN, "hold_s": S}` per line: the pin held low for S seconds, as a finger on a button, then
    released; answers whether the device was listening to that pin (a press before it started is lost, as on a
    device still booting)."""
    for line in commands:
        cmd = json.loads(line)
        pin = factory.pin(int(cmd["press"]))
        listening = pin.when_changed is not None
        pin.drive_low()
        time.sleep(float(cmd.get("hold_s", 0.1)))
        pin.drive_high()
        answers.write(json.dumps({"pressed": listening}) + "\n")
        answers.flush()


def main() -> None:
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    from provisioning.roles import run_device

    Device.pin_factory = factory = MockFactory()
    answers, sys.stdout = sys.stdout, sys.stderr  # nothing else may write on the answers' line
    threading.Thread(target=fingers, args=(factory, sys.stdin, answers), name="fingers", daemon=True).start()
    run_device(sys.argv[1])


if __name__ == "__main__":
    main()
