# What a handled request produced: the reply, the events to announce and the counters whose state changed.
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """What a handled request produced: the reply, the ticket events to announce, the counters that changed."""

    reply_type: str
    reply: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    counters: set[int] = field(default_factory=set)
    fresh: bool = True
    settings: Any = None  # new settings to apply once the change is committed (hub/settings.py)
