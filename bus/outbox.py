# Durable outbox: messages that must not be lost wait in SQLite until the receiver's application-level ack.
from __future__ import annotations

import dataclasses
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bus import messages
from bus.boot_clock import boot_id, since_boot
from bus.errors import OutboxError
from bus.sqlite_repair import open_checked
from bus.transaction import transaction

if TYPE_CHECKING:
    from bus.messages import Message

log = logging.getLogger(__name__)
HELD_MAX = 5000  # entries kept in memory while the disk refuses writes; beyond, `add` refuses (OutboxError)
EXPORT_SUFFIX = ".export.jsonl"  # beside the outbox: entries a factory reset took out, sent again by the next start

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    corr TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created REAL NOT NULL,
    next_try REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    made_boot TEXT NOT NULL DEFAULT '',
    made_up REAL
);
CREATE INDEX IF NOT EXISTS outbox_next_try ON outbox(next_try);
"""
MADE = {"made_boot": "TEXT NOT NULL DEFAULT ''", "made_up": "REAL"}  # the boot and time since boot an entry was made
# in, so that it is sent saying its age (`messages.aged`); added to an outbox of an earlier release when it opens


def _schema(db: sqlite3.Connection) -> None:
    db.executescript(SCHEMA)
    have = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
    for name, kind in MADE.items():
        if name not in have:
            db.execute(f"ALTER TABLE outbox ADD COLUMN {name} {kind}")


@dataclass(frozen=True)
class Entry:
    corr: str
    topic: str
    payload: bytes
    created: float
    attempts: int
    made_up: float | None = None  # the time since boot it was made at, if made in this boot

    def aged(self, uptime: float) -> bytes:
        """The payload to send now, at `uptime` since boot: saying its age where it was made in this boot."""
        if self.made_up is None or uptime < self.made_up:
            return self.payload
        return messages.aged(self.payload, uptime - self.made_up)


class Outbox:
    """A durable queue keyed by correlation id. `add` is committed (fsync) before it returns."""

    def __init__(self, path: str | Path, *, first_retry: float = 5.0, max_retry: float = 60.0,
                 uptime: Callable[[], float] = since_boot, boot: str | None = None) -> None:
        self.path = Path(path)
        self.uptime, self.boot = uptime, boot_id() if boot is None else boot
        self.first_retry = first_retry
        self.max_retry = max_retry
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db, self.repair = open_checked(self.path, _schema)
        except (sqlite3.Error, OSError) as exc:
            raise OutboxError(f"{self.path}: cannot open outbox: {exc}") from exc
        self._held: dict[str, list] = {}  # corr -> [entry, next try]: what a full disk refused, kept in memory
        self._answered: set[str] = set()  # entries answered while a full disk kept them in the file: not sent again
        self.carried = self._take_export()

    @property
    def export_path(self) -> Path:
        return self.path.with_name(self.path.name + EXPORT_SUFFIX)

    def export(self) -> int:
        """Writes every entry to the export file (fsynced; entries already there are kept) for a later Outbox on
        this path to send again under the same ids, and empties the outbox. Returns how many entries it holds."""
        with self._lock:
            rows = self._db.execute("SELECT corr, topic, payload, created FROM outbox ORDER BY created").fetchall()
        lines = [json.dumps({"corr": c, "topic": t, "payload": bytes(p).decode("utf-8", "replace"), "created": at},
                            ensure_ascii=False) for c, t, p, at in rows]
        if not lines:
            return 0
        with self.export_path.open("a", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
            f.flush()
            os.fsync(f.fileno())
        self.ack_many([row[0] for row in rows])
        return len(lines)

    def _take_export(self) -> int:
        """Takes an export file left by a factory reset back in (ids already here are not added twice), then
        removes it. A line that cannot be read is logged and skipped. Returns how many entries came back."""
        path = self.export_path
        if not path.exists():
            return 0
        taken = 0
        with self._lock:
            self._db.execute("BEGIN")
            for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                try:
                    e = json.loads(line)
                    args = (str(e["corr"]), str(e["topic"]), str(e["payload"]).encode("utf-8"), float(e["created"]))
                except (ValueError, KeyError, TypeError):
                    log.error("%s line %d: not an outbox entry; skipped", path, n)
                    continue
                taken += self._db.execute("INSERT OR IGNORE INTO outbox(corr, topic, payload, created, next_try) "
                                          "VALUES (?,?,?,?,0)", args).rowcount
            self._db.execute("COMMIT")
        path.unlink()
        log.info("%s: %d entr(ies) carried over a factory reset will be sent again", self.path, taken)
        return taken

    def add(self, corr: str, topic: str, payload: bytes, now: float | None = None, aged: bool = False) -> None:
        """Stores an entry (committed); one `aged` is sent saying its age (`messages.aged`) while this boot lasts.
        A full or read-only disk does not refuse it: it is held in memory, sent and resent like the rest, and written
        to the file as soon as the disk takes it (`held` says how many wait so)."""
        now = time.time() if now is None else now
        made_up = self.uptime() if aged and self.boot else None
        try:
            self._run("INSERT OR IGNORE INTO outbox(corr, topic, payload, created, next_try, made_boot, made_up) "
                      "VALUES (?,?,?,?,?,?,?)", (corr, topic, payload, now, now, self.boot, made_up))
        except OutboxError as exc:
            if not _refused(exc) or len(self._held) >= HELD_MAX:
                raise
            with self._lock:
                if not self._held:
                    log.error("%s: the disk refuses writes (full or read-only); messages are held in memory "
                              "until it takes them", self.path)
                self._held[corr] = [Entry(corr, topic, payload, now, 0, made_up), now]

    @property
    def held(self) -> int:
        """Entries a full disk keeps in memory only (a power cut now would lose them)."""
        return len(self._held)

    def store_held(self) -> int:
        """Writes what a full disk held in memory to the file, and takes out what was answered meanwhile, as far as
        there is room now; how many entries are left held in memory."""
        with self._lock:
            if self._answered:
                self._remove(list(self._answered))
            for corr, (entry, next_try) in list(self._held.items()):
                try:
                    self._db.execute("INSERT OR IGNORE INTO outbox(corr, topic, payload, created, next_try, attempts, "
                                     "made_boot, made_up) VALUES (?,?,?,?,?,?,?,?)",
                                     (corr, entry.topic, entry.payload, entry.created, next_try, entry.attempts,
                                      self.boot, entry.made_up))
                except sqlite3.Error:
                    break
                del self._held[corr]
                if not self._held:
                    log.info("%s: room on the disk again; every held message is stored", self.path)
            return len(self._held)

    def due(self, now: float | None = None, limit: int = 200) -> list[Entry]:
        now = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute(
                "SELECT corr, topic, payload, created, attempts, CASE WHEN made_boot = ? THEN made_up END "
                "FROM outbox WHERE next_try <= ? ORDER BY created LIMIT ?",
                (self.boot or None, now, limit + len(self._answered))).fetchall()
            if self._answered:
                rows = [row for row in rows if row[0] not in self._answered][:limit]
            held = [entry for entry, next_try in self._held.values() if next_try <= now]
        return [Entry(*row) for row in rows] + held[:max(0, limit - len(rows))]

    def sent(self, corr: str, now: float | None = None) -> None:
        """Records a send attempt and schedules the next one with exponential backoff."""
        self.sent_many([corr], now)

    def sent_many(self, corrs: list[str], now: float | None = None) -> bool:
        """`sent` for a batch, in one transaction (one fsync rather than one per message). False when a full disk
        kept the attempts out of the file: those entries are due again at once (their receivers take each once)."""
        now = time.time() if now is None else now
        with self._lock:
            for corr in corrs:
                if corr in self._held:
                    entry, _ = self._held[corr]
                    delay = min(self.max_retry, self.first_retry * 2 ** min(entry.attempts, 16))
                    self._held[corr] = [dataclasses.replace(entry, attempts=entry.attempts + 1), now + delay]
            try:
                with transaction(self._db):
                    for corr in corrs:
                        row = self._db.execute("SELECT attempts FROM outbox WHERE corr = ?", (corr,)).fetchone()
                        if row is None:
                            continue
                        delay = min(self.max_retry, self.first_retry * 2 ** min(row[0], 16))
                        self._db.execute("UPDATE outbox SET attempts = attempts + 1, next_try = ? WHERE corr = ?",
                                         (now + delay, corr))
            except sqlite3.Error as exc:
                if not _refused(exc):
                    raise OutboxError(f"{self.path}: {exc}") from exc
                log.warning("%s: the disk refuses writes; %d sent message(s) stay due at once", self.path, len(corrs))
                return False
        return True

    def ack(self, corr: str) -> bool:
        """Removes an entry once its receiver acknowledged it; False if it was not (or no longer) here."""
        return self.ack_many([corr]) > 0

    def ack_many(self, corrs: list[str]) -> int:
        """`ack` for a batch, in one transaction; returns how many were still here."""
        with self._lock:
            return self._remove(corrs)

    def _remove(self, corrs: list[str]) -> int:
        """Deletes `corrs` from the file and from memory (the lock held); how many were here and not yet answered.
        A full disk can refuse even a delete: the entries then stay in the file, answered in memory (never sent
        again) until `store_held` finds room."""
        try:
            with transaction(self._db):
                removed = sum(self._db.execute("DELETE FROM outbox WHERE corr = ?", (c,)).rowcount > 0
                              and c not in self._answered for c in corrs)
            self._answered.difference_update(corrs)
        except sqlite3.Error as exc:
            if not _refused(exc):
                raise OutboxError(f"{self.path}: {exc}") from exc
            fresh = {c for c in corrs if c not in self._answered
                     and self._db.execute("SELECT 1 FROM outbox WHERE corr = ?", (c,)).fetchone() is not None}
            if fresh and not self._answered:
                log.error("%s: the disk refuses writes; answered messages stay in the file until it takes them",
                          self.path)
            self._answered |= fresh
            removed = len(fresh)
        return removed + sum(self._held.pop(c, None) is not None for c in corrs)

    def acknowledged_by(self, reply: Message) -> bool:
        """Removes what a reply acknowledges (an `upstream.ack` may list many records in `corrs`); whether it
        acknowledged anything still here."""
        batch = reply.body.get("corrs") if reply.type == "upstream.ack" else None
        if isinstance(batch, list):
            return self.ack_many(batch) > 0
        return self.ack(reply.corr or "")

    def make_all_due(self) -> None:
        """Every entry due now (after a reconnect). A full disk can refuse it: the stored ones then keep their
        backoff (at most `max_retry`)."""
        try:
            self._run("UPDATE outbox SET next_try = 0", ())
        except OutboxError as exc:
            if not _refused(exc):
                raise
            log.warning("%s: the disk refuses writes; stored messages are sent again as their backoff says", self.path)
        with self._lock:
            for held in self._held.values():
                held[1] = 0.0

    def size(self) -> int:
        with self._lock:
            stored = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] - len(self._answered)
            return stored + len(self._held)

    def oldest(self) -> float | None:
        with self._lock:
            stored = next((at for corr, at in self._db.execute(
                "SELECT corr, created FROM outbox ORDER BY created LIMIT ?", (len(self._answered) + 1,))
                if corr not in self._answered), None)
            return min([t for t in (stored, *(e.created for e, _ in self._held.values())) if t is not None],
                       default=None)

    def pump(self, publish: Callable[[list[Entry]], object], connected: threading.Event, stop: threading.Event,
             wake: threading.Event, who: str) -> None:
        """Sends what is due while `connected`, until `stop`, handing `publish` up to 500 entries at a time; `wake`
        makes it look at once (after a reconnect or a new entry). Runs on the client's outbox thread and outlives a
        transient disk or broker error."""
        quiet_until = 0.0  # after a round whose attempts a full disk kept out of the file: no resends before this
        while not stop.is_set():
            wake.wait(0.5)
            wake.clear()
            try:
                if self._held or self._answered:
                    self.store_held()  # every half second: what only memory holds reaches the file soon
                while connected.is_set() and not stop.is_set() and time.monotonic() >= quiet_until:
                    due = self.due(limit=500)
                    if not due:  # nothing to send: no empty round handed to `publish`, nor a transaction for it
                        break
                    publish(due)
                    if not self.sent_many([entry.corr for entry in due]):  # nor were their backoffs kept, so they
                        quiet_until = time.monotonic() + self.max_retry  # wait as long as the longest would have
                        break
                    if len(due) < 500:  # drained what is due; a full batch means more is waiting
                        break
            except Exception:  # service edge: the pump must outlive a transient error; logged, retried
                log.exception("%s: outbox pump failed; retrying", who)
                time.sleep(1)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, args: tuple) -> None:
        try:
            with self._lock:
                self._db.execute(sql, args)
        except sqlite3.Error as exc:
            raise OutboxError(f"{self.path}: {exc}") from exc


def _refused(exc: BaseException) -> bool:
    """Whether a failed write says the disk refuses writes: full (or the file at its allowed size), or read-only — as
    a worn SD card turns, or the kernel remounts a file system after an error."""
    text = str(exc).lower()
    return "full" in text or "readonly" in text or "read-only" in text
