# Satisfaction ratings on the hub: each rating tied to the ticket a counter just served, once per (ticket, counter).
from __future__ import annotations

import json
from typing import Any

from bus.messages import RATING_REASONS
from bus.rating_words import level_word
from hub.errors import QueueRefused
from hub.outcome import Outcome

SATISFIED = (1, 2)  # on every scale, level 1 and 2 (Rất hài lòng, Hài lòng) count as satisfied
# Each scale's levels on the government's three (1 Rất hài lòng, 2 Hài lòng, 3 Không hài lòng). "Bình thường" on a
# five-level terminal is not a complaint: it counts as Hài lòng (docs/ratings.md).
GOVERNMENT_LEVEL = {3: (1, 2, 3), 4: (1, 2, 3, 3), 5: (1, 2, 2, 3, 3)}


class RatingOps:
    """Mixed into Queue: `op_rate` runs inside Queue.handle's transaction, so a rating is applied exactly once."""

    def op_rate(self, now: float, counter: int, level: int, scale: int, reasons: list[str] | None = None,
                device: str = "", ticket_id: int | None = None, left_s: float | None = None,
                visits: int | None = None) -> Any:
        if level > scale:
            raise QueueRefused("bad_level", f"level {level} is outside a {scale}-level scale")
        unknown = [r for r in reasons or [] if r not in RATING_REASONS]
        if unknown:
            raise QueueRefused("bad_reason", f"unknown reasons {unknown}; known: {', '.join(RATING_REASONS)}")
        if ticket_id is None:
            ticket, officer = self._rated_ticket(now, counter)
        else:
            ticket, officer = self._seen_ticket(counter, ticket_id, left_s or 0.0)
        existing = self.db.execute("SELECT version FROM ratings WHERE ticket_id=? AND counter=?",
                                   (ticket["id"], counter)).fetchone()
        reasons_json = json.dumps(reasons or [], ensure_ascii=False)
        if existing:  # a later press within the window replaces the rating
            self.db.execute("UPDATE ratings SET level=?, scale=?, reasons=?, at=?, version=version+1, "
                            "visits=COALESCE(?, visits), upstream=COALESCE(upstream, version) "
                            "WHERE ticket_id=? AND counter=?",
                            (level, scale, reasons_json, now, visits, ticket["id"], counter))
        else:
            self.db.execute(
                "INSERT INTO ratings(ticket_id, counter, day, service, procedure, officer, level, scale, reasons, at, "
                "version, visits, upstream) VALUES (?,?,?,?,?,?,?,?,?,?,1,?,0)",
                (ticket["id"], counter, ticket["day"], ticket["service"], ticket["procedure"], officer, level, scale,
                 reasons_json, now, visits))
        rating = {"ticket": ticket["label"], "ticket_id": ticket["id"], "counter": counter, "officer": officer,
                  "level": level, "scale": scale, "word": level_word(scale, level),
                  "version": (existing[0] + 1) if existing else 1, "replaced": bool(existing)}
        return Outcome("rating.recorded", {"rating": rating})

    def rating_row(self, ticket_id: int, counter: int) -> dict[str, Any]:
        """The stored rating of a ticket at a counter, every column (for the upstream record)."""
        cur = self.db.execute("SELECT * FROM ratings WHERE ticket_id=? AND counter=?", (ticket_id, counter))
        return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))

    def _seen_ticket(self, counter: int, ticket_id: int, left_s: float) -> tuple[dict[str, Any], str | None]:
        """The ticket the rating device saw at its counter: accepted if this counter served it (it is being served
        there now, or its last event there is done or transferred) and it left no longer than the window before the
        press, by the device's own clock. The arrival time does not matter, so a late rating is still counted."""
        window = self.hub.policy.rating_window_s
        row = self.db.execute("SELECT id FROM tickets WHERE id=?", (ticket_id,)).fetchone()
        if row is None:
            raise QueueRefused("nothing_served", f"ticket {ticket_id} is not known to this hub")
        ticket = self._ticket(ticket_id)
        last = self.db.execute("SELECT kind, officer FROM events WHERE ticket_id=? AND counter=? ORDER BY id DESC "
                               "LIMIT 1", (ticket_id, counter)).fetchone()
        if last is None or last[0] not in ("serving", "done", "transferred"):
            raise QueueRefused("nothing_served", f"ticket {ticket['label']} was not served at counter {counter}")
        if last[0] != "serving" and left_s > window:
            raise QueueRefused("window_closed", f"ticket {ticket['label']} left counter {counter} {left_s:.0f} s "
                                                f"before the press; the window is {window} s")
        return ticket, last[1]

    def _rated_ticket(self, now: float, counter: int) -> tuple[dict[str, Any], str | None]:
        """The ticket at the counter now (being served), else the one that left it within the rating window."""
        state = self._counter(counter)
        window = self.hub.policy.rating_window_s
        if state["ticket_id"] is not None:
            ticket = self._ticket(state["ticket_id"])
            if ticket["status"] == "serving":
                return ticket, ticket["officer"]
        last = self.db.execute("SELECT last_ticket_id, last_at, last_officer FROM counters WHERE id=?",
                               (counter,)).fetchone()
        if last[0] is None:
            raise QueueRefused("nothing_served", f"no ticket has been served at counter {counter} yet")
        if now - last[1] > window:
            raise QueueRefused("window_closed", f"the last ticket at counter {counter} left more than {window} s ago")
        return self._ticket(last[0]), last[2]
