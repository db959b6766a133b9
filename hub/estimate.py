# Wait-time estimate: an honest range from recent service times, or "unknown" when data is too thin.
from __future__ import annotations

import math
from typing import Any


def quantile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolated quantile of an already sorted, non-empty list."""
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def wait_range(service_minutes: list[float], ahead: int, open_counters: int, min_samples: int) -> dict[str, Any]:
    """Minutes until a new ticket is called: between (ahead × p25) and ((ahead + 1) × p75) of recent service
    times, shared by the counters open for the service."""
    if open_counters <= 0:
        return {"known": False, "reason": "no_counter_open"}
    if ahead == 0:
        return {"known": True, "low_min": 0, "high_min": 0 if not service_minutes else
                math.ceil(quantile(sorted(service_minutes), 0.75) / open_counters)}
    if len(service_minutes) < min_samples:
        return {"known": False, "reason": "too_little_data", "samples": len(service_minutes)}
    values = sorted(service_minutes)
    low = ahead * quantile(values, 0.25) / open_counters
    high = (ahead + 1) * quantile(values, 0.75) / open_counters
    return {"known": True, "low_min": math.floor(low), "high_min": max(math.ceil(high), math.floor(low) + 1)}
