# The ticket on the citizen's phone, hub side: its token, its look-up, and each service's line state on the bus.
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus import estimate
from bus.messages import TICKET_TOKEN, Message
from hub import line, reads
from hub.service import HubService
from tests.conftest import wait_until
from tests.escpos_decode import decode as decode_job
from tests.test_console import client as web_client
from tests.test_queue import Clock, Ward


def queue_ward(tmp_path: Path) -> tuple[Ward, Clock]:
    clock = Clock("2026-11-23T08:00:00")
    return Ward(tmp_path, clock), clock


def test_each_ticket_has_its_own_unguessable_token_found_until_the_end_of_its_day(tmp_path: Path) -> None:
    ward, clock = queue_ward(tmp_path)
    replies = [ward.do("issue", service="HT") for _ in range(3)]
    tokens = [r["token"] for r in replies]
    assert len(set(tokens)) == 3 and all(re.fullmatch(TICKET_TOKEN, t) for t in tokens)
    assert all(r["ticket"]["label"] not in t for r, t in zip(replies, tokens, strict=True))
    found = reads.answer(ward.queue, "lookup", {"token": tokens[1]})
    assert found == ("ticket.found", {"ticket": ward.queue.ticket_body(replies[1]["ticket"]["id"])})
    assert reads.answer(ward.queue, "lookup", {"token": "x" * 16})[1]["code"] == "unknown_ticket"
    clock.set("2026-11-23T23:59:00")
    assert reads.answer(ward.queue, "lookup", {"token": tokens[0]})[0] == "ticket.found"
    clock.set("2026-11-24T00:01:00")  # the next day: the page says "not found", as for a wrong token
    assert reads.answer(ward.queue, "lookup", {"token": tokens[0]})[1]["code"] == "unknown_ticket"


def test_a_repeated_request_gets_the_same_token(tmp_path: Path) -> None:
    ward, _ = queue_ward(tmp_path)
    first = ward.queue.handle(("kiosk-1", "b9", 1), "issue", service="HT", device="kiosk-1")
    again = ward.queue.handle(("kiosk-1", "b9", 1), "issue", service="HT", device="kiosk-1")
    assert not again.fresh and again.reply["token"] == first.reply["token"]


def test_a_line_state_places_every_waiting_ticket_as_the_hub_counts_ahead(tmp_path: Path) -> None:
    ward, clock = queue_ward(tmp_path)
    ward.do("open", counter=1)
    for priority in (None, None, "elderly", None, "pregnant", None):
        ward.issue("HT", priority)
        clock.advance(1)
    ward.call(1)
    ward.do("skip", counter=1)  # back in line, behind those waiting
    state = reads.line_state(ward.queue, "HT")
    waiting = ward.db.execute("SELECT id FROM tickets WHERE status='issued' AND service='HT'").fetchall()
    assert sorted(state["waiting"]) == sorted(r[0] for r in waiting) and not state["more"]
    for place, ticket_id in enumerate(state["waiting"]):
        assert line.ahead(ward.db, ward.queue._ticket(ticket_id)) == place
    assert estimate.wait_range(state["pace"], 3) == ward.queue.wait_for("HT", 3)


def test_the_line_state_follows_issues_and_calls_on_the_bus(hub: HubService, make_client, issue) -> None:  # noqa: ANN001
    watcher = make_client("console", role="console")
    lines: list[Message] = []
    watcher.subscribe(watcher.topics.line_state("HT"), lambda m, _: lines.append(m))
    watcher.wait_connected(5)
    issue(3)
    wait_until(lambda: lines and len(lines[-1].body["waiting"]) == 3, what="a line state with three waiting")
    before = lines[-1].body["waiting"]
    officer = make_client("counter-1", role="desk", counters=(1,))
    officer.wait_connected(5)
    for action in ("open", "call_next"):
        officer.request(officer.topics.counter_command(1), "counter.command", {"action": action, "counter": 1},
                        timeout=5)
    wait_until(lambda: lines[-1].body["waiting"] == before[1:], what="the called ticket gone from the line")
    assert lines[-1].body["pace"]["open"] == 1
    reply = watcher.request(watcher.topics.ticket_lookup, "ticket.lookup", {"token": "n" * 16}, timeout=5)
    assert reply is not None and reply.type == "error" and reply.body["code"] == "unknown_ticket"


def test_the_printed_qr_opens_the_tickets_phone_page(kiosk_core, printer, make_client) -> None:  # noqa: ANN001
    kiosk_core.kiosk = dataclasses.replace(kiosk_core.kiosk, ticket_page="http://10.10.0.2:8080/t/{token}")
    outcome = kiosk_core.take_ticket("HT")
    assert outcome.state == "printed" and not outcome.offline
    qr = decode_job(printer.jobs[-1]).qr
    assert len(qr) == 1 and qr[0].startswith("http://10.10.0.2:8080/t/"), qr
    token = qr[0].rsplit("/", 1)[1]
    asker = make_client("console", role="console")
    asker.wait_connected(5)
    found = asker.request(asker.topics.ticket_lookup, "ticket.lookup", {"token": token}, timeout=5)
    assert found is not None and found.type == "ticket.found"
    assert found.body["ticket"]["label"] == outcome.ticket["label"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(max_size=80) | st.from_regex(TICKET_TOKEN, fullmatch=True),
       lang=st.sampled_from(["vi", "en", ""]) | st.text(max_size=12), live=st.booleans())
