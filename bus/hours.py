# The ward's working hours: rules such as "mon-fri 07:30-11:30 13:30-17:00" checked; a day's sessions in time and words.
from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from bus.config import opt
from bus.errors import ConfigError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = "|".join(DAYS)
_SESSION = r"[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]"
RULE = rf"({_DAY})(-({_DAY}))?( {_SESSION}){{1,6}}"  # a day or a run of days, then its sessions in order
RULE_WORDS = ('a rule such as "mon-fri 07:30-11:30 13:30-17:00": a day (mon, tue, wed, thu, fri, sat, sun) or a '
              'run of days, then up to six sessions HH:MM-HH:MM')
Session = tuple[int, int]  # minutes after midnight: start, end
LONGEST_S = 31 * 86400  # a span longer than this (a clock that jumped) is counted on the clock, not day by day


def is_rule(text: str) -> bool:
    return re.fullmatch(RULE, text) is not None


def option() -> Any:
    """The `hours` option, as the hub's TOML and an admin's change (hub/settings.py) both take it."""
    return opt(default_factory=list, test=(is_rule, RULE_WORDS),
               doc='working hours, one rule a day or run of days: "mon-fri 07:30-11:30 13:30-17:00"; a day no rule '
                   'names is closed; none: always open')


@dataclass(frozen=True)
class Hours:
    """Each weekday's sessions, Monday first; a day no rule names is closed."""

    week: tuple[tuple[Session, ...], ...]

    def sessions(self, day: str, timezone: str) -> list[list[int]]:
        """`day`'s sessions (YYYY-MM-DD in the ward's time zone) as [start, end] in seconds since the epoch; worked
        out once a day (the hub asks for each estimate), so the list returned is shared and not to be changed."""
        return _day_sessions(self, day, timezone)

    def working_seconds(self, start: float, end: float, timezone: str) -> float:
        """The seconds of working sessions between `start` and `end` (seconds since the epoch): a visit's time as
        the ward's targets count it — administrative time limits are in working hours — breaks and closed days out."""
        if not 0 <= end - start <= LONGEST_S:
            return end - start
        tz = zoneinfo.ZoneInfo(timezone)
        d, last = datetime.fromtimestamp(start, tz).date(), datetime.fromtimestamp(end, tz).date()
        total = 0.0
        while d <= last:
            for a, b in self.sessions(d.isoformat(), timezone):
                total += max(0.0, min(b, end) - max(a, start))
            d += timedelta(days=1)
        return total

    def week_said(self) -> str:
        """The week as the rules were read, runs of days with the same sessions together, for ward IT to check:
        "mon-fri 07:30–11:30, 13:30–17:00; sat 07:30–11:30; sun closed"."""
        runs: list[tuple[int, int, tuple[Session, ...]]] = []
        for d, sessions in enumerate(self.week):
            if runs and runs[-1][2] == sessions:
                runs[-1] = (runs[-1][0], d, sessions)
            else:
                runs.append((d, d, sessions))
        return "; ".join(f"{DAYS[a]}{'-' + DAYS[b] if b > a else ''} {_said(sessions) or 'closed'}"
                         for a, b, sessions in runs)

    def said(self, d: date, lang: str) -> str:
        """`d`'s hours in words, as the kiosk shows them: "Giờ làm việc hôm nay: 07:30–11:30, 13:30–17:00"."""
        sessions = _said(self.week[d.weekday()])
        if lang == "vi":
            return f"Giờ làm việc hôm nay: {sessions}" if sessions else "Hôm nay không làm việc"
        return f"Open today: {sessions}" if sessions else "Closed today"


def parse(rules: list[str], source: str, where: str) -> Hours | None:
    """The hours these rules give, or None for no rules (hours not set: the ward is taken as always open). A wrong
    rule is a ConfigError naming it and what is wrong."""
    if not rules:
        return None
    week: list[tuple[Session, ...] | None] = [None] * 7
    for i, text in enumerate(rules):
        def wrong(problem: str, text: str = text, key: str = f"{where}[{i}]") -> ConfigError:
            return ConfigError(source, key, f"{text!r}: {problem}")

        if not is_rule(text):
            raise wrong(f"expected {RULE_WORDS}")
        days, _, times = text.partition(" ")
        first, _, last = days.partition("-")
        a, b = DAYS.index(first), DAYS.index(last or first)
        if b < a:
            raise wrong(f"a run of days goes Monday to Sunday: {first}-{last}, not {last}-{first}")
        sessions = tuple(_session(part, wrong) for part in times.split())
        for (_, end), (start, _) in zip(sessions, sessions[1:], strict=False):
            if start < end:
                raise wrong(f"sessions must be in order, none overlapping: {_hhmm(start)} starts before {_hhmm(end)}")
        for d in range(a, b + 1):
            if week[d] is not None:
                raise wrong(f"{DAYS[d]} already has its hours in an earlier rule")
            week[d] = sessions
    return Hours(tuple(s or () for s in week))


def _session(text: str, wrong: Callable[[str], ConfigError]) -> Session:
    start, end = (int(h) * 60 + int(m) for h, m in (t.split(":") for t in text.split("-")))
    for minutes, part in ((start, text[:5]), (end, text[6:])):
        if minutes > 24 * 60:  # the pattern has taken minutes over 59 out already
            raise wrong(f"{part} is not a time of day (00:00-24:00)")
    if end <= start:
        raise wrong(f"{text}: a session ends after it starts")
    return start, end


@lru_cache(maxsize=64)
def _day_sessions(hours: Hours, day: str, timezone: str) -> list[list[int]]:
    d = date.fromisoformat(day)
    tz = zoneinfo.ZoneInfo(timezone)
    return [[_at(d, start, tz), _at(d, end, tz)] for start, end in hours.week[d.weekday()]]


def _said(sessions: tuple[Session, ...]) -> str:
    return ", ".join(f"{_hhmm(a)}–{_hhmm(b)}" for a, b in sessions)


def _at(d: date, minutes: int, tz: zoneinfo.ZoneInfo) -> int:
    if minutes == 24 * 60:
        return int(datetime.combine(date.fromordinal(d.toordinal() + 1), time(), tz).timestamp())
    return int(datetime.combine(d, time(minutes // 60, minutes % 60), tz).timestamp())


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
