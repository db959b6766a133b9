# Offline numbering: when the hub does not answer, the kiosk numbers from its own block, committed before printing.
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path

from bus.atomic import write_json
from bus.numbering import LocalDay, offline_range
from bus.sqlite_repair import open_checked
from kiosk.errors import KioskError

log = logging.getLogger(__name__)
REPAIR_JUMP = 20  # numbers skipped per service after a repair that lost rows and no mirror (a block holds 200)


class OfflineNumbers:
    """Per service and local day, the next number of this kiosk's block; survives restarts and power cuts. Each
    number is committed to the database and then written to a mirror file beside it (`<name>-mirror.json`: the
    latest day's last number per service), so an SD card that damages one of the two still leaves the other to say
    where numbering stood."""

    def __init__(self, path: str | Path, block: int, days: LocalDay) -> None:
        self.range = offline_range(block)
        self.days = days
        self.path = Path(path)
        self._lock = threading.Lock()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db, self.repair = open_checked(Path(path), _schema)
        except (sqlite3.Error, OSError) as exc:
            raise KioskError(f"{path}: cannot open the offline numbering database: {exc}") from exc
        self.mirror = Path(path).with_name(Path(path).stem + "-mirror.json")
        mirrored = self._restore()
        # a repair that lost rows, with no mirror to restore them from, may have lost numbers printed today: each
        # service skips ahead once
        self._jump = REPAIR_JUMP if self.repair is not None and self.repair.unreadable and not mirrored else 0
        self._jumped: set[str] = set()

    def _restore(self) -> bool:
        """Raises each service's last number of the mirror's day to at least the mirror's; False when there is no
        readable mirror."""
        try:
            data = json.loads(self.mirror.read_text(encoding="utf-8"))
            day, last = str(data["day"]), {str(k): int(v) for k, v in data["last"].items()}
        except FileNotFoundError:
            return False
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("%s: unreadable (%s); numbering goes by the database alone", self.mirror, exc)
            return False
        for service, number in last.items():
            self._db.execute("INSERT INTO offline_numbers(day, service, last) VALUES (?,?,?) ON CONFLICT(day, "
                             "service) DO UPDATE SET last=MAX(last, excluded.last)", (day, service, number))
        return True

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
            try:
                self._db.execute("INSERT INTO offline_numbers(day, service, last) VALUES (?,?,?) "
                                 "ON CONFLICT(day, service) DO UPDATE SET last=excluded.last", (day, service, number))
            except sqlite3.Error as exc:  # a number that cannot be kept could be given again: none is given
                raise KioskError(f"{self.path}: cannot keep an offline number ({exc}); the data disk may be "
                                 "full") from None
            try:
                write_json(self.mirror, {"day": day, "last": dict(self._db.execute(
                    "SELECT service, last FROM offline_numbers WHERE day=?", (day,)).fetchall())})
            except OSError as exc:  # the number is committed; only the second copy is missing (a full disk?)
                log.warning("%s: not written (%s); the database alone holds the offline numbers", self.mirror, exc)
            return day, number

    def close(self) -> None:
        self._db.close()


def _schema(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS offline_numbers (day TEXT, service TEXT, last INTEGER, "
               "PRIMARY KEY (day, service))")
