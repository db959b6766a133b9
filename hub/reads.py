# Requests that only read the hub's database: statistics for the console, and a phone page's ticket by its token.
from __future__ import annotations

from typing import Any

import orjson

from bus import packed
from bus.errors import TooLarge
from bus.messages import LINE_SHOWN, MAX_PAYLOAD, STATS_RESULT_ROWS
from hub import line, tokens
from hub import stats as ward_stats
from hub.queue import Queue
from hub.retained import RetainedStates

STATS_BYTES = MAX_PAYLOAD - 4096  # the rows of one stats.result, deflated or not: with its envelope within 64 KiB
LINE_INTERVAL = 0.5  # a service's line state goes out at most this often: a phone's place may lag half a second,
# its call never does (ticket events go at once); docs/performance.md measures the cost to the hub


def answer(queue: Queue, op: str, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The reply (type, body) to a read-only request `op` ("stats" or "lookup")."""
    if op == "stats":
        rows = ward_stats.compute(queue.db, queue.hub, args["day_from"], args["day_to"], args["by"],
                                  args.get("per_day", False))
        kept = fitting(rows)
        return "stats.result", {"rows": kept, "truncated": len(kept) < len(rows)}
    today, tid = queue.today(), tokens.ticket_id(args["token"])
    row = queue.db.execute("SELECT id FROM tickets WHERE id=? AND day=? AND status != 'void'",
                           (tid, today)).fetchone() if tid is not None else None
    if row is None or not tokens.valid(queue.token_key, args["token"], today):  # wrong, or of another day
        return "error", {"code": "unknown_ticket", "reason": "no ticket of today has this token"}
    return "ticket.found", {"ticket": queue.ticket_body(row[0])}


def fitting(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows one reply carries: all of them up to the contract's 400 (a year by procedure or officer can hold
    more groups than that), else the busiest (most tickets issued, then served), in their own order. A reply past
    64 KiB goes deflated (bus/packed.py: 400 rows take about 19 KB); should even that not fit, fewer are kept — a
    reply the broker or the console would refuse shows nothing at all."""
    kept = rows if len(rows) <= STATS_RESULT_ROWS else _busiest(rows, STATS_RESULT_ROWS)
    while len(kept) > 1 and not _fits(kept):
        kept = _busiest(kept, len(kept) * 3 // 4)
    return kept


def _busiest(rows: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    chosen = sorted(range(len(rows)), key=lambda i: (-rows[i]["issued"], -rows[i]["served"], i))[:count]
    return [rows[i] for i in sorted(chosen)]


def _fits(rows: list[dict[str, Any]]) -> bool:
    data = orjson.dumps(rows)
    if len(data) <= STATS_BYTES:
        return True
    try:
        return len(packed.pack(data)) <= STATS_BYTES
    except TooLarge:
        return False


def line_state(queue: Queue, service: str) -> dict[str, Any]:
    """What a phone following a ticket of `service` needs: the waiting tickets in calling order (its place is its
    index) and what the service's waits are estimated from. Read along the line's index, at most LINE_SHOWN rows."""
    day = queue.today()
    ids = [row[0] for row in line.waiting(queue.db, day, [service], ("id",), LINE_SHOWN + 1)]
    return {"service": service, "day": day, "waiting": ids[:LINE_SHOWN], "more": len(ids) > LINE_SHOWN,
            "pace": queue.pace(service)}


class LineStates:
    """The line states the phone pages and the notifier follow (retained, one topic per service). A service whose
    line changed is marked `dirty`; each call of `publish` (every turn of the hub's worker) sends at most one, the
    longest-waiting whose last went out LINE_INTERVAL ago or more: one line (at most LINE_SHOWN rows, about a
    millisecond) per turn, never all of them at once in front of the requests."""

    def __init__(self, retained: RetainedStates, queue: Queue) -> None:
        self.retained, self.queue = retained, queue
        self.dirty: set[str] = set()
        self._at: dict[str, float] = {}

    def all(self) -> None:
        """Every service's again, at the next chances (after reconnecting, at midnight, after an admin's change)."""
        self.dirty, self._at = set(self.queue.services), {}

    def publish(self, now: float) -> None:
        due = [s for s in self.dirty if now - self._at.get(s, 0.0) >= LINE_INTERVAL]
        if not due:
            return
        service = min(due, key=lambda s: self._at.get(s, 0.0))
        self.dirty.discard(service)
        if service in self.queue.services:
            self.retained.publish(self.retained.bus.topics.line_state(service), "line.state",
                                  line_state(self.queue, service))
        self._at[service] = now
