# What every bridged device has in common: its link, its faults and its status; each kind adds what its keys mean.
from __future__ import annotations

import logging
from typing import Any

from bus.client import BusClient
from bus.messages import Message
from firmware_bridge import protocol as p
from firmware_bridge.config import UnitSection
from firmware_bridge.errors import ProtocolError
from firmware_bridge.link import Link
from firmware_bridge.port import Opener, open_port

log = logging.getLogger(__name__)


class Unit:
    """One microcontroller at one counter. Subclasses say what a key does (`key`), what to do when the device is
    (again) ready (`ready`, e.g. show the current number after a reboot) and how to use a hub's reply (`reply`)."""

    def __init__(self, bus: BusClient, cfg: UnitSection, opener: Opener = open_port) -> None:
        self.bus, self.cfg = bus, cfg
        self.link = Link(cfg.port, cfg.baud, cfg.kind, on_message=self._message, on_state=self._state, opener=opener)
        self.pending: set[str] = set()
        self.faults: list[str] = []
        self.keys = 0

    def start(self) -> None:
        self.link.start()

    def alive(self) -> bool:
        return self.link.alive()

    def stop(self) -> None:
        self.link.stop()

    @property
    def state(self) -> str:
        return self.link.state

    def owns(self, corr: str | None) -> bool:
        return corr in self.pending

    def status(self) -> dict[str, Any]:
        return {"kind": self.cfg.kind, "counter": self.cfg.counter, "keys": self.keys,
                "faults": self.faults[-3:], **self.link.status()}

    # -- for subclasses ------------------------------------------------------------------------------------
    def key(self, code: int) -> None:
        log.info("bridge: %s: key %d has no meaning on a %s", self.cfg.port, code, self.cfg.kind)

    def ready(self) -> None:
        """The device answered the handshake (first start, replug or reboot)."""

    def reply(self, msg: Message) -> None:
        self.pending.discard(msg.corr or "")

    def signal(self, code: str) -> None:
        self.link.send(p.feedback(code))

    def identify_frame(self, on: bool) -> None:
        """One half-second of ward IT's "which unit is this?": the feedback LEDs flash."""
        self.signal("ok" if on else "idle")

    def identify_end(self) -> None:
        self.signal("idle")

    # -- from the link thread ------------------------------------------------------------------------------
    def _message(self, msg: p.Msg) -> None:
        if msg.id == p.KEY:
            try:
                code = p.parse_key(msg)
            except ProtocolError as exc:
                log.warning("bridge: %s: %s", self.cfg.port, exc)
                return
            self.keys += 1
            self.key(code)
        elif msg.id == p.FAULT:
            text = msg.args.decode("ascii", errors="replace")
            self.faults.append(text)
            del self.faults[:-20]
            log.warning("bridge: %s reports a fault: %s", self.cfg.port, text)
        else:
            log.info("bridge: %s: unexpected %s from the device", self.cfg.port, msg.name)

    def _state(self, state: str) -> None:
        log.info("bridge: %s (%s, counter %d) is %s", self.cfg.port, self.cfg.kind, self.cfg.counter, state)
        if state == "ready":
            self.ready()
