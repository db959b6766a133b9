# The hub's numbering day: the clock's local date, kept while the ward is at work when the date changes under it.
from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from bus.boot_clock import WorkNote, since_boot
from bus.numbering import QUIET_S, DayDecision, LocalDay

log = logging.getLogger(__name__)
NOTE_EVERY_S = 60.0  # when the ward last worked is written down at most this often (for a restarted hub)
CLOCK_SET_S = 60.0  # the wall clock moved against the time since boot by more than this: the note is written again


class NumberingDay:
    """Which day the hub numbers on: `LocalDay`'s decision from the wall clock, and one rule more.

    A Pi without a battery-backed clock boots after a power cut on the time fake-hwclock saved, hours behind. With no
    time server its clock reaches its own midnight in the middle of the next working morning; with one, NTP puts it
    right whenever the ward's internet comes back. Either way the date changes while citizens wait, and following it
    would start again at 001 beside their numbers — two people holding A005, and the waiting ones gone from the
    board. A real midnight finds the ward closed for hours. So when the date moves while tickets of the last day are
    still in the ward and the ward is at work (a ticket issued or called within QUIET_S, by the time since boot, which
    no clock setting moves), the hub stays on that day until none of them is left, the ward has been quiet for
    QUIET_S, or the clock is back on that day. A hub restarted within one boot reads when the ward last worked from
    its note; one just booted judges "at work" by its records (a ticket of that day issued or called within QUIET_S
    by the clock) or by the note's wall time, which the hub before the reboot put right whenever the clock was set
    (its records' times stay as the wrong clock wrote them)."""

    def __init__(self, days: LocalDay, live: Callable[[str], bool], acted_since: Callable[[str, float], bool],
                 now: float, uptime: Callable[[], float] = since_boot, note: WorkNote | None = None) -> None:
        self.days, self.live, self.acted_since, self.uptime, self.note = days, live, acted_since, uptime, note
        # time since boot of the last ticket issued or called: this process's, or what a hub before it in this boot
        # wrote down (a restart a minute after NTP put the clock right must not read the morning as hours ago)
        self._worked, wall = note.read(uptime()) if note is not None else (None, None)
        self._noted = self._worked
        # the wall clock less the time since boot, as last seen: as the note says, for a hub restarted in this boot,
        # else as the clock (`now`) reads at the start
        self._offset = now - uptime() if self._worked is None or wall is None else wall - self._worked
        self._before = wall if self._worked is None else None  # the wall time the ward last worked, a boot ago
        self.held: str | None = None  # the day kept while the clock says a later one
        self.reason = ""  # why, in words, while held

    def worked(self, now: float) -> None:
        """A ticket was issued or called at `now`: the ward is at work."""
        self._worked = self.uptime()
        if self.note is not None and (self._noted is None or self._worked - self._noted >= NOTE_EVERY_S):
            self._note(now - self._worked)

    def _note(self, offset: float) -> None:
        assert self.note is not None and self._worked is not None
        self.note.write(self._worked, self._worked + offset)
        self._noted, self._offset = self._worked, offset

    def _clock_set(self, offset: float) -> None:
        """The clock was set (NTP, a hand): the note says when the ward last worked by the clock as it reads now,
        for a hub after a reboot. (A clock set just after a boot, before any work, moves no note: it may be the
        night the machine was off, as often as a wrong clock put right.)"""
        self._offset = offset
        if self.note is None or self._worked is None:
            return
        try:
            self._note(offset)
        except sqlite3.Error as exc:  # a full disk: the note keeps the clock before; nothing else depends on it
            log.warning("numbering day: the clock was set; cannot note when the ward last worked by it (%s)", exc)

    def decide(self, now: float, last_day: str | None) -> DayDecision:
        if abs(now - self.uptime() - self._offset) > CLOCK_SET_S:  # the clock was set (asked twice a second at least)
            self._clock_set(now - self.uptime())
        if self.held is not None:  # the clock's own date is read here only: `LocalDay.decide` reads it otherwise
            says = self.days.local_date(now).isoformat()
            live = self.held < says and self.live(self.held)
            if live and self._at_work(now, self.held):
                return DayDecision(self.held, False, self.reason)
            why = (f"the clock is back on {self.held}" if says <= self.held else
                   f"no ticket of {self.held} is left in the ward" if not live else
                   f"the ward has been quiet for {QUIET_S / 3600:.0f} hours")
            log.warning("numbering day: %s; numbering on the clock's day again", why)
            self.held, self.reason = None, ""
        decision = self.days.decide(now, last_day)
        if last_day is None or decision.day <= last_day or not self.live(last_day) or not self._at_work(now, last_day):
            return decision
        self.held = last_day
        self.reason = (f"the clock moved to {decision.day} while the ward was at work and tickets of {last_day} were "
                       f"still in it; staying on {last_day} until they are done, the ward is quiet for "
                       f"{QUIET_S / 3600:.0f} hours or the clock is back")
        log.warning("numbering day: %s", self.reason)
        return DayDecision(last_day, False, self.reason)

    def _at_work(self, now: float, day: str) -> bool:
        if self._worked is None:  # just booted: the day's records by the clock, or the last boot's note
            return self.acted_since(day, now - QUIET_S) or (self._before is not None
                                                           and abs(now - self._before) < QUIET_S)
        return self.uptime() - self._worked < QUIET_S
