# Runs the waiting-room board: load and check the config, then the screen loop until SIGTERM.
from __future__ import annotations

import logging
import os

from bus.lifecycle import on_stop_signal, running
from display.config import load_display

log = logging.getLogger(__name__)


def run(config_path: str) -> None:
    config, display, voice, audio = load_display(config_path)
    logging.getLogger().setLevel(config.device.log_level.upper())
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from display.service import RESET, BoardService

    with running(config, RESET):
        service = BoardService(config, display, voice, audio)
        on_stop_signal(lambda: setattr(service, "running", False))
        service.start()
        service.run()
