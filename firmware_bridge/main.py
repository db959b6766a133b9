# Runs the firmware bridge: load and check the config, open every port, serve until SIGTERM.
from __future__ import annotations

import logging

from bus import systemd
from bus.lifecycle import running, wait_for_stop
from firmware_bridge.config import load_bridge
from firmware_bridge.service import RESET, BridgeService


def run(config_path: str) -> None:
    config, section = load_bridge(config_path)
    logging.getLogger().setLevel(config.device.log_level.upper())
    with running(config, RESET):
        service = BridgeService(config, section)
        service.start()
        systemd.notify("READY=1")
        try:
            wait_for_stop(health=service.health)
        finally:
            service.stop()
