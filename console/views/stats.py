# Ward statistics for a range by service, counter, officer, procedure, hour, ward or day: table, charts, CSV, Excel.
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bus.messages import RATING_REASONS, STATS_GROUPS, Message
from console.accounts import Account
from console.i18n import MONTHS_EN, WEEKDAYS, day_said, say

if TYPE_CHECKING:
    from console.web import Console

# the groupings offered: the hub's, and "day" — the whole ward day by day (a month's figures read as a trend)
GROUPS = (*STATS_GROUPS, "day")
CHART_ROWS = 31  # bars in each chart: a month day by day
# (column in a hub row, word key): what the table and the CSV show, in words
COLUMNS = (("issued", "issued"), ("served", "served"), ("no_shows", "no_shows"), ("transfers", "transfers"),
           ("wait_p50_min", "wait_p50"), ("wait_p90_min", "wait_p90"), ("within_target", "within_target"),
           ("gov_very_satisfied", "very_satisfied"), ("gov_satisfied", "satisfied"),
           ("gov_not_satisfied", "not_satisfied"), ("satisfaction_rate", "satisfaction_rate"),
           *((f"reason_{r}", r) for r in RATING_REASONS))
RATES = ("within_target", "satisfaction_rate")  # shares (0.667), shown as percentages (67%)


def stats_data(console: Console, lang: str, params: dict[str, str]) -> dict[str, Any]:
    """The figures for the asked range and grouping, each group named in words."""
    today = console.live.board.get("day") or date.today().isoformat()  # the ward's day, in the hub's time zone
    first, last = _day(params.get("from"), today), _day(params.get("to"), today)
    if last < first:
        first, last = last, first
    if date.fromisoformat(last) - date.fromisoformat(first) > timedelta(days=366):
        first = (date.fromisoformat(last) - timedelta(days=366)).isoformat()
    by = params.get("by") if params.get("by") in GROUPS else "service"
    shown = (say("range_day", lang, first=day_said(first, lang)) if first == last else
             say("range", lang, first=day_said(first, lang), last=day_said(last, lang)))  # what was asked of the hub
    d = date.fromisoformat(today)  # the day a printed report is signed on, as an official form writes it
    signed = say("signed_on", lang, d=f"{d.day:02}", m=f"{d.month:02}", y=d.year, month=MONTHS_EN[d.month - 1])
    return {"from": first, "to": last, "by": by, "groups": GROUPS, "range": shown, "signed_on": signed}


def named(console: Console, by: str, group: str, lang: str) -> str:
    live = console.live
    if by == "service":
        s = live.service_names().get(group)
        return (s["name_vi"] if lang == "vi" else s["name_en"]) if s else group
    if by == "counter":
        key = "name_vi" if lang == "vi" else "name_en"
        names = {str(c["counter"]): c.get(key) for c in live.board.get("counters", [])}
        return names.get(group) or f"{say('counter', lang)} {group}"
    if by == "ward":
        return say("ward", lang)
    if by == "hour" and group.isdigit():  # "08": the tickets taken from 08:00 to 08:59
        return f"{int(group):02}:00–{int(group):02}:59"
    if by == "day":
        try:
            return f"{say(WEEKDAYS[date.fromisoformat(group).weekday()], lang)}, {day_said(group, lang)}"
        except ValueError:  # not a day: shown as the hub wrote it
            return group
    if by == "procedure":
        for field in (live.catalogue or {}).get("catalogue", {}).get("fields", []):
            for p in field["procedures"]:
                if p["code"] == group:
                    return f"{p['name_vi'] if lang == 'vi' else p['name_en']} ({group})"
    return group


