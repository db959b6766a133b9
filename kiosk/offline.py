# Offline numbering: when the hub does not answer, the kiosk numbers from its own block, committed before printing.
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from bus.numbering import LocalDay, offline_range
from bus.sqlite_repair import open_checked
from kiosk.errors import KioskError

REPAIR_JUMP = 20  # numbers skipped per service after a repair that lost rows (a block holds 200)


class OfflineNumbers:
    """Per service and local day, the next number of this kiosk's block; survives restarts and power cuts."""

    def __init__(self, path: str | Path, block: int, days: LocalDay) -> None:
        self.range = offline_range(block)
        self.days = days
        self._lock = threading.Lock()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db, self.repair = open_checked(Path(path), _schema)
        except (sqlite3.Error, OSError) as exc:
            raise KioskError(f"{path}: cannot open the offline numbering database: {exc}") from exc
        # a repair that lost rows may have lost numbers printed today: each service skips ahead once
        self._jump = REPAIR_JUMP if self.repair is not None and self.repair.unreadable else 0
        self._jumped: set[str] = set()

    def next(self, service: str, now: float) -> tuple[str, int]:
        """Returns (day, number); the number is committed, so it is never given twice even after a crash."""
        with self._lock:
            last_day = self._db.execute("SELECT MAX(day) FROM offline_numbers").fetchone()[0]
            day = self.days.decide(now, last_day).day
            row = self._db.execute("SELECT last FROM offline_numbers WHERE day=? AND service=?",
                                   (day, service)).fetchone()
            number = (row[0] + 1) if row else self.range.start
            if self._jump and service not in self._jumped:
                self._jumped.add(service)
                number += self._jump
            if number not in self.range:
                raise KioskError(f"offline block used up for {service} today ({len(self.range)} tickets)")
            self._db.execute("INSERT INTO offline_numbers(day, service, last) VALUES (?,?,?) "
                             "ON CONFLICT(day, service) DO UPDATE SET last=excluded.last", (day, service, number))
            return day, number

    def close(self) -> None:
        self._db.close()


def _schema(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS offline_numbers (day TEXT, service TEXT, last INTEGER, "
               "PRIMARY KEY (day, service))")
