# Offline numbering: when the hub does not answer, the kiosk numbers from its own block, committed before printing.
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from bus.numbering import LocalDay, offline_range
from kiosk.errors import KioskError


class OfflineNumbers:
    """Per service and local day, the next number of this kiosk's block; survives restarts and power cuts."""

    def __init__(self, path: str | Path, block: int, days: LocalDay) -> None:
        self.range = offline_range(block)
        self.days = days
        self._lock = threading.Lock()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS offline_numbers (day TEXT, service TEXT, last INTEGER, "
                         "PRIMARY KEY (day, service))")

    def next(self, service: str, now: float) -> tuple[str, int]:
        """Returns (day, number); the number is committed, so it is never given twice even after a crash."""
        with self._lock:
            last_day = self._db.execute("SELECT MAX(day) FROM offline_numbers").fetchone()[0]
            day = self.days.decide(now, last_day).day
            row = self._db.execute("SELECT last FROM offline_numbers WHERE day=? AND service=?",
                                   (day, service)).fetchone()
            number = (row[0] + 1) if row else self.range.start
            if number not in self.range:
                raise KioskError(f"offline block used up for {service} today ({len(self.range)} tickets)")
            self._db.execute("INSERT INTO offline_numbers(day, service, last) VALUES (?,?,?) "
                             "ON CONFLICT(day, service) DO UPDATE SET last=excluded.last", (day, service, number))
            return day, number

    def close(self) -> None:
        self._db.close()
