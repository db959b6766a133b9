# An officer's serial counter keypad: call next, recall, start, done, no-show, skip, open, close and transfer.
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bus.client import BusClient
from bus.messages import Message
from firmware_bridge import protocol as p
from firmware_bridge.config import UnitSection
from firmware_bridge.led_display import LedDisplayUnit
from firmware_bridge.port import Opener, open_port
from hmi.counter_command import ask_hub
from hmi.presses import PressFilter

log = logging.getLogger(__name__)


PICK_S = 5.0  # after the transfer key, this long to press the key of the service (1 = the hub's first service)
SAY_S = 3.0  # a refusal's short word stays on the keypad's display this long, then the number again
PICK = "CH DV"  # "chuyển dịch vụ": to which service?
# What the keypad's display says when the hub refuses (7-segment friendly: digits, capitals, space, '-').
SAID = {"empty": "0 CHO", "recall_limit": "HET GOI", "skip_limit": "HET BO", "unknown_service": "0 DV",
        "same_service": "CUNG DV", "nothing_served": "0 VE", "no_ticket": "0 VE", "no_answer": "E"}
REFUSED = "LOI"  # any other refusal (the reason is in the bridge's log)


class CounterKeypadUnit(LedDisplayUnit):
    """Each key is one counter command, asked of the hub while the officer waits (hmi/counter_command.py). The
    keypad's own display shows the number being served; its LEDs say ok, refused or error (no answer from the
    hub), and a refusal or an empty queue also shows a short word for a few seconds (SAID). The transfer key, then
    a service's key (1 for the hub's first service, in the order the kiosks show them), sends the ticket there."""

    def __init__(self, bus: BusClient, cfg: UnitSection, opener: Opener = open_port) -> None:
        super().__init__(bus, cfg, opener)
        self.presses = {code: PressFilter(0.05, min(cfg.hold_off_s, 1.0)) for code in p.COUNTER_KEYS}
        self.results: list[str] = []
        self.services: list[str] = []  # service codes in the hub's order, from its retained service list
        self._picking_until = 0.0
        self._restore: threading.Timer | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"counter-{cfg.counter}")
        bus.subscribe(bus.topics.services, self._services)

    def _services(self, msg: Message, _: str) -> None:
        self.services = [s["code"] for s in msg.body["services"]]

    def key(self, code: int) -> None:
        if time.monotonic() < self._picking_until:
            self._pick(code)
            return
        action = p.COUNTER_KEYS.get(code)
        if action is None:
            log.warning("bridge: %s: key %d is not a counter key (known: %s)", self.cfg.port, code, p.COUNTER_KEYS)
            self.signal("error")
            return
        if not self.presses[code].accept():  # per key: 'done' then 'call next' at once is normal work
            return
        if action == "transfer":
            self._picking_until = time.monotonic() + PICK_S
            self._say(PICK, PICK_S)
        else:
            self._worker.submit(self._command, action)

    def _pick(self, code: int) -> None:
        self._picking_until = 0.0
        if not 1 <= code <= len(self.services):
            self.results.append("transfer:no_such_service")
            self.signal("refused")
            self._say(SAID["unknown_service"])
            return
        self._worker.submit(self._command, "transfer", self.services[code - 1])

    def _command(self, action: str, service: str | None = None) -> None:
        extra: dict[str, Any] = {"officer": self.cfg.officer} if action == "open" and self.cfg.officer else {}
        if service is not None:
            extra["service"] = service
        outcome = ask_hub(self.bus, self.cfg.counter, action, self.cfg.request_timeout_s, **extra)
        self.results.append(f"{action}:{outcome.feedback}")
        self.signal(outcome.feedback)
        if outcome.code:
            self._say(SAID.get(outcome.code, REFUSED))

    def _say(self, word: str, seconds: float = SAY_S) -> None:
        """Shows `word` on the keypad's display for `seconds`, then the number being served again."""
        if self._restore is not None:
            self._restore.cancel()
        self.link.send(p.show(word))
        self._restore = threading.Timer(seconds, self.ready)
        self._restore.daemon = True
        self._restore.start()

    def stop(self) -> None:
        if self._restore is not None:
            self._restore.cancel()
        self._worker.shutdown(wait=True, cancel_futures=True)
        super().stop()

    def status(self) -> dict[str, object]:
        ignored = sum(f.ignored for f in self.presses.values())
        return {**super().status(), "last_results": self.results[-3:], "presses_ignored": ignored}
