# The console's statistics page, CSV and Excel: groups named in words, the ward's total, the days said, many groups.
from __future__ import annotations

import csv
import io
import re
import sqlite3
import unicodedata
from datetime import date, timedelta

import openpyxl
from openpyxl.utils import get_column_letter

from tests.test_console import sign_in, token


def test_statistics_page_and_csv_name_things_in_words(console: tuple, issue) -> None:  # noqa: ANN001
    live, _, app = console
    issue(1, procedure="1.001193")
    issue(2, service="CT")
    tin = sign_in(app, "tin")
    page = tin.get("/stats?by=service")
    assert page.status_code == 200 and "Hộ tịch" in page.text and "Đã cấp số" in page.text
    total = re.search(r"<tfoot><tr><th>Tổng cộng</th><td>(\d+)</td>", page.text)  # the whole ward, below the services
    assert total is not None and total.group(1) == "3", page.text
    assert "<tfoot>" not in tin.get("/stats?by=ward").text  # one row already is the whole ward
    assert '<text x="150" y="12" class="n">chưa có đánh giá</text>' in page.text  # not a row of nothing
    day = live.board["day"]  # the ward's day, said day first: a browser set to English (US) shows 12/07/2026
    assert f'id="range" class="range">Số liệu ngày {day[8:]}/{day[5:7]}/{day[:4]}</p>' in page.text
    asked = tin.get("/stats?from=2026-12-07&to=2026-11-30").text  # the ends swapped, as the hub was asked
    assert 'id="range" class="range">Số liệu từ 30/11/2026 đến 07/12/2026</p>' in asked
    got = tin.get("/stats.csv?by=procedure")
    assert got.status_code == 200 and "Đăng ký khai sinh (1.001193)" in got.text
    assert got.text.splitlines()[-1].startswith("Tổng cộng,3,")
    assert got.headers["content-disposition"].startswith("attachment")
    tin.post("/lang", data={"lang": "en", "csrftoken": token(tin, "/stats")}, follow_redirects=False)
    asked = tin.get("/stats?from=2026-12-07&to=2026-11-30").text
    assert 'id="range" class="range">Figures from 30 Nov 2026 to 7 Dec 2026</p>' in asked


def test_statistics_say_when_only_the_busiest_groups_are_shown(console: tuple, issue) -> None:  # noqa: ANN001
    live, _, app = console
    for i in range(402):  # more procedures than one reply holds, each with a ticket; two busier than the rest
        issue(2 if i in (7, 401) else 1, procedure=f"1.{i:06d}")
    reply = live.ask(lambda t: t.stats_request, "stats.request", {"day_from": live.board["day"],
                                                                  "day_to": live.board["day"], "by": "procedure"})
    groups = [r["group"] for r in reply.body["rows"]]
    assert reply.body["truncated"] and len(groups) == 400 and groups == sorted(groups)
    assert "1.000007" in groups and "1.000401" in groups  # kept before the groups of one ticket each
    tin = sign_in(app, "tin")
    page = tin.get("/stats?by=procedure")
    assert len(re.findall(r"<tr><th>1\.\d{6}</th>", page.text)) == 400
    assert 'id="cut" class="note">Chỉ hiện 400 nhóm có nhiều lượt cấp số nhất' in page.text
    total = re.search(r"<tfoot><tr><th>Tổng cộng</th><td>(\d+)</td>", page.text)
    assert total is not None and total.group(1) == "404"  # the whole ward, the groups left out included
    lines = tin.get("/stats.csv?by=procedure").text.splitlines()
    assert lines[-2].startswith("Tổng cộng,404,") and lines[-1].startswith("Chỉ hiện 400 nhóm")
    sheet = workbook(tin.get("/stats.xlsx?by=procedure").content)
    assert sheet[-1] == tuple(next(csv.reader([lines[-1]]))) and sheet[-2] == ()  # the note, under a blank row
    assert sheet[-3][:2] == ("Tổng cộng", 404)


def workbook(body: bytes) -> list[tuple]:
    """The workbook's one sheet, row by row, each without its empty cells at the end (a blank row is ())."""
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["Thống kê"] or book.sheetnames == ["Statistics"]
    rows = list(book.active.iter_rows(values_only=True))
    trimmed = []
    for row in rows:
        row = list(row)
        while row and row[-1] is None:
            row.pop()
        trimmed.append(tuple(row))
    return trimmed


