# The hub's numbering day: the clock's local date, kept while the line is live after the clock jumped past midnight.
from __future__ import annotations

import logging
import time
from collections.abc import Callable

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
    by running time. The hold lives in memory: a hub restarted meanwhile follows its clock, as one booting does."""

    def __init__(self, days: LocalDay, live: Callable[[str], bool], uptime: Callable[[], float] = since_boot) -> None:
        self.days, self.live, self.uptime = days, live, uptime
        self._reading: tuple[float, float] | None = None  # (wall clock, time since boot) at the last decision
        self.held: str | None = None  # the day kept after a jump
        self.reason = ""  # why, in words, while held
        self._jumped = 0.0  # how far the wall clock jumped since the hold began (seconds, either way)

    def decide(self, now: float, last_day: str | None) -> DayDecision:
        up = self.uptime()
        jump = 0.0 if self._reading is None else (now - self._reading[0]) - (up - self._reading[1])
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
        if last_day is not None and decision.day > last_day and jump > JUMP_S and self.live(last_day):
            self.held, self._jumped = last_day, jump
            self.reason = (f"the clock jumped {jump / 60:+.0f} min to {decision.day} while tickets of {last_day} "
                           f"were still in the ward; staying on {last_day} until they are done or midnight")
            log.warning("numbering day: %s", self.reason)
            return DayDecision(last_day, False, self.reason)
        return decision
