# Runs the hub as a service: load and check the config, start, stop cleanly on SIGTERM/SIGINT.
from __future__ import annotations

import logging

from bus.lifecycle import check_zone, running, wait_for_stop
from hub.config import load_hub
from hub.service import HubService
from hub.store import reset_spec

log = logging.getLogger(__name__)


def run(config_path: str) -> None:
    config, hub = load_hub(config_path)
    logging.getLogger().setLevel(config.device.log_level.upper())
    with running(config, reset_spec(hub)):
        service = HubService(config, hub)
        check_zone(service.bus.facts, hub.timezone, "hub.timezone")
        service.start()
        log.info("hub %s for ward %s running; database %s", config.device.id, config.device.ward,
                 config.data_dir / hub.database)
        wait_for_stop(health=service.health)
        service.stop()