def test_the_excel_download_holds_the_csv_s_table_with_numbers_as_numbers(console: tuple, issue,  # noqa: ANN001
                                                                          make_client) -> None:  # noqa: ANN001
    """A CSV opens in one column in an Excel set to Vietnamese (its list separator is ";") and its decimal points read
    as thousands there: the same table as an .xlsx, each figure a number, the names as the page says them."""
    live, _, app = console
    issue(1, procedure="1.001193")
    issue(1)
    issue(2, service="CT")
    counter, rater = make_client("counter-1", role="bridge", counters=(1,)), make_client("rating-1", role="rating")
    assert counter.wait_connected(5) and rater.wait_connected(5)
    for level in (1, 3):  # two served at counter 1 and rated: one satisfied, one not
        for action in ("call_next", "done"):
            counter.request(counter.topics.counter_command(1), "counter.command", {"action": action, "counter": 1},
                            timeout=5)
        reply = rater.request(rater.topics.rating, "rating.submit", {"counter": 1, "level": level, "scale": 3},
                              timeout=5)
        assert reply is not None and reply.type == "rating.recorded", reply
    tin = sign_in(app, "tin")
    got = tin.get("/stats.xlsx?by=service")
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/vnd.openxmlformats")
    day = live.board["day"]
    assert got.headers["content-disposition"] == f'attachment; filename="thong-ke-service-{day}-{day}.xlsx"'
    sheet = workbook(got.content)
    assert sheet[0] == ("Thống kê · Theo dịch vụ",)
    assert sheet[1] == (f"Số liệu ngày {day[8:]}/{day[5:7]}/{day[:4]}",) and sheet[2] == (live.board["ward_vi"],)
    table = [row for row in sheet[4:] if row]
    lines = list(csv.reader(io.StringIO(tin.get("/stats.csv?by=service").text.lstrip("\ufeff"))))
    assert len(table) == len(lines) == 4  # the header, two services, the whole ward
    for row, line in zip(table, lines, strict=True):  # the CSV's table, cell for cell, each figure typed
        assert [("" if v is None else v if isinstance(v, str) else float(v)) for v in row] == [
            v if not v or not v[0].isdigit() else float(v) for v in line[:len(row)]] and not any(line[len(row):])
        assert all(unicodedata.is_normalized("NFC", v) for v in row if isinstance(v, str))
    assert table[0][:3] == ("Dịch vụ", "Đã cấp số", "Đã phục vụ") and table[-1][:2] == ("Tổng cộng", 4)
    assert all(isinstance(v, int) for row in table[1:] for v in row[1:4])
    cells = openpyxl.load_workbook(io.BytesIO(got.content)).active
    formats = {cells.cell(5, c).value: cells.cell(6, c).number_format for c in range(1, len(table[0]) + 1)}
    assert formats["Đúng hạn"] == "0%" and formats["Chờ (trung vị, phút)"] == "0.0"  # a share, minutes to a tenth
    assert formats["Tỷ lệ hài lòng"] == "0%" and table[-1][table[0].index("Tỷ lệ hài lòng")] == 0.5  # 1 of 2 rated
    page = tin.get("/stats?by=service").text
    assert re.search(r"<th>Tổng cộng</th>(<td>[^<]*</td>){10}<td>50%</td>", page), page  # the page says it too
    assert cells.freeze_panes == "B6" and cells.auto_filter.ref == f"A5:{get_column_letter(len(table[0]))}7"
    tin.post("/lang", data={"lang": "en", "csrftoken": token(tin, "/stats")}, follow_redirects=False)
    english = workbook(tin.get("/stats.xlsx?by=service").content)
    assert english[0] == ("Statistics · By service",) and english[-1][0] == "Total"
    assert 'href="/stats.xlsx?from=' in tin.get("/stats").text


def test_statistics_day_by_day_for_a_month_s_trend(console: tuple, hub, issue) -> None:  # noqa: ANN001
    """A ward's leader reads a month's figures day by day: each day its weekday and date, the whole ward's figures,
    the range's total below; a day without tickets has no row."""
    live, _, app = console
    issue(2)
    today = date.fromisoformat(live.board["day"])
    earlier = [(today - timedelta(days=n)).isoformat() for n in (1, 3)]
    with sqlite3.connect(hub.config.data_dir / hub.hub.database) as db:  # past days' tickets, as a hub holds them
        for number, day in enumerate([earlier[0]] * 3 + [earlier[1]], start=1):
            db.execute("INSERT INTO tickets(day, issued_service, number, label, service, status, issued_at, queue_at) "
                       "VALUES (?, 'HT', ?, ?, 'HT', 'no_show', 0, 0)", (day, number, f"A{number:03}"))
    tin = sign_in(app, "tin")
    page = tin.get(f"/stats?by=day&from={earlier[1]}&to={today.isoformat()}").text
    said = [f"{WORDS[d.weekday()]}, {d.day:02}/{d.month:02}/{d.year}" for d in map(date.fromisoformat, [*earlier[::-1],
                                                                                                      live.board["day"]])]
    found = re.findall(r"<tr><th>([^<]+)</th><td>(\d+)</td>", page)
    assert found == [(said[0], "1"), (said[1], "3"), (said[2], "2"), ("Tổng cộng", "6")], found  # oldest first;
    assert "<tfoot><tr><th>Tổng cộng</th><td>6</td>" in page  # the empty day left out; the range's total below
    assert '<option value="day" selected>Ngày</option>' in page
    hours = re.findall(r"<tr><th>(\d\d):00–(\d\d):59</th><td>(\d+)</td>", tin.get("/stats?by=hour").text)
    assert len(hours) == 1 and hours[0][0] == hours[0][1] and hours[0][2] == "2"  # today's two, in their hour
    sheet = workbook(tin.get(f"/stats.xlsx?by=day&from={earlier[1]}&to={today.isoformat()}").content)
    assert sheet[0] == ("Thống kê · Theo ngày",) and [r[:2] for r in sheet[5:9]] == [
        (said[0], 1), (said[1], 3), (said[2], 2), ("Tổng cộng", 6)]


WORDS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
