# Runs a district collector until SIGTERM.
from __future__ import annotations

import logging
import signal
import threading

from district.collector import Collector
from district.config import load_district

log = logging.getLogger(__name__)


def run(config_path: str) -> None:
    config, section = load_district(config_path)
    logging.getLogger().setLevel(config.device.log_level.upper())
    collector = Collector(config, section)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    collector.start()
    log.info("collector %s for %d wards running", config.device.id, len(section.wards))
    stop.wait()
    collector.stop()
