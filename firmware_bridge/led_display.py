# A counter's LED number display: shows the ticket being served there, from the hub's retained counter state.
from __future__ import annotations

import threading
from typing import Any

from bus.client import BusClient
from bus.messages import Message
from firmware_bridge import protocol as p
from firmware_bridge.config import UnitSection
from firmware_bridge.port import Opener, open_port
from firmware_bridge.unit import Unit

CLOSED = "--"


def display_text(status: str | None, label: str | None) -> str:
    """What a counter's display shows: the number called there, blank while open with nobody called, '--' else."""
    return label if label else ("" if status == "open" else CLOSED)


class LedDisplayUnit(Unit):
    """Shows the number called to this counter, blank while open with nobody called, '--' while closed. The text
    is sent again whenever the device comes back (replug, reboot), so a display never keeps a stale number."""

    def __init__(self, bus: BusClient, cfg: UnitSection, opener: Opener = open_port) -> None:
        super().__init__(bus, cfg, opener)
        self.text = CLOSED
        self._lock = threading.Lock()
        bus.subscribe(bus.topics.counter_state(cfg.counter), self._counter_state)

    def ready(self) -> None:
        with self._lock:
            self.link.send(p.show(self.text))

    def _counter_state(self, msg: Message, _: str) -> None:
        ticket: dict[str, Any] | None = msg.body.get("ticket")
        text = display_text(msg.body.get("status"), ticket["label"] if ticket else None)
        with self._lock:
            if text == self.text:
                return
            self.text = text
            if self.link.state == "ready":
                self.link.send(p.show(text))

    def identify_frame(self, on: bool) -> None:
        """"ID" and the counter number, blinking, instead of the number being served."""
        with self._lock:
            self.link.send(p.show(f"ID {self.cfg.counter}"[:p.SHOW_MAX] if on else ""))

    def identify_end(self) -> None:
        self.ready()  # the number being served again

    def status(self) -> dict[str, object]:
        return {**super().status(), "showing": self.text}
