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


def wait_range(p: dict[str, Any], ahead: int) -> dict[str, Any]:
    """Minutes until a ticket with `ahead` tickets before it is called: between (ahead × p25) and
    ((ahead + 1) × p75) of recent service times, shared by the counters open for the service (`p` from `pace`)."""
    if p["open"] <= 0:
        return {"known": False, "reason": "no_counter_open"}
    if ahead == 0:
        return {"known": True, "low_min": 0, "high_min": math.ceil(p["p75"] / p["open"]) if p["samples"] else 0}
    if not p["enough"]:
        return {"known": False, "reason": "too_little_data", "samples": p["samples"]}
    low = ahead * p["p25"] / p["open"]
    high = (ahead + 1) * p["p75"] / p["open"]
    return {"known": True, "low_min": math.floor(low), "high_min": max(math.ceil(high), math.floor(low) + 1)}
