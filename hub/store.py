# The hub's SQLite database: schema, WAL with full sync, repair on open, transactions.
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from bus.boot_clock import MARKS
from bus.reset import ResetSpec
from bus.sqlite_repair import Repair, durable_connection, open_checked
from hub.config import HubSection
from hub.errors import HubError

# The hub's tables in SQL, the one statement of their shape. A database from an earlier version gets the columns
# and indexes it lacks when the hub opens it (`_upgrade`); nothing is dropped but an index replaced by a better one.
TABLES = """
CREATE TABLE IF NOT EXISTS "tickets" (
   "id" INTEGER PRIMARY KEY, "day" TEXT NOT NULL, "issued_service" TEXT NOT NULL, "number" INTEGER NOT NULL,
   "label" TEXT NOT NULL, "service" TEXT NOT NULL, "priority" TEXT, "status" TEXT NOT NULL,
   "issued_at" REAL NOT NULL, "queue_at" REAL NOT NULL, "called_at" REAL, "served_at" REAL, "done_at" REAL,
   "counter" INTEGER, "officer" TEXT, "recalls" INTEGER DEFAULT 0, "skips" INTEGER DEFAULT 0,
   "transferred_from" TEXT, "device" TEXT, "offline" INTEGER DEFAULT 0, "procedure" TEXT, "service_work_s" REAL);
CREATE TABLE IF NOT EXISTS "events" (
   "id" INTEGER PRIMARY KEY, "ticket_id" INTEGER, "day" TEXT, "kind" TEXT, "at" REAL, "counter" INTEGER,
   "officer" TEXT, "detail" TEXT);
CREATE TABLE IF NOT EXISTS "counters" (
   "id" INTEGER PRIMARY KEY, "status" TEXT, "officer" TEXT, "ticket_id" INTEGER, "priority_streak" INTEGER DEFAULT 0,
   "updated" REAL, "last_ticket_id" INTEGER, "last_at" REAL, "last_officer" TEXT);
CREATE TABLE IF NOT EXISTS "ratings" (
   "ticket_id" INTEGER, "counter" INTEGER, "day" TEXT, "service" TEXT, "procedure" TEXT, "officer" TEXT,
   "level" INTEGER, "scale" INTEGER, "reasons" TEXT, "at" REAL, "version" INTEGER, "visits" INTEGER,
   "upstream" INTEGER, PRIMARY KEY ("ticket_id", "counter"));
CREATE TABLE IF NOT EXISTS "handled" (
   "device" TEXT, "boot" TEXT, "seq" INTEGER, "at" REAL, "reply_type" TEXT, "reply" TEXT,
   PRIMARY KEY ("device", "boot", "seq"));
CREATE TABLE IF NOT EXISTS "settings" (
   "version" INTEGER PRIMARY KEY, "kind" TEXT NOT NULL, "data" TEXT NOT NULL, "by" TEXT NOT NULL, "device" TEXT,
   "at" REAL NOT NULL);
CREATE TABLE IF NOT EXISTS "secrets" ("name" TEXT PRIMARY KEY, "value" BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS "upstream_versions" (
   "day" TEXT, "service" TEXT, "version" INTEGER, "digest" TEXT, PRIMARY KEY ("day", "service"));
CREATE TABLE IF NOT EXISTS "line_counts" (
   "day" TEXT, "service" TEXT, "waiting" INTEGER NOT NULL, PRIMARY KEY ("day", "service"));
""" + MARKS
# How many tickets wait for each service each day (status 'issued'), kept by SQLite itself in the transaction that
# changes a ticket, whatever the statement: the count of tickets ahead of a new one (hub/line.py) and the board's
# waiting counts read it instead of counting the line row by row.
TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS line_joined AFTER INSERT ON tickets WHEN NEW.status = 'issued' BEGIN
   INSERT INTO line_counts VALUES (NEW.day, NEW.service, 1)
      ON CONFLICT(day, service) DO UPDATE SET waiting = waiting + 1;
