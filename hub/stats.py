# Ward statistics from the hub's own records: per day and service, counter, officer, procedure, hour or whole ward.
from __future__ import annotations

import io
import json
import sqlite3
from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bus import hours
from bus.estimate import quantile
from bus.messages import RATING_REASONS, STATS_GROUPS
from hub.config import HubSection
from hub.ratings import GOVERNMENT_LEVEL, SATISFIED
from hub.store import records

WHOLE_WARD = "all"  # the one group of a grouping by "ward"
MAX_SERVICE_S = 8 * 3600  # a "service" longer than a working day is a ticket left at a counter overnight
COLUMNS = ("day", "group", "issued", "served", "no_shows", "transfers", "wait_p50_min", "wait_p90_min",
           "service_p50_min", "service_p90_min", "within_target", "rated", "level_1", "level_2", "level_3",
           "level_4", "level_5", "satisfaction_rate", "visits_recorded", "first_visits", "first_visit_rate",
           "came_back", "gov_very_satisfied", "gov_satisfied", "gov_not_satisfied",
           *(f"reason_{r}" for r in RATING_REASONS))


def compute(db: sqlite3.Connection, hub: HubSection, day_from: str, day_to: str, by: str = "service",
            per_day: bool = True) -> list[dict[str, Any]]:
    """One row per (day, group), or per group over the whole range when not `per_day` (its day then reads
    "FROM..TO"). "issued" counts a ticket under the service it was issued for, transfers under the service left;
    the rest follow where the ticket was handled. Waits run from issue to call, service from call (or start) to
    done; "within target" is the share of served tickets whose whole visit took at most the service's target
    minutes (working minutes when the ward's hours are set: breaks and closed hours do not count); satisfaction
    rate is the share of ratings at level 1 or 2 (Rất hài lòng, Hài lòng). By "hour", everything follows the hour
    its ticket was taken in the ward's time zone (its rating and transfer too): when citizens come, and how they
    fare. The gov_ columns put every scale on the government's three levels (hub/ratings.py), and reason_ columns
    count the reasons citizens gave."""
    if by not in STATS_GROUPS:
        raise ValueError(f"group by one of {', '.join(STATS_GROUPS)}, not {by!r}")
    span = f"{day_from}..{day_to}"

    def day_of(day: str) -> str:
        return day if per_day else span

    zone = ZoneInfo(hub.timezone)
    hour_of: dict[int, str] = {}  # ticket id -> the hour it was taken, for its rating (by "hour")

    def group(r: dict[str, Any]) -> str:  # a rating's or a transfer's: as its ticket's
        return hour_of.get(r["ticket_id"], "-") if by == "hour" else _key(r, by)

    targets = {s.code: s.target_minutes for s in hub.services}
    working = hours.parse(hub.hours, "hub config", "hub.hours")  # set: a visit's time counts working minutes only
    rows: dict[tuple[str, str], dict[str, Any]] = defaultdict(_empty)
    for t in records(db, "SELECT * FROM tickets WHERE day BETWEEN ? AND ? AND status NOT IN ('held', 'void')",
                     [day_from, day_to]):
        if by == "hour":  # the ward's own clock: 08 is 08:00-08:59 in the hub's time zone
            key = hour_of[t["id"]] = f"{datetime.fromtimestamp(t['issued_at'], zone).hour:02}"
        else:
            key = _key(t, by)
        issued_key = t["issued_service"] if by == "service" else key
        rows[(day_of(t["day"]), issued_key)]["issued"] += 1  # counted where it was issued, even if transferred
        row = rows[(day_of(t["day"]), key)]
        if t["status"] == "no_show":
            row["no_shows"] += 1
        # times between two readings of the hub's clock; one it made negative (the clock jumped back between them)
        # is left out, as is a service longer than MAX_SERVICE_S (left at the counter overnight)
        if t["called_at"] is not None and t["called_at"] >= t["issued_at"]:
            row["waits"].append((t["called_at"] - t["issued_at"]) / 60)
        if t["status"] == "done":
            row["served"] += 1
            service_s = t["done_at"] - (t["served_at"] or t["called_at"])
            if 0 <= service_s <= MAX_SERVICE_S:  # its working seconds where they were kept (hub/counters.py)
                service_s = service_s if t["service_work_s"] is None else t["service_work_s"]
                row["services"].append(service_s / 60)
            visit_s = t["done_at"] - t["issued_at"]
            if working is not None:
                visit_s = working.working_seconds(t["issued_at"], t["done_at"], hub.timezone)
            row["on_time"] += 0 <= visit_s / 60 <= targets.get(t["service"], 30)
    for e in records(db, "SELECT e.day, e.counter, e.officer, e.ticket_id, t.transferred_from AS service, "
                     "t.procedure FROM events e JOIN tickets t ON t.id = e.ticket_id "
                     "WHERE e.kind = 'transferred' AND e.day BETWEEN ? AND ?", [day_from, day_to]):
        rows[(day_of(e["day"]), group(e))]["transfers"] += 1
    for r in records(db, "SELECT * FROM ratings WHERE day BETWEEN ? AND ?", [day_from, day_to]):
        row = rows[(day_of(r["day"]), group(r))]
        row["levels"][r["level"]] += 1
        row["gov"][GOVERNMENT_LEVEL[r["scale"]][r["level"] - 1]] += 1
        for reason in json.loads(r["reasons"] or "[]"):
            row["reasons"][reason] += 1
        visits = r.get("visits")
        row["came_back"] += "had_to_come_back" in (r["reasons"] or "") or (visits or 0) >= 2
        if visits:
            row["visits_recorded"] += 1
            row["first_visits"] += visits == 1
    return [_finish(day, group, row) for (day, group), row in sorted(rows.items())]


