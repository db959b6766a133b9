# The time since boot and this boot's id: a clock no setting of the wall clock moves, comparable within one boot.
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
MARKS = 'CREATE TABLE IF NOT EXISTS "marks" ("name" TEXT PRIMARY KEY, "value" TEXT NOT NULL);\n'  # notes' table


def boot_id() -> str:
    """This boot's id (Linux), "" where there is none: the time since boot is comparable only within one boot."""
    try:
        return BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def since_boot() -> float:
    """Seconds since the machine booted, suspend included: it runs on whatever the wall clock does."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


class WorkNote:
    """When the ward last worked, by the time since boot, kept in a device's database (its `marks` table) with this
    boot's id: what the device restarted in the same boot reads instead of judging by the clock (the hub's numbering
    day, hub/day.py; a kiosk's offline numbering day, kiosk/offline.py)."""

    def __init__(self, db: sqlite3.Connection, boot: str) -> None:
        self.db, self.boot = db, boot

    def read(self, uptime: float) -> tuple[float | None, float | None]:
        """(the note's time since boot if written in this boot, the wall time it gives): the first is None for a
        note of another boot (or one ahead of `uptime`: then it is another's), the second for one of an earlier
        release, which had none."""
        row = self.db.execute("SELECT value FROM marks WHERE name = 'worked'").fetchone()
        boot, up, wall, *_ = (row[0] if row else "").split(" ") + ["", ""]
        try:
            noted = float(up)
            at = float(wall) if wall else None
        except ValueError:
            return None, None
        return (noted if self.boot and boot == self.boot and noted <= uptime else None), at

    def recall(self, uptime: float) -> float | None:
        """The note's time since boot, if written in this boot."""
        return self.read(uptime)[0]

    def write(self, uptime: float, wall: float) -> None:
        """Written in the caller's transaction: the ticket and the note are committed together. `wall`: the wall
        clock's time of `uptime`, as the clock reads now."""
        self.db.execute("INSERT OR REPLACE INTO marks(name, value) VALUES ('worked', ?)",
                        (f"{self.boot} {uptime!r} {wall!r}",))
