# The console's statistics page and CSV: groups named in words, the whole ward's total, the days said, many groups.
from __future__ import annotations

import re

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
    csv = tin.get("/stats.csv?by=procedure")
    assert csv.status_code == 200 and "Đăng ký khai sinh (1.001193)" in csv.text
    assert csv.text.splitlines()[-1].startswith("Tổng cộng,3,")
    assert csv.headers["content-disposition"].startswith("attachment")
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
    csv = tin.get("/stats.csv?by=procedure").text.splitlines()
    assert csv[-2].startswith("Tổng cộng,404,") and csv[-1].startswith("Chỉ hiện 400 nhóm")
