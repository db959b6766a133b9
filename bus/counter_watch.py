# Follows one counter's retained state so a rating device can say which ticket the citizen in front of it was served.
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from bus.client import BusClient
from bus.messages import Message

RATING_WINDOW_S = 180  # how long after a ticket left its counter a rating still counts for it (the hub's default)


class CounterWatch:
    """Remembers the ticket at a counter and, once it has left, when it left (by this device's monotonic clock).
    A rating carries this as `ticket_id` and `left_s`, so the hub ties it to the ticket the citizen saw served even
    when the rating reaches the hub late (broker or hub outage, a restarted device): the hub no longer has to guess
    from the arrival time. Without a hint (a device that just booted and saw nothing leave) the hub decides."""

    def __init__(self, bus: BusClient, counter: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._current: int | None = None
        self._label = ""  # the current ticket's number as printed (A012)
        self._serving = False
        self._left: tuple[int, float, str] | None = None
        bus.subscribe(bus.topics.counter_state(counter), self._state)

    def _state(self, msg: Message, _: str) -> None:
        ticket: dict[str, Any] | None = msg.body.get("ticket")
        ticket_id = ticket.get("id") if isinstance(ticket, dict) else None
        label = ticket.get("label") if isinstance(ticket, dict) else None
        with self._lock:
            if self._current is not None and ticket_id != self._current:
                self._left = (self._current, self.clock(), self._label)
            self._current = ticket_id if isinstance(ticket_id, int) else None
            self._label = label if isinstance(label, str) else ""
            self._serving = bool(ticket) and ticket.get("status") == "serving"  # type: ignore[union-attr]

    def hint(self) -> dict[str, Any]:
        """The rating's `ticket_id` and `left_s` (0 while the ticket is still being served), or {} if unknown."""
        with self._lock:
            if self._current is not None and self._serving:
                return {"ticket_id": self._current, "left_s": 0.0}
            if self._left is not None:
                return {"ticket_id": self._left[0], "left_s": round(self.clock() - self._left[1], 1)}
            return {}

    def label(self, within_s: float) -> str:
        """The number (A012) of the ticket a rating now would be for, as `hint` picks it — the one being served, or
        the one that left at most `within_s` ago — for a screen to show the citizen which visit they rate; "" when
        there is none or its number is unknown."""
        with self._lock:
            if self._current is not None and self._serving:
                return self._label
            if self._left is not None and self.clock() - self._left[1] <= within_s:
                return self._left[2]
            return ""
