# The district report from a real collector database: per ward and procedure figures, charts, Excel, CSV, the CLI.
from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from PIL import Image

from bus.upstream import parse
from devkit.configs import write_district_config
from district.store_sqlite import SqliteStore
from provisioning.cli import cli

WARDS = ("phuong-ba-dinh", "phuong-hoan-kiem")


def fill(db_path: Path) -> None:
    db = SqliteStore(db_path)
    for w, ward in enumerate(WARDS):
        for d in (22, 23):
            db.upsert(parse("day_stats", {"ward": ward, "day": f"2026-11-{d}", "service": "HT", "version": 1,
                                           "issued": 100 + w * 50, "served": 90 + w * 50, "no_shows": 10,
                                           "transfers": 0, "within_target": 80, "wait_p50_min": 10.0 + w * 10,
                                           "level_1": 30, "level_2": 10, "level_3": 10 * (w + 1)}))
        for i in range(10):
            db.upsert(parse("rating", {"ward": ward, "day": "2026-11-23", "ticket_id": i + 1, "counter": 1,
                                        "service": "CT", "procedure": "2.000884", "level": 1 if i < 8 - w * 4 else 3,
                                        "scale": 3, "version": 1}))
    db.close()


def test_report_figures_charts_and_csv(tmp_path: Path) -> None:
    config = write_district_config(tmp_path, 1883, list(WARDS), names={"phuong-ba-dinh": "Phường Ba Đình"})
    fill(tmp_path / "district" / "district.db")
    result = CliRunner().invoke(cli, ["district", "report", "--config", str(config), "--from", "2026-11-22",
                                      "--to", "2026-11-23", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert (out / "wards.csv").read_bytes().startswith(b"\xef\xbb\xbfward_name,ward,")  # a BOM: Excel reads UTF-8
    wards = {r["ward"]: r for r in csv.DictReader((out / "wards.csv").read_text(encoding="utf-8-sig").splitlines())}
    assert wards["phuong-ba-dinh"]["served"] == "180" and wards["phuong-ba-dinh"]["satisfaction_rate"] == "0.8"
    assert wards["phuong-hoan-kiem"]["satisfaction_rate"] == "0.667"
    assert wards["phuong-hoan-kiem"]["wait_p50_min"] == "20.0"
    procs = {r["ward"]: r for r in csv.DictReader((out / "procedures.csv").read_text(encoding="utf-8-sig")
                                                  .splitlines())}
    assert procs["phuong-ba-dinh"]["satisfaction_rate"] == "0.8" and procs["phuong-hoan-kiem"]["rated"] == "10"
    assert procs["phuong-ba-dinh"]["procedure_name"] == "Chứng thực chữ ký"  # from the shipped catalogue
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<td class="code">phuong-hoan-kiem</td>' in page and '<td class="code">2.000884</td>' in page
    # a reader's words: headings in Vietnamese with English, rates as percentages, a missing figure as a dash
    assert "<th>Tỷ lệ hài lòng<br><small>Satisfaction</small></th>" in page and "satisfaction_rate" not in page
    assert '<td class="n">80.0 %</td>' in page and '<td class="n">66.7 %</td>' in page
    assert '<td class="text">Chứng thực chữ ký</td>' in page and '<td class="n">—</td>' in page
    assert all(f'src="{c}.png"' in page for c in ("satisfaction", "volume", "waits", "no_shows", "procedures"))
    # a ward by the name the collector's config gives it (the other by its id alone)
    assert wards["phuong-ba-dinh"]["ward_name"] == "Phường Ba Đình" and wards["phuong-hoan-kiem"]["ward_name"] == ""
    assert procs["phuong-ba-dinh"]["ward_name"] == "Phường Ba Đình"
    assert '<td class="text">Phường Ba Đình</td><td class="code">phuong-ba-dinh</td>' in page
    assert '<td class="text">—</td><td class="code">phuong-hoan-kiem</td>' in page
    # every ward together below them: sums, rates of the sums, the served-weighted wait (180 at 10, 280 at 20 min)
    assert ('<tfoot><tr><th class="text" colspan="2">Tổng cộng · Total</th><th class="n">2</th><th class="n">500</th>'
            '<th class="n">460</th><th class="n">40</th><th class="n">8.0 %</th><th class="n">16.1</th>') in page
    for chart in ("satisfaction", "volume", "waits", "no_shows", "procedures"):
        with Image.open(out / f"{chart}.png") as image:
            assert image.format == "PNG" and image.height > 80
    # the same tables for Excel: Vietnamese headings, each figure a number, rates shown as percentages
    book = openpyxl.load_workbook(out / "report.xlsx")
    assert book.sheetnames == ["Theo phường", "Theo thủ tục"] and 'href="report.xlsx"' in page
    sheet = book["Theo phường"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[1] == ["Từ 22/11/2026 đến 23/11/2026", *[None] * (len(rows[3]) - 1)]
    assert rows[3][:4] == ["Phường/xã", "Mã phường/xã", "Số ngày", "Đã cấp số"]
    by_ward = {r[1]: dict(zip(rows[3], r, strict=True)) for r in rows[4:6]}
    assert by_ward["phuong-ba-dinh"]["Đã phục vụ"] == 180 and by_ward["phuong-ba-dinh"]["Tỷ lệ hài lòng"] == 0.8
    assert by_ward["phuong-hoan-kiem"]["Chờ trung vị (phút)"] == 20 and by_ward["phuong-hoan-kiem"]["Phường/xã"] is None
    rate = rows[3].index("Tỷ lệ hài lòng") + 1
    assert sheet.cell(5, rate).number_format == "0%" and sheet.cell(7, rate).number_format == "0%"
    assert rows[6][:6] == ["Tổng cộng", None, 2, 500, 460, 40]  # every ward together, as the HTML's foot
    procedures = [[c.value for c in row] for row in book["Theo thủ tục"].iter_rows()]
    assert ["2.000884", "Chứng thực chữ ký", "Phường Ba Đình", "phuong-ba-dinh"] in [r[:4] for r in procedures]


def test_report_errors_are_clear(tmp_path: Path) -> None:
    config = write_district_config(tmp_path, 1883, list(WARDS))
    missing = CliRunner().invoke(cli, ["district", "report", "--config", str(config), "--from", "2026-11-22",
                                       "--to", "2026-11-23"])
    assert missing.exit_code == 1 and "no collector database" in missing.output
    bad = CliRunner().invoke(cli, ["district", "report", "--config", str(config), "--from", "22/11", "--to", "x"])
    assert bad.exit_code == 1 and "is not a date" in bad.output
    fill(tmp_path / "district" / "district.db")
    broken = tmp_path / "catalogue.json"
    broken.write_text('{"version": 1, "fields": [', encoding="utf-8")
    wrong = CliRunner().invoke(cli, ["district", "report", "--config", str(config), "--from", "2026-11-22",
                                     "--to", "2026-11-23", "--catalogue", str(broken), "--out", str(tmp_path / "o")])
    assert wrong.exit_code == 1 and "catalogue.json" in wrong.output and "Traceback" not in wrong.output, wrong.output


def test_a_report_without_ward_names_leaves_their_column_out_and_a_ward_named_twice_is_refused(tmp_path: Path) -> None:
    config = write_district_config(tmp_path, 1883, list(WARDS))
    fill(tmp_path / "district" / "district.db")
    result = CliRunner().invoke(cli, ["district", "report", "--config", str(config), "--from", "2026-11-22",
                                      "--to", "2026-11-23", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert ">Mã phường/xã<br>" in page and ">Phường/xã<br>" not in page  # no column of dashes, only the ids
    twice = write_district_config(tmp_path / "twice", 1883, list(WARDS), names={"phuong-ba-dinh": "Ba Đình"})
    with open(twice, "a", encoding="utf-8") as f:
        f.write('\n[[district.names]]\nward = "phuong-ba-dinh"\nvi = "Phường Ba Đình"\n')
    refused = CliRunner().invoke(cli, ["district", "report", "--config", str(twice), "--from", "2026-11-22",
                                       "--to", "2026-11-23", "--out", str(tmp_path / "o2")])
    assert refused.exit_code == 1 and "district.names[1].ward: 'phuong-ba-dinh' is named twice" in refused.output


def test_a_chart_label_too_long_for_its_place_ends_in_an_ellipsis() -> None:
    from PIL import ImageDraw, ImageFont

    from district.report import _fit
    from hmi.fonts import font_path

    draw, font = ImageDraw.Draw(Image.new("RGB", (10, 10))), ImageFont.truetype(str(font_path()), 18)
    name = "Thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại dân tộc"
    cut = _fit(draw, name, font, 196)
    assert cut.endswith("…") and name.startswith(cut[:-1]) and draw.textlength(cut, font=font) <= 196
    assert _fit(draw, "Phường Ba Đình", font, 196) == "Phường Ba Đình"
