# Ticket numbering shared by hub and kiosks: the local numbering day, and the disjoint hub / offline number ranges.
from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime

log = logging.getLogger(__name__)

HUB_LAST = 7999  # the hub numbers 1..7999 per service per day
OFFLINE_FIRST = 8000  # kiosks number offline tickets from 8000..9999, each in its own block
OFFLINE_BLOCK = 200
OFFLINE_BLOCKS = 10


def offline_range(block: int) -> range:
    """The numbers kiosk offline block `block` (1-10) may use: disjoint from the hub's and every other block's."""
    if not 1 <= block <= OFFLINE_BLOCKS:
        raise ValueError(f"offline block {block} is outside 1..{OFFLINE_BLOCKS}")
    first = OFFLINE_FIRST + (block - 1) * OFFLINE_BLOCK
    return range(first, first + OFFLINE_BLOCK)


def label(prefix: str, number: int) -> str:
    return f"{prefix}{number:03d}"


@dataclass(frozen=True)
class DayDecision:
    day: str
    clock_trusted: bool
    reason: str


QUIET_S = 4 * 3600.0  # a ward with no ticket issued or called for this long (by the time since boot) ended its day:
# longer than any lunch break, far shorter than a night (hub/day.py; a kiosk's offline numbering, kiosk/offline.py)


class LocalDay:
    """Works out the numbering day from the clock, never earlier than the last day already used.

    Numbering restarts when the local date (Asia/Ho_Chi_Minh by default) moves past the last ticket's day, so no
    midnight job is needed and a restart changes nothing. A clock that reads earlier than `floor` (a Pi without RTC
    before NTP) or earlier than the last ticket's day is not trusted: numbering stays on the last day used, so a
    number is never issued twice.
    """

    def __init__(self, timezone: str, floor: str) -> None:
        self.tz = zoneinfo.ZoneInfo(timezone)
        self.floor = date.fromisoformat(floor)

    def local_date(self, now: float) -> date:
        return datetime.fromtimestamp(now, UTC).astimezone(self.tz).date()

    def decide(self, now: float, last_day: str | None) -> DayDecision:
        today = self.local_date(now)
        last = date.fromisoformat(last_day) if last_day else None
        if today < self.floor:
            if last is None:
                return DayDecision(today.isoformat(), False, f"clock reads {today}, before {self.floor}")
            return DayDecision(last.isoformat(), False, f"clock reads {today}, before {self.floor}; "
                                                        f"staying on {last}")
        if last is not None and today < last:
            return DayDecision(last.isoformat(), False, f"clock reads {today}, earlier than the last ticket "
                                                        f"({last}); staying on {last}")
        return DayDecision(today.isoformat(), True, "clock")