def test_any_ticket_address_gets_a_plain_answer_never_a_fault(console: tuple, token: str, lang: str,
                                                               live: bool) -> None:
    _, _, app = console
    answer = web_client(app).get(f"/t/{quote(token, safe='')}{'/live' if live else ''}", params={"lang": lang})
    assert answer.status_code == 404, (answer.status_code, answer.text[:200])
    if not live and "text/html" in answer.headers.get("content-type", ""):
        assert "Ticket not found" in answer.text or "Không tìm thấy" in answer.text or answer.text == "Not Found"


def test_the_page_and_its_json_twin_show_the_same_ticket(console: tuple, make_client) -> None:  # noqa: ANN001
    _, _, app = console
    kiosk = make_client("kiosk-9")
    kiosk.wait_connected(5)
    reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
    token = reply.body["token"]  # type: ignore[union-attr]
    c = web_client(app)
    wait_until(lambda: c.get(f"/t/{token}", params={"format": "json"}).json().get("ahead") == 0,
               what="the console to have the line state")  # published with the board, within 0.1 s
    page = c.get(f"/t/{token}")
    assert page.status_code == 200 and "A001" in page.text and "Bạn là người tiếp theo" in page.text
    assert "no-store" in page.headers["cache-control"] and "set-cookie" not in page.headers  # no cookie at all
    view = c.get(f"/t/{token}", params={"format": "json"}).json()
    assert view["label"] == "A001" and view["ahead"] == 0 and "token" not in view
    english = c.get(f"/t/{token}", params={"lang": "en"})
    assert "You are next" in english.text and 'lang="en"' in english.text


def test_the_page_says_today_s_working_hours_once_the_ward_has_set_them(console: tuple, make_client) -> None:  # noqa: ANN001
    live, _, app = console
    kiosk = make_client("kiosk-9")
    kiosk.wait_connected(5)
    token = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5).body["token"]
    c = web_client(app)
    assert 'id="hours"' not in c.get(f"/t/{token}").text  # none set: nothing said
    rules = {"hours": ["mon-sun 07:30-11:30 13:30-17:00"]}  # every day: the words do not depend on today
    admin = make_client("console-2", role="console")
    admin.wait_connected(5)
    assert admin.request(admin.topics.admin_request, "admin.command", {"action": "hours", "data": rules, "by": "IT"},
                         timeout=10).type == "admin.result"
    wait_until(lambda: live.board.get("hours_vi"), what="the board state with the hours")
    assert "Giờ làm việc hôm nay: 07:30–11:30, 13:30–17:00" in c.get(f"/t/{token}").text
    assert "Open today: 07:30–11:30, 13:30–17:00" in c.get(f"/t/{token}", params={"lang": "en"}).text


def test_a_remembered_ticket_of_an_earlier_day_is_not_shown(tmp_path: Path, broker) -> None:  # noqa: ANN001
    from console.config import load_console
    from console.follow import Followers
    from console.live import LiveWard
    from devkit.broker import free_port
    from devkit.configs import write_console_config

    live = LiveWard(*load_console(str(write_console_config(tmp_path, broker.port, free_port()))))
    followers = Followers(live)
    ticket = {"id": 4, "day": "2026-12-02", "label": "A004", "service": "HT", "service_vi": "Hộ tịch",
              "service_en": "Civil status", "status": "issued"}
    followers.remember("t" * 16, ticket)
    live.board = {"day": "2026-12-02"}
    assert followers.known("t" * 16) == ticket
    live.board = {"day": "2026-12-03"}  # midnight: the page asks the hub again, which no longer knows the token
    assert followers.known("t" * 16) is None


def test_a_console_stopping_ends_its_open_pages_streams_cleanly(tmp_path: Path, broker, hub: HubService,  # noqa: ANN001
                                                                 make_client) -> None:  # noqa: ANN001
    """A stream that never ends by itself held the console's stop for its whole grace, then was cut off mid-body:
    ended by the console, it closes as a finished response (the browser's EventSource reconnects either way)."""
    import http.client
    import threading

    from console.main import ConsoleService
    from devkit.broker import free_port
    from tests.conftest import _console_config

    port = free_port()
    service = ConsoleService(str(_console_config(tmp_path, broker, port)[0]))
    service.start()
    kiosk = make_client("kiosk-9")
    kiosk.wait_connected(5)
    token = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5).body["token"]  # type: ignore[union-attr]
    stopper = threading.Thread(target=service.stop)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", f"/t/{token}/live")
        answer = conn.getresponse()
        assert answer.status == 200
        while not (line := answer.readline()).startswith(b"data:"):
            assert line, "the stream ended before its first event"
        assert b'"kind": "view"' in line
        wait_until(lambda: service.followers.following == 1, what="the page to be followed")
        stopper.start()
        rest = answer.read()  # the old console cut the body off: http.client.IncompleteRead
        assert answer.isclosed()
        assert (line + rest).endswith(b"\r\n\r\n"), rest  # whole events only (another may come before the stop)
    finally:
        if stopper.ident is None:
            service.stop()
        stopper.join(10)
    assert not service._thread.is_alive()
