# District report: per ward and per procedure satisfaction, waits, volumes and no-shows: HTML, PNG charts, Excel, CSV.
from __future__ import annotations

import csv
import html
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from bus import catalogue
from bus.sheet import Sheet, workbook
from district.store import Store
from hmi.fonts import font_path

WARD_COLUMNS = ("ward_name", "ward", "days", "issued", "served", "no_shows", "no_show_rate", "wait_p50_min",
                "within_target", "rated", "satisfaction_rate", "first_visit_rate")
PROCEDURE_COLUMNS = ("procedure", "procedure_name", "ward_name", "ward", "rated", "satisfied", "satisfaction_rate")
# the HTML's column headings (the CSV keeps the keys, for spreadsheets and scripts)
HEADINGS: dict[str, tuple[str, str]] = {
    "ward_name": ("Phường/xã", "Ward"), "ward": ("Mã phường/xã", "Ward id"), "days": ("Số ngày", "Days"),
    "issued": ("Đã cấp số", "Issued"), "served": ("Đã phục vụ", "Served"), "no_shows": ("Vắng mặt", "No-shows"),
    "no_show_rate": ("Tỷ lệ vắng mặt", "No-show rate"), "wait_p50_min": ("Chờ trung vị (phút)", "Median wait (min)"),
    "within_target": ("Đúng hạn", "Within target"), "rated": ("Lượt đánh giá", "Ratings"),
    "satisfied": ("Hài lòng", "Satisfied"), "satisfaction_rate": ("Tỷ lệ hài lòng", "Satisfaction"),
    "first_visit_rate": ("Xong trong một lần đến", "Done in one visit"), "procedure": ("Mã thủ tục", "Procedure"),
    "procedure_name": ("Tên thủ tục", "Procedure name"),
}
RATES = ("no_show_rate", "within_target", "satisfaction_rate", "first_visit_rate")  # shown as % in the HTML
TEXT = ("ward", "ward_name", "procedure", "procedure_name")  # left-aligned in the HTML
CODES = ("ward", "procedure")  # ids, never broken across lines
NAMES = ("ward_name", "procedure_name")  # left out of the HTML when no row has one (the CSV keeps every column)


def procedure_names(catalogue_path: str | Path) -> dict[str, str]:
    """Procedure code -> its Vietnamese name, from a catalogue file (the kiosk's JSON)."""
    return {p.code: p.name_vi for f in catalogue.load(catalogue_path).fields for p in f.procedures}


# a ward's sums over the days ({ward}: the column, or a constant for all wards together)
WARD_SUMS = ("SELECT {ward} AS ward, COUNT(DISTINCT day) AS days, SUM(issued) AS issued, SUM(served) AS served, "
             "SUM(no_shows) AS no_shows, SUM(within_target) AS within_target, "
             "SUM(CASE WHEN wait_p50_min >= 0 THEN wait_p50_min * served ELSE 0 END) AS wait_weighted, "
             "SUM(CASE WHEN wait_p50_min >= 0 THEN served ELSE 0 END) AS wait_weight, "
             "SUM(level_1 + level_2 + level_3 + level_4 + level_5) AS rated, SUM(level_1 + level_2) AS satisfied, "
             "SUM(COALESCE(visits_recorded, 0)) AS visits_recorded, SUM(COALESCE(first_visits, 0)) AS first_visits "
             "FROM day_stats WHERE day BETWEEN ? AND ?")