END;
CREATE TRIGGER IF NOT EXISTS line_left AFTER DELETE ON tickets WHEN OLD.status = 'issued' BEGIN
   UPDATE line_counts SET waiting = waiting - 1 WHERE day = OLD.day AND service = OLD.service;
END;
CREATE TRIGGER IF NOT EXISTS line_changed AFTER UPDATE OF status, day, service ON tickets
      WHEN OLD.status = 'issued' OR NEW.status = 'issued' BEGIN
   UPDATE line_counts SET waiting = waiting - 1
      WHERE OLD.status = 'issued' AND day = OLD.day AND service = OLD.service;
   INSERT INTO line_counts SELECT NEW.day, NEW.service, 1 WHERE NEW.status = 'issued'
      ON CONFLICT(day, service) DO UPDATE SET waiting = waiting + 1;
END;
"""
COUNT_LINES = """
DELETE FROM line_counts;
INSERT INTO line_counts SELECT day, service, COUNT(*) FROM tickets WHERE status = 'issued' GROUP BY day, service;
"""
INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS "idx_tickets_day_issued_service_number"
    ON "tickets" ("day", "issued_service", "number");
DROP INDEX IF EXISTS "idx_tickets_status_day_service_queue_at";
CREATE INDEX IF NOT EXISTS tickets_line ON tickets(status, day, service, priority IS NULL, queue_at);
CREATE INDEX IF NOT EXISTS "idx_tickets_service_status_done_at" ON "tickets" ("service", "status", "done_at");
CREATE INDEX IF NOT EXISTS "idx_events_day_kind" ON "events" ("day", "kind");
CREATE INDEX IF NOT EXISTS "idx_events_day_counter_kind" ON "events" ("day", "counter", "kind")
    WHERE "counter" IS NOT NULL;
CREATE INDEX IF NOT EXISTS "idx_events_ticket_id" ON "events" ("ticket_id");
CREATE INDEX IF NOT EXISTS "idx_ratings_day" ON "ratings" ("day");
CREATE INDEX IF NOT EXISTS "idx_handled_at" ON "handled" ("at");
"""
CACHE_KIB = 500  # SQLite's page cache (default 2,000): the day's line stays in it; the rest is in the OS's cache
RECENT_SCAN = 4  # the board's latest calls are found among this many times as many call events (recalls repeat)
HANDLED_KEEP_S = 7 * 86400  # how long the answer to a handled request is kept for resends (docs/contract.md)


def open_db(path: str | Path) -> sqlite3.Connection:
    """Opens (creating if needed) the hub database in WAL mode with synchronous=FULL: a committed ticket
    survives kill -9 and power loss. A damaged file is repaired as `open_repaired` describes."""
    return open_repaired(path)[0]


