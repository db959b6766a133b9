# Runs a rating device: load and check the config, then the GPIO keypad or the touch terminal until SIGTERM.
from __future__ import annotations

import logging

from bus import systemd
from bus.client import BusClient
from bus.config import DeviceConfig
from bus.device_commands import Device, DeviceCommands
from bus.lifecycle import running, wait_for_stop
from bus.reset import ResetSpec
from rating.config import RatingSection, load_rating

RESET = ResetSpec(wipe=("rating-outbox.db*",))  # emptied first: every rating given reaches the hub once


def run(config_path: str) -> None:
    config, section = load_rating(config_path)
    logging.getLogger().setLevel(config.device.log_level.upper())
    with running(config, RESET):
        _run(config, section)


def _run(config: DeviceConfig, section: RatingSection) -> None:
    bus = BusClient(config.broker, config.device.ward, config.device.id, "rating",
                    outbox_path=config.data_dir / "rating-outbox.db", counters=(section.counter,))
    commands = DeviceCommands(bus, Device(config, load_rating, reset=RESET))
    if section.mode == "touch":
        from rating.touch import RatingApp

        app = RatingApp.for_section(bus, section)
        commands.device.identify = app.identify.start
        bus.start()
        systemd.notify("READY=1")
        wait_for_stop(tick=1 / 20, on_tick=app.step, health=bus.health)
        app.close()
    else:
        from rating.keypad import RatingKeypad

        keypad = RatingKeypad(bus, section)
        commands.device.identify = keypad.identify
        bus.start()
        systemd.notify("READY=1")
        wait_for_stop(health=bus.health)
        keypad.close()
    bus.stop()
