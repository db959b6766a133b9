# The hub database's health for ward IT: free space, writes failing since when, the slowest write of the last hour.
from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bus.health import SLOW_COMMIT_MS
from bus.messages import iso_ts
from bus.transaction import storage_error

log = logging.getLogger(__name__)

WINDOW_S = 3600.0  # the slowest write is kept for at least this long, at most twice this
WARN_EVERY_S = 60.0  # while the disk stalls, one line in the log a minute says how often
LAST_BACKUP = "last-backup.json"  # left beside the hub's database by `motcua backup` (provisioning/backup.py)


class DatabaseHealth:
    """What the hub's state says of its database (`database` in its detail; fleet status reads it, bus/health.py):
    the free space on its disk; since when and why writes fail (a full or read-only disk fails every one), cleared
    by the next batch written without a database error; and the slowest write of the last hour. Each transaction
    is timed — a batch's statements and the commit's fsync, which every answer in the batch waits for —, since a
    worn or failing SD card shows first as writes of a second and more; one that slow is also logged."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.failing: tuple[str, float] | None = None  # why the last write failed, and since when
        self._clock = clock
        self._window_at = clock()
        self._slowest = self._before = (0.0, 0.0)  # (seconds, wall time) of this window's slowest, the last one's
        self._warned_at = -WARN_EVERY_S
        self._slow = 0  # slow writes since the last warning

    def outcome(self, failure: BaseException | None) -> bool:
        """Notes how a batch's write ended; True when the writes have just begun to fail (ward IT should hear
        now, not at the next state)."""
        if failure is None:
            self.failing = None
        elif storage_error(failure) and self.failing is None:
            self.failing = (str(failure) or type(failure).__name__, time.time())
            return True
        return False

    @contextmanager
    def timed(self) -> Iterator[None]:
        began = self._clock()
        yield
        self.note(self._clock() - began)

    def note(self, seconds: float) -> None:
        now = self._roll()
        if seconds > self._slowest[0]:
            self._slowest = (seconds, time.time())
        if seconds * 1000 >= SLOW_COMMIT_MS:
            self._slow += 1
            if now - self._warned_at >= WARN_EVERY_S:
                log.warning("hub: writing to the database took %.1f s (%d such writes since the last warning); every "
                            "answer waited for the disk: a worn or failing SD card does this", seconds, self._slow)
                self._warned_at, self._slow = now, 0

    def status(self) -> dict[str, Any]:
        try:
            free: int | None = round(shutil.disk_usage(self.path.parent).free / 1e6)
        except OSError:  # the folder is gone or unreadable: the failing writes will say more
            free = None
        status: dict[str, Any] = {"free_mb": free}
        if self.failing is not None:
            status.update(failing=self.failing[0],
                          since=iso_ts(self.failing[1]))
        self._roll()
        seconds, at = max(self._slowest, self._before)
        if seconds:
            status.update(slowest_commit_ms=round(seconds * 1000, 1),
                          slowest_commit_at=iso_ts(at))
        if (backup := self._last_backup()) is not None:
            status["last_backup"] = backup
        return status

    def _last_backup(self) -> dict[str, Any] | None:
        """When and where `motcua backup` last backed this hub up, and how many hours ago (None: never)."""
        try:
            note = json.loads((self.path.parent / LAST_BACKUP).read_text(encoding="utf-8"))
            at, folder = float(note["at"]), str(note["folder"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            return {"unreadable": f"{LAST_BACKUP}: {exc}"}
        return {"at": iso_ts(at), "folder": folder,
                "age_h": round((time.time() - at) / 3600, 1)}

    def _roll(self) -> float:
        now = self._clock()
        if now - self._window_at >= WINDOW_S:
            fresh = now - self._window_at < 2 * WINDOW_S  # the window just ended holds the last hour's writes
            self._before = self._slowest if fresh else (0.0, 0.0)
            self._slowest, self._window_at = (0.0, 0.0), now
        return now
