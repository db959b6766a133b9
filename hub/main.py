# Runs the hub as a service: load and check the config, start, stop cleanly on SIGTERM/SIGINT.
from __future__ import annotations

import logging

from bus.lifecycle import running, wait_for_stop
from bus.sensors import zone_apart
from hub.config import load_hub
from hub.service import HubService
from hub.store import reset_spec

log = logging.getLogger(__name__)


def run(config_path: str) -> None:
    config, hub = load_hub(config_path)
    logging.getLogger().setLevel(config.device.log_level.upper())
    with running(config, reset_spec(hub)):
        service = HubService(config, hub)
        if (apart := zone_apart(hub.timezone)) is not None:  # on the fleet page too (bus/health.py)
            service.bus.facts["clock_zone"] = apart
            log.warning("this machine's time zone is %s, the ward's (hub.timezone %s) %s: its log, the console's "
                        "times and its timers are off the ward's clocks; set it: sudo timedatectl set-timezone %s",
                        apart["machine"], hub.timezone, apart["ward"], hub.timezone)
        service.start()
        log.info("hub %s for ward %s running; database %s", config.device.id, config.device.ward,
                 config.data_dir / hub.database)
        wait_for_stop(health=service.health)
        service.stop()
