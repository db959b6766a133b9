# Runs the hub as a service: load and check the config, start, stop cleanly on SIGTERM/SIGINT.
from __future__ import annotations

import logging
import signal
import threading

from hub.config import load_hub
from hub.service import HubService

log = logging.getLogger(__name__)


def run(config_path: str) -> None:
    config, hub = load_hub(config_path)
    logging.getLogger().setLevel(config.device.log_level.upper())
    service = HubService(config, hub)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    service.start()
    log.info("hub %s for ward %s running; database %s", config.device.id, config.device.ward,
             config.data_dir / hub.database)
    stop.wait()
    log.info("hub stopping")
    service.stop()
