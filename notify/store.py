# The notifier's SQLite file: who asked to be texted for which ticket, and each text queued until the gateway took it.
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bus.sqlite_repair import open_checked
from bus.transaction import storage_error, transaction
from notify.gateways import Outgoing

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    id INTEGER PRIMARY KEY, day TEXT NOT NULL, ticket_id INTEGER NOT NULL, label TEXT NOT NULL,
    service TEXT NOT NULL, phone TEXT NOT NULL, lang TEXT NOT NULL, at REAL NOT NULL, UNIQUE (day, ticket_id));
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY, subscription INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
    fields TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL, sent_at REAL, reference TEXT, error TEXT, UNIQUE (subscription, kind));
CREATE INDEX IF NOT EXISTS messages_due ON messages (state, next_at);
CREATE TABLE IF NOT EXISTS counts (day TEXT NOT NULL, what TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (day, what));
"""


class Store:
    """Each change is one committed transaction (WAL, synchronous=FULL): a subscription taken is kept over kill -9,
    a message is queued at most once per ticket and kind (the UNIQUE constraint), and marked sent only after the
    gateway took it. Used from the bus thread and the sender thread, one at a time."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db, self.repair = open_checked(path, lambda db: db.executescript(SCHEMA))
        self.db.execute("PRAGMA secure_delete=ON")  # a deleted phone number is overwritten, not left in a free page
        self._lock = threading.Lock()
        # texts the gateway took that the file could not yet mark sent (a full or read-only disk): never due again
        self._unrecorded: dict[int, tuple[str, str, float]] = {}  # id -> (reference, day, sent at)

    def close(self) -> None:
        with self._lock:
            self.db.close()

    # -- subscriptions ---------------------------------------------------------------------------------------
    def subscribe(self, day: str, ticket: dict[str, Any], phone: str, lang: str, now: float) -> bool:
        """Keeps the ticket's phone number for the day; False when the ticket already has one (a resend)."""
        with self._lock, transaction(self.db):
            cur = self.db.execute(
                "INSERT OR IGNORE INTO subscriptions(day, ticket_id, label, service, phone, lang, at) "
                "VALUES (?,?,?,?,?,?,?)", (day, ticket["ticket_id"], ticket["label"], ticket["service"], phone, lang,
                                           now))
            if cur.rowcount:
                self._count(day, "subscribed")
            return bool(cur.rowcount)

    def following(self, day: str, service: str | None = None, ticket_id: int | None = None) -> list[dict[str, Any]]:
        """Today's subscriptions (of `service`, or of one ticket), each with the kinds of message already queued
        for it. Read along the (day, ticket) key: a ticket event costs one row, not the day's list."""
        where, args = "s.day = ?", [day]
        if service:
            where, args = where + " AND s.service = ?", [*args, service]
        if ticket_id is not None:
            where, args = where + " AND s.ticket_id = ?", [*args, ticket_id]
        sql = ("SELECT s.id, s.ticket_id, s.label, s.service, s.lang, GROUP_CONCAT(m.kind) FROM subscriptions s "
               f"LEFT JOIN messages m ON m.subscription = s.id WHERE {where} GROUP BY s.id")
        with self._lock:
            rows = self.db.execute(sql, args).fetchall()
        return [{"id": r[0], "ticket_id": r[1], "label": r[2], "service": r[3], "lang": r[4],
                 "queued": set((r[5] or "").split(",")) - {""}} for r in rows]

    def moved(self, day: str, ticket_id: int, service: str) -> None:
        """A transferred ticket: its texts follow it into its new service's line."""
        with self._lock:
            self.db.execute("UPDATE subscriptions SET service=? WHERE day=? AND ticket_id=?", (service, day,
                                                                                               ticket_id))

    # -- the queue -------------------------------------------------------------------------------------------
    def queue(self, subscription: int, kind: str, text: str, fields: dict[str, Any], now: float) -> bool:
        """Queues one text; False when this ticket already has one of this kind (never two)."""
        with self._lock:
            cur = self.db.execute("INSERT OR IGNORE INTO messages(subscription, kind, text, fields, next_at) "
                                  "VALUES (?,?,?,?,?)", (subscription, kind, text,
                                                         json.dumps(fields, ensure_ascii=False), now))
            return bool(cur.rowcount)

    def due(self, now: float, limit: int = 20) -> list[Outgoing]:
        with self._lock:
            if self._unrecorded:
                self._record_sent()
            rows = self.db.execute(
                "SELECT m.id, s.phone, m.kind, m.text, m.fields FROM messages m JOIN subscriptions s "
                "ON s.id = m.subscription WHERE m.state = 'queued' AND m.next_at <= ? ORDER BY m.id LIMIT ?",
                (now, limit + len(self._unrecorded))).fetchall()
            rows = [r for r in rows if r[0] not in self._unrecorded][:limit]
        return [Outgoing(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def sent(self, message_id: int, reference: str, day: str, now: float) -> None:
        """Marks a text sent. A disk that refuses the write (full, read-only) does not make it due again — the
        citizen has it: it is kept in memory as sent and written at the next chance (a restart before then sends it
        once more)."""
        with self._lock:
            self._unrecorded[message_id] = (reference, day, now)
            if not self._record_sent():
                log.error("notify: %d sent text(s) not yet marked sent in the file (the disk refused the write); "
                          "none is sent again", len(self._unrecorded))

    def _record_sent(self) -> bool:
        """Writes the texts sent but not yet marked so (the lock held); False when the disk refused."""
        try:
            with transaction(self.db):
                for message_id, (reference, day, at) in self._unrecorded.items():
                    self.db.execute("UPDATE messages SET state='sent', sent_at=?, reference=?, error=NULL, "
                                    "attempts=attempts+1 WHERE id=?", (at, reference, message_id))
                    self._count(day, "sent")
        except sqlite3.Error as exc:
            if not storage_error(exc):
                raise
            return False  # the disk, not our SQL: kept in memory, tried again each round
        self._unrecorded.clear()
        return True

    def failed(self, message_id: int, error: str, now: float, wait_for: Callable[[int], float]) -> float:
        """Records a failed try; the message is tried again after `wait_for(tries so far)` seconds, returned."""
        with self._lock, transaction(self.db):
            tries = self.db.execute("SELECT attempts + 1 FROM messages WHERE id=?", (message_id,)).fetchone()[0]
            wait = wait_for(tries)
            self.db.execute("UPDATE messages SET attempts=?, error=?, next_at=? WHERE id=?",
                            (tries, error[:300], now + wait, message_id))
        return wait

    def waiting(self) -> int:
        with self._lock:
            return self.db.execute("SELECT COUNT(*) FROM messages WHERE state='queued'").fetchone()[0] \
                - len(self._unrecorded)

    # -- the end of the day ----------------------------------------------------------------------------------
    def forget_before(self, day: str) -> int:
        """Deletes every phone number (and its texts) of the days before `day`; returns how many numbers went.
        What was not sent by then is counted as unsent: a text about yesterday's ticket helps nobody."""
        with self._lock, transaction(self.db):
            for old_day, n in self.db.execute(
                    "SELECT s.day, COUNT(*) FROM messages m JOIN subscriptions s ON s.id = m.subscription "
                    "WHERE s.day < ? AND m.state = 'queued' GROUP BY s.day", (day,)).fetchall():
                self._count(old_day, "unsent", n)
            self.db.execute("DELETE FROM messages WHERE subscription IN (SELECT id FROM subscriptions WHERE day < ?)",
                            (day,))
            gone = self.db.execute("DELETE FROM subscriptions WHERE day < ?", (day,)).rowcount
        with self._lock:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the deleted numbers leave the log file too
        return gone

    def counts(self, day: str) -> dict[str, int]:
        with self._lock:
            return dict(self.db.execute("SELECT what, n FROM counts WHERE day=?", (day,)).fetchall())

    def _count(self, day: str, what: str, n: int = 1) -> None:
        self.db.execute("INSERT INTO counts(day, what, n) VALUES (?,?,?) ON CONFLICT(day, what) DO UPDATE SET "
                        "n = n + excluded.n", (day, what, n))
