# What a handled request produced: the reply, the events to announce and the counters whose state changed.
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bus.messages import WAITING_SHOWN


@dataclass
class Outcome:
    """What a handled request produced: the reply, the ticket events to announce, the counters that changed."""

    reply_type: str
    reply: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    counters: set[int] = field(default_factory=set)
    fresh: bool = True
    settings: Any = None  # new settings to apply once the change is committed (hub/settings.py)

    def joins_behind_shown(self, event: dict[str, Any]) -> bool:
        """Whether `event` is this request's ticket issued with WAITING_SHOWN or more ahead of it in its own line.
        Its place in any counter's waiting list (its services' lines merged in calling order) is at least that, so
        no counter's shown list changes: in a burst with a long line, each issue would otherwise rebuild every such
        counter's state."""
        ticket = self.reply.get("ticket")
        return (event["event"] == "issued" and isinstance(ticket, dict) and ticket.get("id") == event["ticket"]["id"]
                and (ticket.get("ahead") or 0) >= WAITING_SHOWN)
