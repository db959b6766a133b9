# An officer's serial counter keypad: call next, recall, start, done, no-show, skip, open and close.
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bus.client import BusClient
from firmware_bridge import protocol as p
from firmware_bridge.config import UnitSection
from firmware_bridge.led_display import LedDisplayUnit
from firmware_bridge.port import Opener, open_port
from hmi.presses import PressFilter

log = logging.getLogger(__name__)


class CounterKeypadUnit(LedDisplayUnit):
    """Each key is one counter command, asked of the hub while the officer waits (never queued for later: a
    'call next' that arrived minutes late would call a citizen who is no longer expected). The keypad's own
    display shows the number being served; its LEDs say ok, refused (the hub said why, logged) or error (no
    answer from the hub)."""

    def __init__(self, bus: BusClient, cfg: UnitSection, opener: Opener = open_port) -> None:
        super().__init__(bus, cfg, opener)
        self.presses = {code: PressFilter(0.05, min(cfg.hold_off_s, 1.0)) for code in p.COUNTER_KEYS}
        self.results: list[str] = []
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"counter-{cfg.counter}")

    def key(self, code: int) -> None:
        action = p.COUNTER_KEYS.get(code)
        if action is None:
            log.warning("bridge: %s: key %d is not a counter key (known: %s)", self.cfg.port, code, p.COUNTER_KEYS)
            self.signal("error")
            return
        if self.presses[code].accept():  # per key: 'done' then 'call next' at once is normal work
            self._worker.submit(self._command, action)

    def _command(self, action: str) -> None:
        body: dict[str, Any] = {"action": action, "counter": self.cfg.counter}
        if action == "open" and self.cfg.officer:
            body["officer"] = self.cfg.officer
        reply = self.bus.request(self.bus.topics.counter_command(self.cfg.counter), "counter.command", body,
                                 timeout=self.cfg.request_timeout_s)
        if reply is None:
            outcome = "error"
            log.warning("bridge: counter %d %s: the hub did not answer in %.1f s", self.cfg.counter, action,
                        self.cfg.request_timeout_s)
        elif reply.type == "error":
            outcome = "refused"
            log.info("bridge: counter %d %s refused: %s", self.cfg.counter, action, reply.body.get("reason"))
        else:
            outcome = "ok"
        self.results.append(f"{action}:{outcome}")
        self.signal(outcome)

    def stop(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
        super().stop()

    def status(self) -> dict[str, object]:
        ignored = sum(f.ignored for f in self.presses.values())
        return {**super().status(), "last_results": self.results[-3:], "presses_ignored": ignored}
