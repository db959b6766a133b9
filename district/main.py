# Runs a district collector until SIGTERM.
from __future__ import annotations

import logging

from bus.lifecycle import check_zone, running, wait_for_stop
from district.collector import Collector
from district.config import load_district

log = logging.getLogger(__name__)


def run(config_path: str) -> None:
    config, section = load_district(config_path)
    logging.getLogger().setLevel(config.device.log_level.upper())
    with running(config):
        collector = Collector(config, section)
        check_zone(collector.bus.facts, section.timezone, "district.timezone")
        collector.start()
        log.info("collector %s for %d wards running", config.device.id, len(section.wards))
        wait_for_stop(health=collector.health)
        collector.stop()
