# Runs a kiosk: load and check the config, pick the printer backend, then the touch UI or the big buttons.
from __future__ import annotations

import logging
import os

from bus import systemd
from bus.lifecycle import on_stop_signal, running, wait_for_stop
from kiosk.config import load_kiosk
from kiosk.core import RESET, KioskCore
from kiosk.printing import make_printer

log = logging.getLogger(__name__)


def run(config_path: str) -> None:
    config, section, printer_cfg, buttons = load_kiosk(config_path)
    logging.getLogger().setLevel(config.device.log_level.upper())
    with running(config, RESET):
        _run(config, section, printer_cfg, buttons)


def _run(config, section, printer_cfg, buttons) -> None:  # noqa: ANN001 - the four parts load_kiosk returns
    core = KioskCore(config, section, printer_cfg, make_printer(printer_cfg))
    core.start()
    try:
        if section.mode == "buttons":
            from kiosk.buttons import ButtonPanel

            assert buttons is not None
            panel = ButtonPanel(core, buttons)
            log.info("kiosk ready")
            systemd.notify("READY=1")
            wait_for_stop(health=core.bus.health)
            panel.close()
        else:
            os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
            from kiosk.ui.app import KioskApp

            app = KioskApp(core, section)
            on_stop_signal(lambda: setattr(app, "running", False))
            app.run()
    finally:
        core.stop()
