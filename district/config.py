# The collector's config section: its database, the wards it accepts, and its shared-subscription group.
from __future__ import annotations

from dataclasses import dataclass

from bus.config import DeviceConfig, load, opt
from bus.errors import ConfigError
from bus.validation import WARD_ID


@dataclass(frozen=True)
class WardName:
    ward: str = opt(pattern=WARD_ID)
    vi: str = opt(max_len=120, doc="the ward's name as the report shows it, e.g. Phường Ba Đình")


@dataclass(frozen=True)
class DistrictSection:
    wards: list[str] = opt(pattern=WARD_ID, doc="wards whose records are accepted")
    store: str = opt("sqlite", choices=("sqlite", "postgres"), doc="sqlite: a file under data_dir; postgres: a server")
    database: str = opt("district.db", doc="sqlite: the file name under data_dir")
    dsn: str = opt("", doc="postgres: a libpq connection string, e.g. postgresql://collector@db.example/district")
    group: str = opt("collectors", pattern=r"[a-z0-9_-]{0,40}",
                     doc="MQTT shared-subscription group; collectors in one group share the load; empty: none")
    timezone: str = opt("Asia/Ho_Chi_Minh")
    max_future_days: int = opt(1, lo=0, hi=7, doc="records dated later than this many days ahead are refused")
    batch: int = opt(500, lo=1, hi=10000, doc="records committed per transaction at most")
    names: list[WardName] = opt(default_factory=list, doc="the wards' names for the report ([[district.names]])")

    def ward_names(self) -> dict[str, str]:
        """Ward id -> its Vietnamese name, for the wards the config names (the others are shown by id)."""
        return {n.ward: n.vi for n in self.names}


SECTIONS = {"district": DistrictSection}


def load_district(path: str) -> tuple[DeviceConfig, DistrictSection]:
    config = load(path, SECTIONS)
    section: DistrictSection = config.sections["district"]
    if section.store == "postgres" and not section.dsn:
        raise ConfigError(config.source, "district.dsn", "store = \"postgres\" needs a connection string")
    if section.store == "sqlite" and section.dsn:
        raise ConfigError(config.source, "district.dsn", "only used with store = \"postgres\"")
    seen: set[str] = set()
    for i, name in enumerate(section.names):
        if name.ward in seen:
            raise ConfigError(config.source, f"district.names[{i}].ward", f"{name.ward!r} is named twice")
        seen.add(name.ward)
    return config, section