def open_repaired(path: str | Path) -> tuple[sqlite3.Connection, Repair | None]:
    """`open_db`, also saying whether the file was damaged and what its repair kept (bus/sqlite_repair.py). A file
    that cannot be opened at all (no such folder and none can be made, no permission, read-only disk) is a HubError
    naming it."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        db, repair = open_checked(path, _schema, _connect)
        if repair is not None:  # the copied tickets were counted as they came; the copied counts may be stale
            db.executescript(COUNT_LINES)
        return db, repair
    except (OSError, sqlite3.Error) as exc:
        raise HubError(f"{path}: cannot open the hub database: {exc}") from exc


def _connect(path: Path) -> sqlite3.Connection:
    conn = durable_connection(path)
    conn.execute("PRAGMA busy_timeout=5000")  # `motcua stats` may read the file while the hub writes
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    return conn


def _schema(db: sqlite3.Connection) -> None:
    counted = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'line_counts'").fetchone() is not None
    db.executescript(TABLES)
    _upgrade(db)
    db.executescript(INDEXES + TRIGGERS)
    if not counted:  # a database from before the counts were kept: counted once, then kept by the triggers
        db.executescript(COUNT_LINES)


def _upgrade(db: sqlite3.Connection) -> None:
    """Adds to each table the columns TABLES has and the file lacks (a database written by an earlier version),
    with their type and default; rows already there get the default or NULL."""
    model = sqlite3.connect(":memory:")
    model.executescript(TABLES)
    for (table,) in model.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
        present = {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')}
        for _, name, kind, _, default, _ in model.execute(f'PRAGMA table_info("{table}")').fetchall():
            if name not in present:
                db.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {kind}'
                           + (f" DEFAULT {default}" if default is not None else ""))
    model.close()


def records(db: sqlite3.Connection, sql: str, params: tuple | list = ()) -> Iterator[dict[str, Any]]:
    """The rows of a query as dicts by column name."""
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def prune_handled(db: sqlite3.Connection, now: float) -> int:
    """Forgets the answers to requests handled more than HANDLED_KEEP_S ago; returns how many went."""
    return db.execute("DELETE FROM handled WHERE at < ?", (now - HANDLED_KEEP_S,)).rowcount


def next_stats_version(db: sqlite3.Connection, day: str, service: str, digest: str) -> int | None:
    """The version to send a (day, service) statistics record as, now that its figures hash to `digest`, and records
    it; None when the figures are unchanged since the last version sent."""
    prev = db.execute("SELECT version, digest FROM upstream_versions WHERE day=? AND service=?",
                      (day, service)).fetchone()
    if prev and prev[1] == digest:
        return None
    version = (prev[0] + 1) if prev else 1
    db.execute("INSERT INTO upstream_versions(day, service, version, digest) VALUES (?,?,?,?) "
               "ON CONFLICT(day, service) DO UPDATE SET version=excluded.version, digest=excluded.digest",
               (day, service, version, digest))
    return version


def recent_calls(db: sqlite3.Connection, day: str, limit: int) -> list[tuple[str, float, int, str, str]]:
    """(event kind, time, counter, label, service) of the day's latest calls, newest first, each ticket once at its
    latest call or recall: a number recalled three times for an absent citizen must not push the others off the
    board's list (a recall or a call at the counter it was transferred to moves it to the top). Read along the
    (day, kind) index one kind at a time, newest first, so a busy day costs no sort of all its calls."""
    rows = []
    for kind in ("called", "recalled"):
        rows += db.execute(
            "SELECT e.id, e.ticket_id, e.kind, e.at, e.counter, t.label, t.service FROM events e "
            "JOIN tickets t ON t.id = e.ticket_id WHERE e.day = ? AND e.kind = ? ORDER BY e.id DESC LIMIT ?",
            (day, kind, limit * RECENT_SCAN)).fetchall()
    rows.sort(reverse=True)
    latest: dict[int, tuple[str, float, int, str, str]] = {}
    for _, ticket, kind, at, counter, label, service in rows:
        latest.setdefault(ticket, (kind, at, counter, label, service))
        if len(latest) == limit:
            break
    return list(latest.values())


def waiting_counts(db: sqlite3.Connection, day: str) -> dict[str, int]:
    """Tickets waiting per service on `day`, as the `line_counts` triggers keep them (not counted row by row)."""
    return dict(db.execute("SELECT service, waiting FROM line_counts WHERE day=? AND waiting > 0", (day,)).fetchall())


def days_up_to(db: sqlite3.Connection, day: str, limit: int) -> list[str]:
    """The latest `limit` days with tickets, up to `day`, newest first."""
    return [r[0] for r in db.execute("SELECT DISTINCT day FROM tickets WHERE day <= ? ORDER BY day DESC LIMIT ?",
                                     (day, limit))]


def issued_on(path: Path, day: str) -> int:
    """Tickets issued on `day`, read on a connection of its own, read-only (the hub's worker owns its own)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return db.execute("SELECT COUNT(*) FROM tickets WHERE day = ?", (day,)).fetchone()[0]


def reset_spec(hub: HubSection, refuse: Callable[[], str | None] = lambda: None) -> ResetSpec:
    """The hub's factory reset: its upstream outbox emptied first, then wiped; its database (the ward's tickets,
    settings and history) archived under archive/, and a fresh one made at the start."""
    return ResetSpec(wipe=("upstream-outbox.db*",), archive=(f"{hub.database}*",), refuse=refuse)

