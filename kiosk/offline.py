# Offline numbering: when the hub does not answer, the kiosk numbers from its own block, committed before printing.
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from bus.atomic import write_json
from bus.boot_clock import MARKS, WorkNote, boot_id, since_boot
from bus.numbering import QUIET_S, LocalDay, offline_range
from bus.sqlite_repair import open_checked
from bus.transaction import transaction
from kiosk.errors import KioskError

log = logging.getLogger(__name__)
REPAIR_JUMP = 20  # numbers skipped per service after a repair that lost rows and no mirror (a block holds 200)


class OfflineNumbers:
    """Per service and local day, the next number of this kiosk's block; survives restarts and power cuts. Each
    number is committed to the database and then written to a mirror file beside it (`<name>-mirror.json`: the
    latest day's last number per service), so an SD card that damages one of the two still leaves the other to say
    where numbering stood.

    The day is the clock's (`LocalDay`), but one numbering offline when the clock's date moves stays on its day until
    it has given no number for QUIET_S by the time since boot: a kiosk booted after a night's power cut on the
    evening's saved time, the hub down, reaches its clock's midnight mid-morning, and starting again at 8000 would
    print a second A8000 in the room (the hub files both by their age on its own day, docs/queue.md)."""

    def __init__(self, path: str | Path, block: int, days: LocalDay, uptime: Callable[[], float] = since_boot,
                 boot: str | None = None) -> None:
        self.range = offline_range(block)
        self.days, self.uptime = days, uptime
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
        self.note = WorkNote(self._db, boot_id() if boot is None else boot)
        self._worked = self.note.recall(uptime())  # time since boot of the last number given, in this boot

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
            if last_day is not None and day > last_day and self._worked is not None \
                    and self.uptime() - self._worked < QUIET_S:
                log.warning("offline numbering stays on %s: the clock moved to %s while this kiosk was numbering "
                            "offline", last_day, day)
                day = last_day
            row = self._db.execute("SELECT last FROM offline_numbers WHERE day=? AND service=?",
                                   (day, service)).fetchone()
            number = (row[0] + 1) if row else self.range.start
            if self._jump and service not in self._jumped:
                self._jumped.add(service)
                number += self._jump
            if number not in self.range:
                raise KioskError(f"offline block used up for {service} today ({len(self.range)} tickets)")
            worked = self.uptime()
            try:
                with transaction(self._db):
                    self._db.execute("INSERT INTO offline_numbers(day, service, last) VALUES (?,?,?) ON CONFLICT(day, "
                                     "service) DO UPDATE SET last=excluded.last", (day, service, number))
                    self.note.write(worked, now)
            except sqlite3.Error as exc:  # a number that cannot be kept could be given again: none is given
                raise KioskError(f"{self.path}: cannot keep an offline number ({exc}); the data disk may be "
                                 "full") from None
            self._worked = worked
            self._write_mirror(day)
            return day, number

    def taken(self, day: str, service: str, number: int) -> None:
        """The hub filed one of this kiosk's offline tickets as `number` on `day` (by its age, when the kiosk's clock
        was behind, on a later day than the kiosk's): numbering offline on that day goes on above it."""
        if number not in self.range:
            return
        with self._lock:
            try:
                self._db.execute("INSERT INTO offline_numbers(day, service, last) VALUES (?,?,?) ON CONFLICT(day, "
                                 "service) DO UPDATE SET last=MAX(last, excluded.last)", (day, service, number))
            except sqlite3.Error as exc:  # the next offline number of that day may print the same label once more
                log.warning("%s: cannot note that %s %d of %s is taken (%s)", self.path, service, number, day, exc)
                return
            if day == self._db.execute("SELECT MAX(day) FROM offline_numbers").fetchone()[0]:
                self._write_mirror(day)

    def _write_mirror(self, day: str) -> None:
        try:
            write_json(self.mirror, {"day": day, "last": dict(self._db.execute(
                "SELECT service, last FROM offline_numbers WHERE day=?", (day,)).fetchall())})
        except OSError as exc:  # the number is committed; only the second copy is missing (a full disk?)
            log.warning("%s: not written (%s); the database alone holds the offline numbers", self.mirror, exc)

    def close(self) -> None:
        self._db.close()


def _schema(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS offline_numbers (day TEXT, service TEXT, last INTEGER, "
               "PRIMARY KEY (day, service))")
    db.execute(MARKS)
