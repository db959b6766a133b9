# Wait-time estimate: an honest range from recent service times, or "unknown" when data is too thin.
from __future__ import annotations

import math
from typing import Any


def quantile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolated quantile of an already sorted, non-empty list."""
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def pace(service_minutes: list[float], open_counters: int, min_samples: int) -> dict[str, Any]:
    """What a service's waits are estimated from (the hub's line states carry it, so every ticket followed on a
    phone gets the range the kiosk would print for it): the counters open for it, how many recent service times
    there are, whether that is enough, and their quartiles in minutes."""
    result: dict[str, Any] = {"open": open_counters, "samples": len(service_minutes),
                              "enough": len(service_minutes) >= min_samples}
    if service_minutes:
        values = sorted(service_minutes)
        result.update(p25=round(quantile(values, 0.25), 3), p75=round(quantile(values, 0.75), 3))
    return result


def wait_range(p: dict[str, Any], ahead: int, now: float | None = None) -> dict[str, Any]:
    """Minutes until a ticket with `ahead` tickets before it is called: between (ahead × p25) and
    ((ahead + 1) × p75) of recent service times, shared by the counters open for the service (`p` from `pace`).
    When `p` carries the day's working hours and `now` is given, those minutes are working minutes: a break
    ahead is added to the wait, and a wait reaching past closing says so."""
    working = _working_range(p, ahead)
    if p.get("hours") is None or now is None:
        return working
    return on_the_clock(working, p["hours"], now)


def on_the_clock(working: dict[str, Any], sessions: list[list[int]], now: float) -> dict[str, Any]:
    """`working` (a wait in working minutes) as minutes on the clock from `now`, given the day's sessions
    ([start, end] in seconds since the epoch, in order): "closed" when no session is left today, "after_closing"
    when even the shortest wait ends after the last one, `closing` when only the longest does."""
    left = [(max(start, now), end) for start, end in sessions if end > now]
    if not left:
        return {"known": False, "reason": "closed"}
    if not working["known"]:
        return working
    low = _clock_seconds(left, now, working["low_min"] * 60)
    if low is None:
        return {"known": False, "reason": "after_closing"}
    high = _clock_seconds(left, now, working["high_min"] * 60)
    low_min = math.floor(low / 60)
    if high is None:
        return {"known": True, "low_min": low_min, "high_min": max(low_min, math.ceil((left[-1][1] - now) / 60)),
                "closing": True}
    return {"known": True, "low_min": low_min, "high_min": max(math.ceil(high / 60), low_min)}


def _clock_seconds(left: list[tuple[float, int]], now: float, work: float) -> float | None:
    """Seconds from `now` until `work` seconds of the sessions `left` have passed; None if they end first. Summed as
    the breaks before then plus `work` itself, so it is never less than `work` (now + work - now, in floating point,
    can be: 119.99999999999999 seconds made a two-minute wait one)."""
    breaks, worked, before = 0.0, 0.0, now
    for start, end in left:
        breaks += start - before
        worked += end - start
        if work <= worked:
            return breaks + work
        before = end
    return None


def _working_range(p: dict[str, Any], ahead: int) -> dict[str, Any]:
    if p["open"] <= 0:
        return {"known": False, "reason": "no_counter_open"}
    if ahead == 0:
        return {"known": True, "low_min": 0, "high_min": math.ceil(p["p75"] / p["open"]) if p["samples"] else 0}
    if not p["enough"]:
        return {"known": False, "reason": "too_little_data", "samples": p["samples"]}
    low = ahead * p["p25"] / p["open"]
    high = (ahead + 1) * p["p75"] / p["open"]
    return {"known": True, "low_min": math.floor(low), "high_min": max(math.ceil(high), math.floor(low) + 1)}


def minutes(wait: dict[str, Any]) -> str:
    """A known wait's minutes as every screen and the ticket write them: "5–12", or "0" when the range is one value
    (never "0–0")."""
    lo, hi = wait["low_min"], wait["high_min"]
    return f"{lo}–{hi}" if hi > lo else f"{lo}"
