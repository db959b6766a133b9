# The chaos run's day: when citizens come to a kiosk - a morning peak, a quiet lunch, a smaller afternoon peak.
from __future__ import annotations

import math
import random
import time

OPEN_H = 10.0  # a ward day: 7:30 to 17:30 ward time, lunch included


def _shape(hour: float) -> float:
    return (math.exp(-((hour - 2.0) / 1.2) ** 2) + 0.7 * math.exp(-((hour - 6.5) / 1.1) ** 2)
            + (0.05 if 4.0 < hour < 5.5 else 0.15))


_AREA = sum(_shape(h / 10) for h in range(int(OPEN_H * 10))) / 10


def arrivals_per_hour(hour: float, citizens: float) -> float:
    """Arrivals per ward hour at `hour` after opening: a morning peak near +2 h, a quiet lunch, a smaller peak near
    +6.5 h; scaled so a whole day brings `citizens`."""
    return citizens * _shape(hour) / _AREA


class Arrivals:
    """One kiosk's citizens over the day (`citizens` of them): candidates come at the day's peak rate and each is
    kept with the profile's share of the peak at its ward time (thinning), so arrivals follow the profile."""

    def __init__(self, citizens: float, opened: float, speed: float, rng: random.Random) -> None:
        self.citizens, self.opened, self.speed, self.rng = citizens, opened, speed, rng
        self.peak = max(arrivals_per_hour(h / 10, citizens) for h in range(int(OPEN_H * 10)))

    def gap(self) -> float:
        """Ward seconds to the next candidate."""
        return self.rng.expovariate(self.peak / 3600)

    def comes(self) -> bool:
        """Whether the candidate arriving now is kept."""
        hour = (time.monotonic() - self.opened) * self.speed / 3600
        return self.rng.random() <= arrivals_per_hour(hour, self.citizens) / self.peak