def routes(console: Console) -> list[Route]:
    async def figures(request: Request) -> tuple[dict[str, Any], str] | Response:
        account = console.allowed(request, "admin", "it")
        if not isinstance(account, Account):
            return account
        lang = console.lang(request)
        data = stats_data(console, lang, dict(request.query_params))
        asked = {"day_from": data["from"], "day_to": data["to"]}
        daily = data["by"] == "day"  # the hub's whole-ward figures, a row a day
        ask = {**asked, "by": "ward", "per_day": True} if daily else {**asked, "by": data["by"]}
        reply = await run_in_threadpool(console.live.ask, lambda t: t.stats_request, "stats.request", ask)
        if isinstance(reply, Message) and reply.type == "stats.result":
            rows = [{**r, "name": named(console, data["by"], r["day"] if daily else r["group"], lang)}
                    for r in reply.body["rows"]]
            data["rows"] = rows
            if reply.body["truncated"]:  # more groups than one reply holds: the hub kept the busiest
                data["cut"] = say("cut", lang, shown=len(rows))
        else:
            data.update(rows=[], error=say(reply if isinstance(reply, str) else "no_answer", lang))
        if len(data["rows"]) > 1:  # the whole ward's figures below the groups' (its waits are its own, not a sum)
            whole = await run_in_threadpool(console.live.ask, lambda t: t.stats_request, "stats.request",
                                            {**asked, "by": "ward"})
            if isinstance(whole, Message) and whole.type == "stats.result" and whole.body["rows"]:
                data["total"] = {**whole.body["rows"][0], "name": say("total", lang)}
        data["columns"] = [{"key": key, "label": say(word, lang), "rate": key in RATES} for key, word in COLUMNS]
        data["chart"] = _chart(data["rows"])
        return data, lang

    async def page(request: Request) -> Response:
        got = await figures(request)
        if isinstance(got, Response):
            return got
        return console.page(request, "stats.html", got[0])

    async def download(request: Request) -> Response:
        got = await figures(request)
        if isinstance(got, Response):
            return got
        data, lang = got
        header, rows, total = _table(data, lang)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in [header, *rows, *([total] if total else [])]:
            writer.writerow(["" if v is None else v for v in row])
        if data.get("cut"):
            writer.writerow([data["cut"]])
        return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",  # a BOM: Excel reads UTF-8
                        headers={"content-disposition": f'attachment; filename="{_file(data)}.csv"'})

    async def workbook(request: Request) -> Response:
        """The same table for Excel: a CSV opens in one column where Windows is set to Vietnamese (its list
        separator is ";"), and its decimal points read as thousands there."""
        from bus.sheet import Sheet, workbook  # imported at the first download: 3 MB a console seldom needs

        got = await figures(request)
        if isinstance(got, Response):
            return got
        data, lang = got
        header, rows, total = _table(data, lang)
        keys = [None, *(c["key"] for c in data["columns"])]
        ward = console.live.board.get("ward_vi" if lang == "vi" else "ward_en") or ""
        heading = [f"{say('stats', lang)} · {say('by', lang)} {say(data['by'], lang).lower()}", data["range"], ward]
        sheet = Sheet(say("stats", lang), header, rows, [line for line in heading if line], total, data.get("cut"),
                      percent=[keys.index(k) for k in RATES],
                      decimals=[keys.index("wait_p50_min"), keys.index("wait_p90_min")])
        body = await run_in_threadpool(workbook, sheet)
        return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"content-disposition": f'attachment; filename="{_file(data)}.xlsx"'})

    return [Route("/stats", page), Route("/stats.csv", download), Route("/stats.xlsx", workbook)]


def _table(data: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]], list[Any] | None]:
    """The figures as the downloads hold them: the header, a row a group and the whole ward's total (or None)."""
    keys = [c["key"] for c in data["columns"]]
    header = [say(data["by"], lang), *(c["label"] for c in data["columns"])]
    rows = [[r["name"], *(r.get(k) for k in keys)] for r in data["rows"]]
    total = data.get("total")
    return header, rows, [total["name"], *(total.get(k) for k in keys)] if total else None


def _file(data: dict[str, Any]) -> str:
    return f"thong-ke-{data['by']}-{data['from']}-{data['to']}"


def _day(value: str | None, default: str) -> str:
    try:
        return date.fromisoformat(value or "").isoformat()
    except ValueError:
        return default


def _chart(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bars for the page's SVG charts: served of issued, and the three satisfaction levels, scaled to 100."""
    top = max([r["issued"] for r in rows] + [1])
    bars = []
    for r in rows[:CHART_ROWS]:
        rated = r["gov_very_satisfied"] + r["gov_satisfied"] + r["gov_not_satisfied"]
        share = [(100 * r[k] / rated if rated else 0) for k in
                 ("gov_very_satisfied", "gov_satisfied", "gov_not_satisfied")]
        bars.append({"name": r["name"], "issued": 100 * r["issued"] / top, "served": 100 * r["served"] / top,
                     "issued_n": r["issued"], "served_n": r["served"], "levels": share, "rated": rated})
    return bars
