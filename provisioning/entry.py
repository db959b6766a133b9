# The `motcua` command's entry: `motcua run --config F`, what every systemd unit runs, starts the device's service
# without loading click and ward IT's commands (a megabyte of every service's memory); anything else goes to click.
from __future__ import annotations

import logging
import sys

from bus.errors import BusError
from console.errors import ConsoleError
from desk.errors import DeskError
from display.errors import DisplayError
from district.errors import DistrictError
from firmware_bridge.errors import BridgeError
from hub.errors import HubError
from kiosk.errors import KioskError
from provisioning.errors import ProvisioningError
from rating.errors import RatingError

OUR_ERRORS = (BusError, DisplayError, DistrictError, BridgeError, HubError, KioskError, ProvisioningError,
              RatingError, ConsoleError, DeskError)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def service_config(args: list[str]) -> str | None:
    """The config path when `args` are exactly `run --config F` (or `run --config=F`), else None: any other
    command, option or help goes through click, which also says what is wrong with a mistyped one."""
    if len(args) == 3 and args[:2] == ["run", "--config"] and args[2] and not args[2].startswith("-"):
        return args[2]
    if len(args) == 2 and args[0] == "run" and args[1].startswith("--config=") and len(args[1]) > 9:
        return args[1][9:]
    return None


def main() -> None:
    config = service_config(sys.argv[1:])
    if config is None:
        from provisioning.cli import main as click_main

        click_main()
        return
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=LOG_FORMAT)
    from provisioning.roles import run_device

    try:
        run_device(config)
    except OUR_ERRORS as exc:  # as click says them: one line, exit code 1, no traceback
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
