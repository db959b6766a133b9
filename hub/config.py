# The hub's config section: the ward's services, counters and queue policy, validated across each other.
from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

from bus import hours
from bus.config import DeviceConfig, load, opt
from bus.counter_watch import RATING_WINDOW_S
from bus.errors import ConfigError
from bus.validation import DAY, PROCEDURE_CODE, REAL_DAY, SERVICE_CODE


@dataclass(frozen=True)
class ServiceConfig:
    code: str = opt(pattern=SERVICE_CODE)
    prefix: str = opt(pattern=r"[A-Z]")
    name_vi: str = opt()
    name_en: str = opt()
    procedures: list[str] = opt(default_factory=list, pattern=PROCEDURE_CODE)
    target_minutes: int = opt(30, lo=1, hi=600)


@dataclass(frozen=True)
class CounterConfig:
    id: int = opt(lo=1, hi=999)
    name_vi: str = opt()
    name_en: str = opt()
    services: list[str] = opt(pattern=SERVICE_CODE)


@dataclass(frozen=True)
class PolicyConfig:
    priority_in_row: int = opt(2, lo=1, hi=20, doc="priority calls in a row before a waiting regular ticket")
    max_recalls: int = opt(3, lo=0, hi=10)
    max_skips: int = opt(1, lo=0, hi=5)
    min_wait_samples: int = opt(5, lo=1, hi=1000)
    wait_samples: int = opt(30, lo=5, hi=1000)
    rating_window_s: int = opt(RATING_WINDOW_S, lo=10, hi=3600,
                               doc="a rating counts for the ticket that left the counter this recently")


@dataclass(frozen=True)
class HubSection:
    ward_name_vi: str = opt()
    ward_name_en: str = opt()
    services: list[ServiceConfig] = opt()
    counters: list[CounterConfig] = opt()
    timezone: str = opt("Asia/Ho_Chi_Minh")
    clock_floor: str = opt("2025-01-01", pattern=DAY, test=REAL_DAY,
                           doc="a clock earlier than this is taken as not yet set")
    database: str = opt("hub.db")
    notice: str = opt("")
    hours: list[str] = hours.option()
    recent_calls: int = opt(8, lo=1, hi=50)
    catalogue: str = opt("", doc="procedure catalogue (JSON) published to kiosks; empty: none")
    release_port: int = opt(0, lo=0, hi=65535, doc="serves the releases offered for fleet updates (DATA/offered) "
                                                    "to the ward's devices over HTTP on this port; 0: off")
    policy: PolicyConfig = opt(default_factory=PolicyConfig)


@dataclass(frozen=True)
class UpstreamSection:
    host: str = opt("", doc="the district/province broker; empty: no forwarding")
    port: int = opt(8883, lo=1, hi=65535)
    username: str = opt("")
    password: str = opt("")
    tls: bool = opt(True)
    ca_file: str = opt("")
    keepalive: int = opt(60, lo=5, hi=600)
    stats_interval_s: int = opt(600, lo=5, hi=86400, doc="how often changed day statistics are sent")
    retry_s: float = opt(5.0, lo=0.2, hi=600.0, doc="first resend of an unacknowledged record")


SECTIONS = {"hub": HubSection, "upstream": UpstreamSection}


def load_hub(path: str) -> tuple[DeviceConfig, HubSection]:
    config = load(path, SECTIONS)
    section: HubSection = config.sections["hub"]
    check(section, config.source)
    return config, section


def check(hub: HubSection, source: str) -> None:
    """Checks what one option cannot check alone: unique codes, known services, a real time zone, sound hours."""
    try:
        zoneinfo.ZoneInfo(hub.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(source, "hub.timezone", f"unknown time zone {hub.timezone!r}") from None
    hours.parse(hub.hours, source, "hub.hours")
    if not hub.services:
        raise ConfigError(source, "hub.services", "at least one service is needed")
    _unique(source, "hub.services", "code", [s.code for s in hub.services])
    _unique(source, "hub.services", "prefix", [s.prefix for s in hub.services])
    _unique(source, "hub.counters", "id", [c.id for c in hub.counters])
    known = {s.code for s in hub.services}
    for i, counter in enumerate(hub.counters):
        for code in counter.services:
            if code not in known:
                raise ConfigError(source, f"hub.counters[{i}].services",
                                  f"unknown service {code!r}; known: {', '.join(sorted(known))}")


def _unique(source: str, where: str, name: str, values: list) -> None:
    seen = set()
    for i, value in enumerate(values):
        if value in seen:
            raise ConfigError(source, f"{where}[{i}].{name}", f"{value!r} is used twice")
        seen.add(value)