def _empty() -> dict[str, Any]:
    return {"issued": 0, "served": 0, "no_shows": 0, "transfers": 0, "waits": [], "services": [], "on_time": 0,
            "levels": defaultdict(int), "came_back": 0, "visits_recorded": 0, "first_visits": 0,
            "gov": defaultdict(int), "reasons": defaultdict(int)}


def _key(t: dict[str, Any], by: str) -> str:
    """A ticket's, rating's or transfer's group: its service, counter, officer or procedure ("-" when unknown), or
    the whole ward's (by "hour" `compute` reads the ticket's time)."""
    if by == "ward":
        return WHOLE_WARD
    value = t[by]
    return "-" if value is None or value == "" else str(value)


def _finish(day: str, group: str, row: dict[str, Any]) -> dict[str, Any]:
    waits, services, levels = sorted(row["waits"]), sorted(row["services"]), row["levels"]
    rated = sum(levels.values())
    out: dict[str, Any] = {
        "day": day, "group": group, "issued": row["issued"], "served": row["served"], "no_shows": row["no_shows"],
        "transfers": row["transfers"],
        "wait_p50_min": _q(waits, 0.5), "wait_p90_min": _q(waits, 0.9),
        "service_p50_min": _q(services, 0.5), "service_p90_min": _q(services, 0.9),
        "within_target": round(row["on_time"] / row["served"], 3) if row["served"] else None,
        "rated": rated,
        "satisfaction_rate": round(sum(levels[x] for x in SATISFIED) / rated, 3) if rated else None,
        "visits_recorded": row["visits_recorded"], "first_visits": row["first_visits"],
        "first_visit_rate": round(row["first_visits"] / row["visits_recorded"], 3) if row["visits_recorded"] else None,
        "came_back": row["came_back"],  # citizens who said they had to come back (follow-up reason or visits >= 2)
    }
    out.update({f"level_{n}": levels.get(n, 0) for n in range(1, 6)})
    out.update(gov_very_satisfied=row["gov"][1], gov_satisfied=row["gov"][2], gov_not_satisfied=row["gov"][3])
    out.update({f"reason_{r}": row["reasons"].get(r, 0) for r in RATING_REASONS})
    return out


def _q(values: list[float], q: float) -> float | None:
    return round(quantile(values, q), 1) if values else None


def to_csv(rows: list[dict[str, Any]]) -> str:
    import csv  # only `motcua stats --csv` needs it: the hub's memory is not spent on it

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: ("" if r[c] is None else r[c]) for c in COLUMNS} for r in rows)
    return buffer.getvalue()


def to_table(rows: list[dict[str, Any]], by: str) -> str:
    head = ("day", by, "issued", "served", "no-show", "transf", "wait p50", "wait p90", "svc p50", "on time",
            "rated", "satisfied", "1st visit")
    lines = ["  ".join(f"{h:>9}" if i > 1 else f"{h:<12}" for i, h in enumerate(head))]
    for r in rows:
        cells = (r["day"], r["group"][:12], r["issued"], r["served"], r["no_shows"], r["transfers"],
                 _fmt(r["wait_p50_min"]), _fmt(r["wait_p90_min"]), _fmt(r["service_p50_min"]),
                 _pct(r["within_target"]), r["rated"], _pct(r["satisfaction_rate"]), _pct(r["first_visit_rate"]))
        lines.append("  ".join(f"{c!s:>9}" if i > 1 else f"{c!s:<12}" for i, c in enumerate(cells)))
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"
