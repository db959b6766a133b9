# The ward's settings changed over the bus: checked like the TOML, stored as versions, applied at once, kept.
from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bus import hours
from bus.messages import Message
from hub.config import load_hub
from hub.service import HubService
from tests.conftest import wait_until


def services_now(hub: HubService) -> list[dict]:
    return [{"code": s.code, "prefix": s.prefix, "name_vi": s.name_vi, "name_en": s.name_en,
             "procedures": list(s.procedures), "target_minutes": s.target_minutes} for s in hub.hub.services]


def admin(console, action: str, data: object, by: str = "Lê Văn Quản trị") -> Message:  # noqa: ANN001
    reply = console.request(console.topics.admin_request, "admin.command", {"action": action, "data": data,
                                                                             "by": by}, timeout=10)
    assert reply is not None
    return reply


@pytest.fixture
def console(make_client):  # noqa: ANN001, ANN201
    client = make_client("console", role="console")
    client.wait_connected(5)
    return client


def test_an_admin_renames_a_service_and_every_kiosk_sees_it(hub: HubService, console, kiosk_core,  # noqa: ANN001
                                                             hub_config: Path) -> None:
    services = services_now(hub)
    services[0]["name_vi"] = "Hộ tịch - Khai sinh, kết hôn, khai tử"
    reply = admin(console, "services", services)
    assert reply.type == "admin.result" and reply.body["version"] >= 1
    wait_until(lambda: kiosk_core.services["HT"]["name_vi"] == services[0]["name_vi"], what="the kiosk updated")
    assert hub.settings.history()[0]["by"] == "Lê Văn Quản trị"
    hub.stop()
    again = HubService(*load_hub(str(hub_config)))  # the TOML says otherwise: the stored version wins
    try:
        assert again.hub.services[0].name_vi == services[0]["name_vi"]
    finally:
        again.db.close()


@pytest.mark.parametrize(("action", "data", "where"), [
    ("services", [{"code": "HT", "prefix": "A", "name_vi": "x", "name_en": "x", "target_minutes": 0}],
     "services[0].target_minutes"),
    ("services", "not a list", "services"),
    ("counters", [{"id": 1, "name_vi": "Q1", "name_en": "C1", "services": ["ZZ"]}], "hub.counters[0].services"),
    ("notice", {"notice": "x" * 3000}, "notice.notice"),
    ("notice", {"notice": "<script>alert(1)</script>", "colour": "red"}, "notice.colour"),
    ("catalogue", {"version": 1, "link_template": "no code here", "fields": []}, "catalogue.link_template"),
    ("hours", {"hours": ["every day 07:30-17:00"]}, "hours.hours[0]"),
    ("hours", {"hours": ["mon-fri 07:30-11:30", "fri 13:30-17:00"]}, "hub.hours[1]: 'fri 13:30-17:00': fri already"),
])
def test_a_change_the_toml_would_refuse_is_refused_and_changes_nothing(hub: HubService, console, action: str,  # noqa: ANN001
                                                                        data: object, where: str) -> None:
    before = (hub.hub, hub.catalogue)
    reply = admin(console, action, data)
    assert reply.type == "error" and reply.body["code"] == "invalid" and where in reply.body["reason"], reply.body
    assert (hub.hub, hub.catalogue) == before and hub.settings.history() == []


def test_what_is_still_in_use_cannot_be_removed(hub: HubService, console, make_client) -> None:  # noqa: ANN001
    kiosk = make_client("kiosk-1")
    kiosk.wait_connected(5)
    kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "XH"}, timeout=5)
    without_xh = [s for s in services_now(hub) if s["code"] != "XH"]
    counters = [{"id": c.id, "name_vi": c.name_vi, "name_en": c.name_en,
                 "services": [x for x in c.services if x != "XH"]} for c in hub.hub.counters]
    assert admin(console, "counters", counters).type == "admin.result"
    refused = admin(console, "services", without_xh)
    assert refused.body["code"] == "in_use" and "XH" in refused.body["reason"]


