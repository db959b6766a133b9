# Runs the notifier: load and check the config, then take phone numbers and send texts until SIGTERM.
from __future__ import annotations

import logging

from bus import systemd
from bus.lifecycle import running, wait_for_stop
from notify.config import load_notify


def run(config_path: str) -> None:
    config, section = load_notify(config_path)
    logging.getLogger().setLevel(config.device.log_level.upper())
    with running(config):
        from notify.service import NotifyService

        service = NotifyService(config, section)
        service.start()
        systemd.notify("READY=1")
        wait_for_stop(health=service.health)
        service.stop()
