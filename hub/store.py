# The hub's SQLite database (through sqlite-utils): schema, WAL with full sync, repair on open, transactions.
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from bus.sqlite_repair import Repair, durable_connection, open_checked
from hub.errors import HubError

TICKET_COLUMNS = {
    "id": int, "day": str, "issued_service": str, "number": int, "label": str, "service": str,
    "priority": str, "status": str, "issued_at": float, "queue_at": float, "called_at": float,
    "served_at": float, "done_at": float, "counter": int, "officer": str, "recalls": int, "skips": int,
    "transferred_from": str, "device": str, "offline": int, "procedure": str,
}
HANDLED_KEEP_S = 7 * 86400  # how long the answer to a handled request is kept for resends (docs/contract.md)


def open_db(path: str | Path) -> Database:
    """Opens (creating if needed) the hub database in WAL mode with synchronous=FULL: a committed ticket
    survives kill -9 and power loss. A damaged file is repaired as `open_repaired` describes."""
    return open_repaired(path)[0]


def open_repaired(path: str | Path) -> tuple[Database, Repair | None]:
    """`open_db`, also saying whether the file was damaged and what its repair kept (bus/sqlite_repair.py). A file
    that cannot be opened at all (no such folder and none can be made, no permission, read-only disk) is a HubError
    naming it."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn, repair = open_checked(path, _schema, _connect)
    except (OSError, sqlite3.Error) as exc:
        raise HubError(f"{path}: cannot open the hub database: {exc}") from exc
    return Database(conn), repair


def _connect(path: Path) -> sqlite3.Connection:
    conn = durable_connection(path)
    conn.execute("PRAGMA busy_timeout=5000")  # `motcua stats` may read the file while the hub writes
    return conn


def _schema(conn: sqlite3.Connection) -> None:
    db = Database(conn)
    _create(db)
    _add_missing_columns(db)


COLUMNS = {
    "tickets": TICKET_COLUMNS,
    "counters": {"last_ticket_id": int, "last_at": float, "last_officer": str},
    "ratings": {"visits": int},
}


def _add_missing_columns(db: Database) -> None:
    """Upgrades a database written by an earlier version: new columns are added, nothing is dropped."""
    for table, columns in COLUMNS.items():
        present = db[table].columns_dict
        for name, kind in columns.items():
            if name not in present:
                db[table].add_column(name, kind)


def _create(db: Database) -> None:
    db["tickets"].create(TICKET_COLUMNS, pk="id", if_not_exists=True,
                         not_null={"day", "issued_service", "number", "label", "service", "status", "issued_at",
                                   "queue_at"},
                         defaults={"recalls": 0, "skips": 0, "offline": 0})
    db["tickets"].create_index(["day", "issued_service", "number"], unique=True, if_not_exists=True)
    db.execute("DROP INDEX IF EXISTS idx_tickets_status_day_service_queue_at")  # before tickets_line (hub/line.py)
    db.execute("CREATE INDEX IF NOT EXISTS tickets_line ON tickets(status, day, service, priority IS NULL, queue_at)")
    db["tickets"].create_index(["service", "status", "done_at"], if_not_exists=True)
    db["events"].create({"id": int, "ticket_id": int, "day": str, "kind": str, "at": float, "counter": int,
                         "officer": str, "detail": str}, pk="id", if_not_exists=True)
    db["events"].create_index(["day", "kind"], if_not_exists=True)
    db["events"].create_index(["ticket_id"], if_not_exists=True)  # a late rating looks up its ticket's last event
    db["counters"].create({"id": int, "status": str, "officer": str, "ticket_id": int, "priority_streak": int,
                           "updated": float, "last_ticket_id": int, "last_at": float, "last_officer": str},
                          pk="id", if_not_exists=True, defaults={"priority_streak": 0})
    db["ratings"].create({"ticket_id": int, "counter": int, "day": str, "service": str, "procedure": str,
                          "officer": str, "level": int, "scale": int, "reasons": str, "at": float, "version": int,
                          "visits": int}, pk=("ticket_id", "counter"), if_not_exists=True)
    db["ratings"].create_index(["day"], if_not_exists=True)
    db["handled"].create({"device": str, "boot": str, "seq": int, "at": float, "reply_type": str, "reply": str},
                         pk=("device", "boot", "seq"), if_not_exists=True)
    db["handled"].create_index(["at"], if_not_exists=True)
    db["settings"].create({"version": int, "kind": str, "data": str, "by": str, "device": str, "at": float},
                          pk="version", if_not_exists=True, not_null={"kind", "data", "by", "at"})
    db["upstream_versions"].create({"day": str, "service": str, "version": int, "digest": str}, pk=("day", "service"),
                                   if_not_exists=True)


@contextmanager
def transaction(db: Database) -> Iterator[None]:
    """One atomic state change: BEGIN IMMEDIATE ... COMMIT, rolled back on any exception. Inside a transaction
    already open (the hub's group commit) it is a savepoint, so a failure undoes only its own change."""
    if db.conn.in_transaction:
        db.execute("SAVEPOINT change")
        try:
            yield
        except BaseException:
            if db.conn.in_transaction:  # SQLite itself rolls everything back on some errors (disk full, I/O)
                db.execute("ROLLBACK TO change")
                db.execute("RELEASE change")
            raise
        db.execute("RELEASE change")
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:  # also when COMMIT itself failed (disk full): never leave it open
            db.execute("ROLLBACK")
        raise


def prune_handled(db: Database, now: float) -> int:
    """Forgets the answers to requests handled more than HANDLED_KEEP_S ago; returns how many went."""
    return db.execute("DELETE FROM handled WHERE at < ?", (now - HANDLED_KEEP_S,)).rowcount


def next_stats_version(db: Database, day: str, service: str, digest: str) -> int | None:
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


def recent_calls(db: Database, day: str, limit: int) -> list[tuple[str, float, int, str, str]]:
    """(event kind, time, counter, label, service) of the day's latest calls and recalls, newest first."""
    return db.execute(
        "SELECT e.kind, e.at, e.counter, t.label, t.service FROM events e JOIN tickets t ON t.id = e.ticket_id "
        "WHERE e.day = ? AND e.kind IN ('called', 'recalled') ORDER BY e.id DESC LIMIT ?", (day, limit)).fetchall()


def waiting_counts(db: Database, day: str) -> dict[str, int]:
    """Tickets waiting per service on `day`."""
    return dict(db.execute("SELECT service, COUNT(*) FROM tickets WHERE status='issued' AND day=? GROUP BY service",
                           (day,)).fetchall())


def days_up_to(db: Database, day: str, limit: int) -> list[str]:
    """The latest `limit` days with tickets, up to `day`, newest first."""
    return [r[0] for r in db.execute("SELECT DISTINCT day FROM tickets WHERE day <= ? ORDER BY day DESC LIMIT ?",
                                     (day, limit))]