def test_notice_counters_and_catalogue_reach_the_board_and_kiosks(hub: HubService, console, make_client,  # noqa: ANN001
                                                                  kiosk_core) -> None:
    board = make_client("board-1", role="display")
    states: list[Message] = []
    board.subscribe(board.topics.board_state, lambda m, _: states.append(m))
    board.wait_connected(5)
    assert admin(console, "notice", {"notice": "Chiều nay nghỉ từ 16:00."}).type == "admin.result"
    wait_until(lambda: states and states[-1].body["notice"] == "Chiều nay nghỉ từ 16:00.", what="the new notice")
    counters = [{"id": c.id, "name_vi": c.name_vi, "name_en": c.name_en, "services": list(c.services)}
                for c in hub.hub.counters]
    counters.append({"id": 5, "name_vi": "Quầy 5", "name_en": "Counter 5", "services": ["HT"]})
    assert admin(console, "counters", counters).type == "admin.result"
    wait_until(lambda: [c["counter"] for c in states[-1].body["counters"]] == [1, 2, 3, 4, 5], what="counter 5")
    catalogue = json.loads(json.dumps(kiosk_core.catalogue.to_dict()))
    catalogue["fields"][0]["procedures"][0]["fee_vi"] = "Miễn phí (đổi tại quầy)"
    version = kiosk_core.catalogue.version
    assert admin(console, "catalogue", catalogue).type == "admin.result"
    wait_until(lambda: kiosk_core.catalogue.version > version, what="the kiosk's catalogue")
    assert kiosk_core.catalogue.fields[0].procedures[0].fee_vi == "Miễn phí (đổi tại quầy)"


def test_an_admin_sets_the_working_hours_and_every_wait_and_reader_takes_them(hub: HubService, console,  # noqa: ANN001
                                                                              make_client, hub_config: Path) -> None:
    kiosk = make_client("kiosk-1")
    lists: list[Message] = []
    kiosk.subscribe(kiosk.topics.services, lambda m, _: lists.append(m))
    kiosk.wait_connected(5)
    ask = {"service": "HT"}
    assert kiosk.request(kiosk.topics.ticket_request, "ticket.request", ask, timeout=5).body["ticket"]["wait"] == {
        "known": False, "reason": "no_counter_open"}  # no hours: the wait as before
    now = datetime.now(ZoneInfo(hub.hub.timezone))
    if now.hour == 23 and now.minute == 59:  # the day must not change between the rule and the ticket
        time.sleep(61 - now.second)
    closed_today = [f"{d} 07:30-11:30" for i, d in enumerate(hours.DAYS) if i != datetime.now(ZoneInfo(
        hub.hub.timezone)).weekday()]
    assert admin(console, "hours", {"hours": closed_today}).type == "admin.result"
    wait_until(lambda: lists and lists[-1].body.get("hours") == closed_today, what="the services list with hours")
    reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", ask, timeout=5)
    assert reply.body["ticket"]["wait"] == {"known": False, "reason": "closed"}
    hub.stop()
    again = HubService(*load_hub(str(hub_config)))  # the TOML has no hours: the stored version wins
    try:
        assert again.hub.hours == closed_today and again.queue.hours is not None
    finally:
        again.db.close()


def test_statistics_are_asked_for_over_the_bus(hub: HubService, console, make_client) -> None:  # noqa: ANN001
    kiosk = make_client("kiosk-1")
    kiosk.wait_connected(5)
    for _ in range(3):
        kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT", "procedure": "1.001193"},
                      timeout=5)
    day = hub.queue.today()
    reply = console.request(console.topics.stats_request, "stats.request",
                            {"day_from": day, "day_to": day, "by": "procedure"}, timeout=10)
    assert reply is not None and reply.type == "stats.result" and not reply.body["truncated"]
    rows = {r["group"]: r for r in reply.body["rows"]}
    assert rows["1.001193"]["issued"] == 3 and rows["1.001193"]["day"] == f"{day}..{day}"


def test_statistics_of_many_groups_arrive_whole(hub: HubService, console, make_client) -> None:  # noqa: ANN001
    """A year by procedure can hold a few hundred groups, at about 600 bytes a row: past about a hundred the reply was
    over a message's 64 KiB, and the console refused it and said the hub did not answer. It goes deflated now."""
    kiosk = make_client("kiosk-1")
    kiosk.wait_connected(5)
    codes = [f"1.{i:06d}" for i in range(160)]
    for code in codes:
        assert kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT", "procedure": code},
                             timeout=5) is not None
    day = hub.queue.today()
    reply = console.request(console.topics.stats_request, "stats.request",
                            {"day_from": day, "day_to": day, "by": "procedure"}, timeout=10)
    assert reply is not None and reply.type == "stats.result" and not reply.body["truncated"]
    assert [r["group"] for r in reply.body["rows"]] == codes and b'"body_z":' in reply.encode()
