# A counter's serial rating keypad: each level key becomes one rating, kept in the outbox until the hub has it.
from __future__ import annotations

import logging

from bus.client import BusClient
from bus.counter_watch import CounterWatch
from bus.messages import Message
from firmware_bridge.config import UnitSection
from firmware_bridge.port import Opener, open_port
from firmware_bridge.unit import Unit
from hmi.presses import PressFilter

log = logging.getLogger(__name__)


class RatingKeypadUnit(Unit):
    """Keys 1..scale are the levels, best first. An accepted press is a durable rating.submit, so it reaches the
    hub exactly once through outages and restarts; the hub ties it to the ticket just served at this counter.
    The keypad's LEDs answer: ok when recorded, refused when nothing was served or the window had passed."""

    def __init__(self, bus: BusClient, cfg: UnitSection, opener: Opener = open_port) -> None:
        super().__init__(bus, cfg, opener)
        self.presses = PressFilter(0.05, cfg.hold_off_s)
        self.watch = CounterWatch(bus, cfg.counter)
        self.sent: list[int] = []

    def key(self, code: int) -> None:
        if not 1 <= code <= self.cfg.scale:
            log.warning("bridge: %s: key %d is outside the %d-level scale", self.cfg.port, code, self.cfg.scale)
            self.signal("error")
            return
        if not self.presses.accept():
            return
        msg = self.bus.send_durable(self.bus.topics.rating, "rating.submit",
                                    {"counter": self.cfg.counter, "level": code, "scale": self.cfg.scale,
                                     **self.watch.hint()})
        self.pending.add(msg.corr or "")
        self.sent.append(code)

    def reply(self, msg: Message) -> None:
        super().reply(msg)
        if msg.type != "rating.recorded":
            log.info("bridge: rating at counter %d refused: %s", self.cfg.counter, msg.body.get("reason"))
        self.signal("ok" if msg.type == "rating.recorded" else "refused")

    def status(self) -> dict[str, object]:
        return {**super().status(), "ratings_sent": len(self.sent), "presses_ignored": self.presses.ignored}
