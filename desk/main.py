# Runs a desk device: load and check the config, then the buttons until SIGTERM.
from __future__ import annotations

import logging

from bus import systemd
from bus.client import BusClient
from bus.device_commands import Device, DeviceCommands
from bus.lifecycle import running, wait_for_stop
from desk.config import load_desk


def run(config_path: str) -> None:
    config, section = load_desk(config_path)
    logging.getLogger().setLevel(config.device.log_level.upper())
    with running(config):
        from desk.buttons import DeskButtons

        bus = BusClient(config.broker, config.device.ward, config.device.id, "desk", counters=(section.counter,),
                        data_dir=config.data_dir)
        commands = DeviceCommands(bus, Device(config, load_desk))
        buttons = DeskButtons(bus, section)
        commands.device.identify = buttons.identify
        bus.start()
        systemd.notify("READY=1")
        wait_for_stop(health=bus.health)
        buttons.close()
        bus.stop()
