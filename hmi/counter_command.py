# An officer's key (a serial keypad's or a button on a Pi) as a counter command to the hub, and what came of it.
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bus.client import BusClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """`feedback` is what the device's LEDs say (ok, refused, error); `code` why not ok: the hub's refusal code,
    "empty" (nobody waiting: the hub answered, but there was no one to call) or "no_answer"."""

    feedback: str
    code: str = ""


def ask_hub(bus: BusClient, counter: int, action: str, timeout: float, **extra: Any) -> Outcome:
    """Asks the hub while the officer waits; never queued for later (a 'call next' that arrived minutes late would
    call a citizen who is no longer expected)."""
    reply = bus.request(bus.topics.counter_command(counter), "counter.command",
                        {"action": action, "counter": counter, **extra}, timeout=timeout)
    if reply is None:
        log.warning("counter %d %s: the hub did not answer in %.1f s", counter, action, timeout)
        return Outcome("error", "no_answer")
    if reply.type == "error":
        log.info("counter %d %s refused: %s", counter, action, reply.body.get("reason"))
        return Outcome("refused", reply.body["code"])
    if (reply.body.get("explanation") or {}).get("rule") == "empty":
        return Outcome("refused", "empty")
    return Outcome("ok")