def ward_rows(db: Store, day_from: str, day_to: str, wards: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Totals per ward over the days; the wait is the served-weighted mean of the services' daily medians. `wards`
    (id -> name, from the collector's config) names the wards it knows."""
    wards = wards or {}
    query = WARD_SUMS.format(ward="ward") + " GROUP BY ward ORDER BY ward"
    return [_ward_row(r, wards.get(r["ward"], "")) for r in db.query(query, (day_from, day_to))]


def all_wards_row(db: Store, day_from: str, day_to: str) -> dict[str, Any] | None:
    """The same figures for every ward together ("Tổng cộng"); None when there are none. Its days are the days any
    ward reported."""
    rows = [r for r in db.query(WARD_SUMS.format(ward="''"), (day_from, day_to)) if r["days"]]
    return _ward_row(rows[0], "") if rows else None


def _ward_row(r: dict[str, Any], name: str) -> dict[str, Any]:
    return {"ward": r["ward"], "ward_name": name, "days": r["days"], "issued": r["issued"],
            "served": r["served"],
            "no_shows": r["no_shows"], "no_show_rate": _rate(r["no_shows"], r["issued"]),
            "wait_p50_min": round(r["wait_weighted"] / r["wait_weight"], 1) if r["wait_weight"] else None,
            "within_target": _rate(r["within_target"], r["served"]), "rated": r["rated"],
            "satisfaction_rate": _rate(r["satisfied"], r["rated"]),
            "first_visit_rate": _rate(r["first_visits"], r["visits_recorded"])}


def procedure_rows(db: Store, day_from: str, day_to: str, names: dict[str, str] | None = None,
                   wards: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Ratings per procedure and ward; `names` (code -> name, from a catalogue) names the procedures it knows,
    `wards` (id -> name) the wards."""
    names, wards = names or {}, wards or {}
    return [{"procedure": r["procedure"] or "-", "procedure_name": names.get(r["procedure"] or "", ""),
             "ward": r["ward"], "ward_name": wards.get(r["ward"], ""), "rated": r["rated"], "satisfied": r["satisfied"],
             "satisfaction_rate": _rate(r["satisfied"], r["rated"])}
            for r in db.query("SELECT procedure, ward, COUNT(*) AS rated, "
                              "SUM(CASE WHEN level <= 2 THEN 1 ELSE 0 END) AS satisfied FROM ratings "
                              "WHERE day BETWEEN ? AND ? GROUP BY procedure, ward ORDER BY procedure, ward",
                              (day_from, day_to))]


def write(db: Store, day_from: str, day_to: str, out: str | Path, names: dict[str, str] | None = None,
          ward_names: dict[str, str] | None = None) -> Path:
    """Writes report.html, report.xlsx, wards.csv, procedures.csv and the charts into `out`; returns the HTML path.
    `names` maps procedure codes to their names (the national codes of a catalogue), `ward_names` ward ids to
    theirs (the collector's config); the charts name a ward by its name where it has one."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wards = ward_rows(db, day_from, day_to, ward_names)
    total = all_wards_row(db, day_from, day_to) if len(wards) > 1 else None
    procs = procedure_rows(db, day_from, day_to, names, ward_names)
    _csv(out / "wards.csv", WARD_COLUMNS, wards)
    _csv(out / "procedures.csv", PROCEDURE_COLUMNS, procs)
    (out / "report.xlsx").write_bytes(_workbook(day_from, day_to, wards, procs, total))
    charts = [
        ("satisfaction.png", "Tỷ lệ hài lòng theo phường (%)",
         [(_named(w), _pct(w["satisfaction_rate"])) for w in wards]),
        ("volume.png", "Số hồ sơ đã phục vụ theo phường", [(_named(w), w["served"] or 0) for w in wards]),
        ("waits.png", "Thời gian chờ trung vị (phút)", [(_named(w), w["wait_p50_min"] or 0) for w in wards]),
        ("no_shows.png", "Tỷ lệ vắng mặt khi gọi (%)", [(_named(w), _pct(w["no_show_rate"])) for w in wards]),
        ("procedures.png", "Tỷ lệ hài lòng theo thủ tục (%)", _by_procedure(procs)),
    ]
    for name, title, items in charts:
        bar_chart(title, items, out / name)
    page = out / "report.html"
    page.write_text(_html(day_from, day_to, wards, procs, [c[0] for c in charts], total), encoding="utf-8")
    return page


def bar_chart(title: str, items: list[tuple[str, float]], path: Path, width: int = 900) -> Path:
    """A horizontal bar chart in the bundled font (Vietnamese labels render correctly)."""
    font, bold = ImageFont.truetype(str(font_path()), 18), ImageFont.truetype(str(font_path(True)), 22)
    row, top = 34, 56
    image = Image.new("RGB", (width, top + row * max(1, len(items)) + 20), "white")
    draw = ImageDraw.Draw(image)
    draw.text((16, 14), title, font=bold, fill=(20, 33, 61))
    peak = max((v for _, v in items), default=0) or 1
    label_w = 220
    for i, (label, value) in enumerate(items):
        y = top + i * row
        draw.text((16, y + 4), _fit(draw, label, font, label_w - 24), font=font, fill=(20, 33, 61))
        bar = int((width - label_w - 110) * value / peak)
        draw.rectangle((label_w, y + 4, label_w + bar, y + row - 6), fill=(36, 96, 160))
        draw.text((label_w + bar + 8, y + 4), f"{value:g}", font=font, fill=(20, 33, 61))
    image.save(path, format="PNG")
    return path


def _fit(draw: ImageDraw.ImageDraw, label: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """A chart's label cut to `width` pixels, ending in "…" where it was cut."""
    if draw.textlength(label, font=font) <= width:
        return label
    while label and draw.textlength(label + "…", font=font) > width:
        label = label[:-1]
    return label.rstrip() + "…"


def _by_procedure(procs: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """Satisfaction per procedure over the wards, each labelled by its name where the catalogue gives one."""
    totals: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for p in procs:
        t = totals.setdefault(p["procedure"], [0, 0])
        t[0] += p["satisfied"]
        t[1] += p["rated"]
        names[p["procedure"]] = p["procedure_name"] or p["procedure"]
    return [(names[code], _pct(_rate(s, n))) for code, (s, n) in sorted(totals.items())]


def _html(day_from: str, day_to: str, wards: list[dict], procs: list[dict], charts: list[str],
          total: dict[str, Any] | None = None) -> str:
    def table(columns: tuple[str, ...], rows: list[dict], foot: dict[str, Any] | None = None) -> str:
        columns = tuple(c for c in columns if c not in NAMES or any(r[c] for r in rows))
        head = "".join(f'<th{" class=text" if c in TEXT else ""}>{html.escape(HEADINGS[c][0])}<br>'
                       f"<small>{html.escape(HEADINGS[c][1])}</small></th>" for c in columns)
        body = "".join("<tr>" + "".join(f'<td class="{_cell(c)}">{html.escape(_shown(c, r[c]))}'
                                        "</td>" for c in columns) + "</tr>" for r in rows)
        end = ""
        if foot is not None:  # every ward together: the words across the name columns, its figures under theirs
            labels = sum(1 for c in columns if c in TEXT)  # the name columns come first
            end = (f'<tfoot><tr><th class="text" colspan="{labels}">Tổng cộng · Total</th>'
                   + "".join(f'<th class="n">{html.escape(_shown(c, foot[c]))}</th>' for c in columns[labels:])
                   + "</tr></tfoot>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>{end}</table>"

    images = "".join(f'<img src="{name}" alt="{name}">' for name in charts)
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Báo cáo một cửa {day_from} – {day_to}</title>
<style>body{{font-family:"Noto Sans",sans-serif;margin:2em;color:#14213d}}
table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccd;padding:4px 10px;text-align:right;vertical-align:top}}th{{background:#eef2f8}}
th small{{font-weight:normal;color:#556}}.text{{text-align:left}}.code{{text-align:left;white-space:nowrap}}
img{{display:block;margin:1em 0}}
</style></head><body>
<h1>Báo cáo Bộ phận một cửa · One-stop centre report</h1>
<p>{html.escape(day_from)} – {html.escape(day_to)} · {len(wards)} phường/xã</p>
<h2>Theo phường · By ward</h2>{table(WARD_COLUMNS, wards, total)}
<h2>Theo thủ tục · By procedure</h2>{table(PROCEDURE_COLUMNS, procs)}
<h2>Biểu đồ · Charts</h2>{images}
<p>Excel: <a href="report.xlsx">report.xlsx</a> ·
CSV: <a href="wards.csv">wards.csv</a>, <a href="procedures.csv">procedures.csv</a></p>
</body></html>
"""


def _workbook(day_from: str, day_to: str, wards: list[dict], procs: list[dict], total: dict[str, Any] | None) -> bytes:
    """The two tables for Excel, headed in Vietnamese, rates as percentages: a CSV opens in one column in an Excel
    set to Vietnamese (its list separator is ";"), and its decimal points read as thousands there."""
    first, last = (f"{d[8:]}/{d[5:7]}/{d[:4]}" for d in (day_from, day_to))  # as a Vietnamese reader writes a date
    said = f"Từ {first} đến {last}" if first != last else f"Ngày {first}"

    def sheet(name: str, title: str, columns: tuple[str, ...], rows: list[dict], foot: dict | None) -> Sheet:
        columns = tuple(c for c in columns if c not in NAMES or any(r[c] for r in rows))
        end = None if foot is None else ["Tổng cộng", *(None if c in TEXT else foot[c] for c in columns[1:])]
        return Sheet(name, [HEADINGS[c][0] for c in columns], [[r[c] for c in columns] for r in rows],
                     [title, said], end, percent=[i for i, c in enumerate(columns) if c in RATES],
                     decimals=[i for i, c in enumerate(columns) if c == "wait_p50_min"])

    return workbook(sheet("Theo phường", "Báo cáo Bộ phận một cửa theo phường/xã", WARD_COLUMNS, wards, total),
                    sheet("Theo thủ tục", "Mức độ hài lòng theo thủ tục", PROCEDURE_COLUMNS, procs, None))


def _csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """UTF-8 with a BOM, as the console's statistics are: Excel, which district staff open these in, reads the
    Vietnamese names right only then."""
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows({c: ("" if r[c] is None else r[c]) for c in columns} for r in rows)


def _cell(column: str) -> str:
    return "code" if column in CODES else "text" if column in TEXT else "n"


def _named(ward: dict[str, Any]) -> str:
    """A ward as a chart labels it: its name, else its id."""
    return ward["ward_name"] or ward["ward"]


def _rate(part: int | None, whole: int | None) -> float | None:
    return round((part or 0) / whole, 3) if whole else None


def _pct(rate: float | None) -> float:
    return round(rate * 100, 1) if rate is not None else 0.0


def _shown(column: str, value: Any) -> str:
    """A cell of the HTML: a rate as a percentage ("88.9 %"), nothing as a dash."""
    if value is None or value == "":
        return "—"
    return f"{_pct(value):.1f} %" if column in RATES else str(value)
