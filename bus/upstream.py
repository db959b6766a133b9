# Upstream records (ward hub -> district collector): their strict schemas, shared by the forwarder and collector.
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bus.config import build, opt
from bus.errors import ConfigError, ContractError
from bus.validation import DAY, REAL_DAY, WARD_ID


@dataclass(frozen=True)
class RatingRecord:
    """One rating; a replaced rating is sent again with a higher version and replaces the stored one."""

    ward: str = opt(pattern=WARD_ID)
    day: str = opt(pattern=DAY, test=REAL_DAY)
    ticket_id: int = opt(lo=1)
    counter: int = opt(lo=1, hi=999)
    service: str = opt()
    level: int = opt(lo=1, hi=5)
    scale: int = opt(lo=3, hi=5)
    version: int = opt(lo=1)
    procedure: str = opt("")
    officer: str = opt("")
    visits: int = opt(0, lo=0, hi=9, doc="visits the citizen needed, this one included; 0: not asked")


@dataclass(frozen=True)
class DayStatsRecord:
    """A day's statistics for one service; a correction is the same (ward, day, service) with a higher version."""

    ward: str = opt(pattern=WARD_ID)
    day: str = opt(pattern=DAY, test=REAL_DAY)
    service: str = opt()
    version: int = opt(lo=1)
    issued: int = opt(lo=0)
    served: int = opt(lo=0)
    no_shows: int = opt(lo=0)
    transfers: int = opt(lo=0)
    within_target: int = opt(lo=0, doc="served tickets within the service's target time")
    wait_p50_min: float = opt(-1.0, lo=-1.0, doc="-1: no data")
    wait_p90_min: float = opt(-1.0, lo=-1.0)
    level_1: int = opt(0, lo=0)
    level_2: int = opt(0, lo=0)
    level_3: int = opt(0, lo=0)
    level_4: int = opt(0, lo=0)
    level_5: int = opt(0, lo=0)
    visits_recorded: int = opt(0, lo=0, doc="ratings that say how many visits the citizen needed")
    first_visits: int = opt(0, lo=0, doc="of those, resolved on the first visit")


KINDS: dict[str, type] = {"rating": RatingRecord, "day_stats": DayStatsRecord}


def parse(kind: str, record: dict[str, Any]) -> RatingRecord | DayStatsRecord:
    """Validates a record; ContractError names the field (e.g. body.record.level)."""
    try:
        return build(KINDS[kind], record, "upstream.record", "record")
    except ConfigError as exc:
        raise ContractError(f"body.{exc.key}", "a valid upstream record", exc.problem) from None


def as_dict(record: RatingRecord | DayStatsRecord) -> dict[str, Any]:
    return asdict(record)
