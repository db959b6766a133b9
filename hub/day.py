# The hub's numbering day: the clock's local date, kept while the line is live after the clock jumped past midnight.
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from bus.numbering import DayDecision, LocalDay

log = logging.getLogger(__name__)
JUMP_S = 120.0  # the wall clock moving this much further than the time since boot, between two readings, was set


def since_boot() -> float:
    """Seconds since the machine booted, suspend included: it runs on whatever the wall clock does."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


class NumberingDay:
    """Which day the hub numbers on: `LocalDay`'s decision from the wall clock, and one rule more.

    A Pi without a battery-backed clock boots on the time fake-hwclock saved, after a night's power cut the evening
    before, and numbers on that day until NTP reaches it: with the ward's internet down, mid-morning. Were the hub to
    follow the clock's jump into the real date, numbering would start again at 001 while the morning's citizens still
    wait with numbers of the day before — two people holding A005, and the waiting ones gone from the board. So when
    the date moves by a jump (the wall clock ran more than JUMP_S further than the time since boot) while tickets of
    the last day are still in the ward, the hub stays on that day until none is (the line emptied) or midnight comes
    by running time. A hub restarted (or its Pi rebooted) during a hold finds it again in its tickets: one of the last
    day issued, or called from its line, after that day's midnight by the clock happens only under a hold; it then
    holds until the line empties or the clock's next midnight."""

    def __init__(self, days: LocalDay, live: Callable[[str], bool],
                 acted_since: Callable[[str, float], bool], uptime: Callable[[], float] = since_boot) -> None:
        self.days, self.live, self.acted_since, self.uptime = days, live, acted_since, uptime
        self._reading: tuple[float, float] | None = None  # (wall clock, time since boot) at the last decision
        self.held: str | None = None  # the day kept after a jump
        self.reason = ""  # why, in words, while held
        self._jumped = 0.0  # how far the wall clock jumped since the hold began (seconds, either way)

    def decide(self, now: float, last_day: str | None) -> DayDecision:
        up = self.uptime()
        first = self._reading is None
        jump = 0.0 if first else (now - self._reading[0]) - (up - self._reading[1])
        self._reading = (now, up)
        if self.held is not None:
            self._jumped += jump
            ran_to = self.days.local_date(now - self._jumped).isoformat()  # the date the clock would say unset
            says = self.days.local_date(now).isoformat()
            if ran_to <= self.held < says and self.live(self.held):
                return DayDecision(self.held, False, self.reason)
            if says <= self.held:
                why = f"the clock is back on {self.held}"
            elif ran_to > self.held:
                why = f"midnight came: moving from {self.held} to {says}"
            else:
                why = f"no ticket of {self.held} is left in the ward: moving to {says}"
            log.warning("numbering day: %s", why)
            self.held, self._jumped, self.reason = None, 0.0, ""
        decision = self.days.decide(now, last_day)
        if last_day is None or decision.day <= last_day or not self.live(last_day):
            return decision
        if jump > JUMP_S:
            return self._hold(last_day, jump, f"the clock jumped {jump / 60:+.0f} min to {decision.day}")
        if first and self.acted_since(last_day, self._midnight(last_day, 1)):  # restarted during a hold
            return self._hold(last_day, self._midnight(decision.day) - self._midnight(last_day),  # to the clock's
                              f"tickets of {last_day} were issued or called after its midnight")  # next midnight
        return decision

    def _hold(self, day: str, jumped: float, what: str) -> DayDecision:
        self.held, self._jumped = day, jumped
        self.reason = (f"{what} while tickets of {day} were still in the ward; staying on {day} until they are done "
                       "or midnight")
        log.warning("numbering day: %s", self.reason)
        return DayDecision(day, False, self.reason)

    def _midnight(self, day: str, later: int = 0) -> float:
        """The moment `day` (plus `later` days) begins, in the ward's time zone."""
        start = datetime.combine(date.fromisoformat(day) + timedelta(days=later), datetime.min.time(), self.days.tz)
        return start.timestamp()
