# The collector's config section: its database, the wards it accepts, and its shared-subscription group.
from __future__ import annotations

from dataclasses import dataclass

from bus.config import DeviceConfig, load, opt


@dataclass(frozen=True)
class DistrictSection:
    wards: list[str] = opt(pattern=r"[a-z0-9][a-z0-9-]{0,39}", doc="wards whose records are accepted")
    database: str = opt("district.db")
    group: str = opt("collectors", pattern=r"[a-z0-9_-]{0,40}",
                     doc="MQTT shared-subscription group; collectors in one group share the load; empty: none")
    timezone: str = opt("Asia/Ho_Chi_Minh")
    max_future_days: int = opt(1, lo=0, hi=7, doc="records dated later than this many days ahead are refused")
    batch: int = opt(500, lo=1, hi=10000, doc="records committed per transaction at most")


def load_district(path: str) -> tuple[DeviceConfig, DistrictSection]:
    config = load(path, {"district": DistrictSection})
    return config, config.sections["district"]
