# Tickets being printed, kept until their outcome is in the outbox: a kiosk cut off mid-print settles them on restart.
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from bus.sqlite_repair import open_checked
from kiosk.errors import KioskError

log = logging.getLogger(__name__)


class PrintJournal:
    """One row per ticket between "numbered" and "its outcome handed to the outbox". Without it a kiosk that loses
    power after the paper came out, before the confirmation (or the offline ticket) was stored, leaves a citizen
    holding a number the hub keeps held for ever, or never hears of. On restart what is left counts as printed: a
    citizen may hold it (a ticket nobody holds costs one no-show call; a lost one costs a citizen their turn)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._db, self.repair = open_checked(self.path, _schema)
        except (sqlite3.Error, OSError) as exc:
            raise KioskError(f"{path}: cannot open the print journal: {exc}") from exc

    def begin(self, ticket: dict[str, Any], offline: bool) -> int | None:
        """Keeps the ticket before it is printed; its key, or None when it cannot be kept (a full disk: the
        ticket still prints, as it would have without the journal)."""
        row = {k: v for k, v in ticket.items() if k != "procedures"}
        try:
            with self._lock:
                return self._db.execute("INSERT INTO printing(ticket, offline) VALUES (?, ?)",
                                        (json.dumps(row, ensure_ascii=False), int(offline))).lastrowid
        except sqlite3.Error as exc:
            log.warning("%s: ticket %s not journalled before printing (%s)", self.path, ticket.get("label"), exc)
            return None

    def end(self, key: int | None) -> None:
        """The ticket's outcome is in the outbox (or it was never printed)."""
        if key is None:
            return
        try:
            with self._lock:
                self._db.execute("DELETE FROM printing WHERE id=?", (key,))
        except sqlite3.Error as exc:  # settled again on restart: the hub takes a repeated outcome as answered
            log.warning("%s: settled ticket not cleared (%s)", self.path, exc)

    def left(self) -> list[tuple[int, dict[str, Any], bool]]:
        """What was being printed when the kiosk last stopped: (key, ticket, offline)."""
        with self._lock:
            rows = self._db.execute("SELECT id, ticket, offline FROM printing ORDER BY id").fetchall()
        out = []
        for key, text, offline in rows:
            try:
                out.append((key, json.loads(text), bool(offline)))
            except ValueError as exc:  # a damaged row: nothing to settle it with
                log.error("%s: entry %d unreadable (%s); dropped", self.path, key, exc)
                self.end(key)
        return out

    def close(self) -> None:
        self._db.close()


def _schema(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS printing (id INTEGER PRIMARY KEY, ticket TEXT NOT NULL, "
               "offline INTEGER NOT NULL)")

