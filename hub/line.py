# The waiting line: who waits for which services, in calling order, read along the tickets_line index.
from __future__ import annotations

import heapq
import itertools
import sqlite3
from typing import Any

# Calling order within a service: priority tickets first, then by place in line (a skipped or transferred ticket's
# queue_at), then by issue. The index tickets_line (hub/store.py) holds this order, so each read below stops after
# the rows it needs instead of sorting the whole day's line.
ORDER = ("priority IS NULL", "queue_at")
_WHERE = "status='issued' AND day=? AND service=?"
BEHIND_SCAN = 64  # tickets behind one counted before its line's length is used instead (see `ahead`)
LIVE = ("held", "issued", "called", "serving")  # statuses of a ticket still in the ward


def any_live(db: sqlite3.Connection, day: str) -> bool:
    """Whether a ticket of `day` is still in the ward (being printed, waiting, called or served)."""
    return db.execute(f"SELECT 1 FROM tickets WHERE status IN ({','.join('?' * len(LIVE))}) AND day=? LIMIT 1",
                      (*LIVE, day)).fetchone() is not None


def waiting(db: sqlite3.Connection, day: str, services: list[str], columns: tuple[str, ...], limit: int) -> list[tuple]:
    """The first `limit` tickets waiting for any of `services`, in calling order: `columns` of each. Reads at most
    `limit` rows per service (merged here), however long the line."""
    cols = ", ".join((*columns, *ORDER, "id"))
    sql = f"SELECT {cols} FROM tickets WHERE {_WHERE} ORDER BY {', '.join(ORDER)}, id LIMIT ?"
    width = len(columns)
    lines = [db.execute(sql, (day, service, limit)).fetchall() for service in services]
    merged = heapq.merge(*lines, key=lambda row: row[width:])
    return [row[:width] for row in itertools.islice(merged, limit)]


def heads(db: sqlite3.Connection, day: str, services: list[str], columns: tuple[str, ...]) -> list[tuple]:
    """The longest-waiting priority ticket and the longest-waiting regular ticket of each service: every ticket the
    call policy (hub/priority.py) could choose, two index reads per service."""
    sql = (f"SELECT {', '.join(columns)} FROM tickets WHERE {_WHERE} AND ({ORDER[0]}) = ? "
           f"ORDER BY queue_at, id LIMIT 1")
    rows = (db.execute(sql, (day, service, regular)).fetchone() for service in services for regular in (0, 1))
    return [row for row in rows if row is not None]


def ahead(db: sqlite3.Connection, ticket: dict[str, Any], scan: int = BEHIND_SCAN) -> int:
    """Tickets of the same service called before this one: every waiting priority ticket when this one has none,
    then those earlier in line. SQLite counts along an index row by row, so each count below is a range of the
    index (`_range`) and the longest is avoided: for a regular ticket, those behind it (at most `scan`, from the
    line's end) are taken from the line's length, which the `line_counts` triggers keep (hub/store.py) — a newly
    issued ticket, last in line, costs the same however long the line. Further forward, or with priority, the
    tickets ahead are counted directly. `ticket` is the row as the database holds it now."""
    key = (ticket["day"], ticket["service"])
    regular, mine = int(ticket["priority"] is None), (ticket["queue_at"], ticket["id"])
    if regular:
        behind = db.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM tickets WHERE {_range('>')} LIMIT ?)",
                            (*key, 1, *mine, scan)).fetchone()[0]
        if behind < scan:
            length = db.execute("SELECT waiting FROM line_counts WHERE day=? AND service=?", key).fetchone()
            itself = ticket["status"] == "issued"  # counted in its own line's length when it waits in it
            return (length[0] if length else 0) - behind - itself
    earlier = db.execute(f"SELECT COUNT(*) FROM tickets WHERE {_range('<')}", (*key, regular, *mine)).fetchone()[0]
    if not regular:
        return earlier
    return earlier + db.execute(f"SELECT COUNT(*) FROM tickets WHERE {_WHERE} AND ({ORDER[0]}) = 0", key).fetchone()[0]


def _range(side: str) -> str:
    """Waiting tickets of a day's service, priority or not, before ('<') or after ('>') a place in line: written so
    that SQLite reads a range of the tickets_line index rather than the service's whole line."""
    return f"{_WHERE} AND ({ORDER[0]}) = ? AND (queue_at, id) {side} (?, ?)"
