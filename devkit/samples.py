# Sample message bodies that keep the ward contract, for tests and benches that play the hub's part.
from __future__ import annotations

from typing import Any


def ticket(label: str, service: str = "HT", service_vi: str = "Hộ tịch", status: str = "called",
           counter: int | None = None, ticket_id: int = 1, day: str = "2026-11-23") -> dict[str, Any]:
    """A ticket body as the hub sends it in events, results and counter states."""
    body: dict[str, Any] = {"id": ticket_id, "label": label, "number": int(label[1:]), "day": day,
                            "service": service, "service_vi": service_vi, "service_en": service, "status": status,
                            "issued_at": f"{day}T08:00:00+00:00", "priority": None}
    if counter is not None:
        body["counter"] = counter
    return body


def call(label: str, counter: int, event: str = "called") -> dict[str, Any]:
    """A ticket.event body: `label` called to `counter`."""
    return {"event": event, "ticket": ticket(label, counter=counter), "counter": counter}


def recent(label: str, counter: int, service: str = "HT") -> dict[str, Any]:
    """One line of the board's "last called" list."""
    return {"label": label, "counter": counter, "service": service, "event": "called",
            "at": "2026-11-23T08:00:00+00:00"}
