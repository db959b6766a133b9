# The ward's working hours: rules checked as config, breaks and closing in every wait, and the words each reader shows.
from __future__ import annotations

import dataclasses
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus import estimate, hours
from bus.errors import ConfigError
from bus.messages import PACE, WAIT, validate_body
from bus.validation import Invalid, check_record
from console.follow import shown
from devkit.broker import Broker
from devkit.configs import write_hub_config, write_kiosk_config
from display.board import wait_said
from hub import reads, stats
from hub.board import board_state
from hub.config import load_hub
from hub.service import HubService
from kiosk.config import load_kiosk
from kiosk.core import KioskCore, wait_words
from kiosk.printing.fake import FakePrinter
from tests.conftest import wait_until
from tests.test_queue import VN, Clock, Ward

RULES = ["mon-fri 07:30-11:30 13:30-17:00", "sat 07:30-11:30"]
MONDAY = "2026-11-23"
PRINTABLE = st.characters(blacklist_categories=("Cs", "Cc"))  # what a TOML basic string holds written as it is


def at(when: str) -> float:
    return datetime.fromisoformat(f"{MONDAY}T{when}").replace(tzinfo=VN).timestamp()


def pace(p25: float, p75: float, day: str = MONDAY) -> dict[str, Any]:
    parsed = hours.parse(RULES, "test", "hub.hours")
    assert parsed is not None
    return {"open": 1, "samples": 10, "enough": True, "p25": p25, "p75": p75,
            "hours": parsed.sessions(day, "Asia/Ho_Chi_Minh")}


def hub_config(tmp_path: Path, rules: list[str], port: int = 1883) -> Path:
    """The demo ward's hub config with these working hours."""
    path = write_hub_config(tmp_path, port)
    text = path.read_text(encoding="utf-8")
    listed = json.dumps(rules, ensure_ascii=False)
    zone = 'timezone = "Asia/Ho_Chi_Minh"\n'
    path.write_text(text.replace(zone, f"{zone}hours = {listed}\n"), encoding="utf-8")
    return path


@pytest.mark.parametrize(("now", "ahead", "wait"), [
    ("09:00", 2, {"known": True, "low_min": 20, "high_min": 30}),  # a morning wait: as without hours
    ("11:20", 2, {"known": True, "low_min": 140, "high_min": 150}),  # 10 min before lunch, the rest after 13:30
    ("12:00", 0, {"known": True, "low_min": 90, "high_min": 100}),  # taken in the break: nobody is called till 13:30
    ("07:00", 0, {"known": True, "low_min": 30, "high_min": 40}),  # before opening
    ("16:40", 1, {"known": True, "low_min": 10, "high_min": 20}),  # the longest ends at 17:00 sharp
    ("16:45", 1, {"known": True, "low_min": 10, "high_min": 15, "closing": True}),  # the longest goes past 17:00
    ("16:55", 1, {"known": False, "reason": "after_closing"}),  # even the shortest does
    ("17:30", 0, {"known": False, "reason": "closed"}),
])
def test_a_wait_counts_the_break_before_it_and_says_when_it_reaches_past_closing(now: str, ahead: int,
                                                                                wait: dict[str, Any]) -> None:
    got = estimate.wait_range(pace(10, 10), ahead, at(now))
    assert got == wait
    check_record(WAIT, got, "wait")  # what the hub sends in a ticket
    assert estimate.wait_range({**pace(10, 10), "hours": None}, ahead, at(now))["low_min"] == 10 * ahead
    assert estimate.wait_range(pace(10, 10), ahead)["low_min"] == 10 * ahead  # no clock: working minutes


def test_a_day_no_rule_names_is_closed_and_no_rules_means_always_open() -> None:
    sunday = datetime(2026, 11, 29, 9, tzinfo=VN).timestamp()
    assert pace(10, 10, "2026-11-29")["hours"] == []
    assert estimate.wait_range(pace(10, 10, "2026-11-29"), 0, sunday) == {"known": False, "reason": "closed"}
    saturday = pace(10, 10, "2026-11-28")["hours"]
    assert [[datetime.fromtimestamp(t, VN).strftime("%H:%M") for t in s] for s in saturday] == [["07:30", "11:30"]]
    assert hours.parse([], "test", "hub.hours") is None


def test_a_wait_from_the_middle_of_a_session_is_not_cut_by_rounding() -> None:
    """Found by the property below on a CI run: now + 120 - now is 119.99999999999999 s for this `now`, and the
    two working minutes of the wait came out as one on the clock."""
    p = {"open": 1, "samples": 10, "enough": True, "p25": 0.0625, "p75": 0.0625, "hours": [[0, 129]]}
    assert estimate.wait_range(p, 32, 8.697301489907844)["low_min"] == estimate.wait_range(p, 32)["low_min"] == 2


@settings(max_examples=300, deadline=None)
@given(starts=st.lists(st.integers(0, 20 * 3600), max_size=5, unique=True), lengths=st.data(),
       now=st.floats(-3600, 30 * 3600), p25=st.floats(0, 120), spread=st.floats(0, 120), ahead=st.integers(0, 500))
def test_hours_never_shorten_a_wait_and_every_wait_keeps_to_the_contract(starts: list[int], lengths: st.DataObject,
                                                                          now: float, p25: float, spread: float,
                                                                          ahead: int) -> None:
    sessions, end = [], 0
    for start in sorted(starts):
        if start >= end:
            end = start + lengths.draw(st.integers(1, 6 * 3600))
            sessions.append([start, end])
    p = {"open": 1, "samples": 10, "enough": True, "p25": p25, "p75": p25 + spread, "hours": sessions}
    check_record(PACE, p, "pace")
    working, got = estimate.wait_range({**p, "hours": None}, ahead), estimate.wait_range(p, ahead, now)
    check_record(WAIT, got, "wait")
    if got["known"]:
        assert got["low_min"] >= working["low_min"] and got["high_min"] >= got["low_min"]
    else:
        assert got["reason"] in ("closed", "after_closing")


@pytest.mark.parametrize(("rules", "key", "problem"), [
    (["fri-mon 07:30-11:30"], "hub.hours[0]", "fri-mon, not mon-fri"),
    (["mon 07:30-11:30 11:00-17:00"], "hub.hours[0]", "11:00 starts before 11:30"),
    (["mon 11:30-07:30"], "hub.hours[0]", "a session ends after it starts"),
    (["mon 07:30-25:00"], "hub.hours[0]", "25:00 is not a time of day"),
    (["mon-fri 07:30-11:30", "fri 13:30-17:00"], "hub.hours[1]", "fri already has its hours"),
    (["monday 07:30-11:30"], "hub.hours[0]", "a rule such as"),
    (["mon 7:30-11:30"], "hub.hours[0]", "a rule such as"),
])
def test_wrong_hours_are_refused_naming_the_rule_and_what_is_wrong(tmp_path: Path, rules: list[str], key: str,
                                                                    problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_hub(str(hub_config(tmp_path, rules)))
    assert caught.value.key.startswith(key) and problem in caught.value.problem, caught.value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rules=st.lists(st.one_of(st.text(PRINTABLE, max_size=40), st.from_regex(hours.RULE, fullmatch=True)),
                      max_size=4))
def test_any_hours_text_loads_or_is_refused_by_a_clear_error(tmp_path: Path, rules: list[str]) -> None:
    try:
        _, section = load_hub(str(hub_config(tmp_path, rules)))
    except ConfigError as exc:
        assert exc.key.startswith("hub.hours"), exc
        return
    parsed = hours.parse(section.hours, "test", "hub.hours")
    for d in range(7):
        day = (datetime(2026, 11, 23) + timedelta(days=d)).date().isoformat()
        check_record(PACE, {"open": 0, "samples": 0, "enough": False,
                            "hours": parsed.sessions(day, section.timezone) if parsed else []}, "pace")


def test_a_kiosk_shows_no_hours_from_rules_that_do_not_hold(tmp_path: Path, broker: Broker) -> None:
    """A services list from a hostile or older sender: rules that match the pattern but not each other."""
    kiosk_config, kiosk, printer_cfg, _ = load_kiosk(str(write_kiosk_config(tmp_path, broker.port,
                                                                            printer_backend="fake")))
    (tmp_path / "kiosk-1").mkdir(exist_ok=True)
    (tmp_path / "kiosk-1" / "services.json").write_text(json.dumps({"hours": ["mon 07:30-11:30", "mon 13:30-17:00"]}))
    core = KioskCore(kiosk_config, kiosk, printer_cfg, FakePrinter(timeout=1.0))
    assert core.hours_today("vi") == ""
    (tmp_path / "kiosk-1" / "services.json").write_text(json.dumps({"hours": [7, None]}))
    assert KioskCore(kiosk_config, kiosk, printer_cfg, FakePrinter(timeout=1.0)).hours_today("en") == ""


def test_sessions_out_of_order_are_refused_by_the_contract() -> None:
    for bad in ([[10, 5]], [[10, 20], [15, 30]], [[1, 2, 3]], [[5]]):
        with pytest.raises(Invalid):
            check_record(PACE, {"open": 1, "samples": 0, "enough": False, "hours": bad}, "pace")


def ten_minute_services(tmp_path: Path, clock: Clock) -> Ward:
    """A ward with RULES for hours: eight tickets, five services of ten minutes done, the sixth at counter 1, two
    waiting."""
    ward = Ward(tmp_path, clock)
    ward.section = dataclasses.replace(ward.section, hours=RULES)
    ward.restart()
    ward.do("open", counter=1)
    for _ in range(8):
        ward.issue()
    for _ in range(6):
        ward.call(1)
        clock.advance(10)
    return ward


def test_the_hub_gives_the_break_in_a_ticket_s_wait_and_its_line_state_carries_the_hours(tmp_path: Path) -> None:
    clock = Clock(f"{MONDAY}T08:00:00")
    ward = ten_minute_services(tmp_path, clock)
    clock.set(f"{MONDAY}T11:20:00")
    ticket = ward.issue()
    assert ticket["ahead"] == 2 and ticket["wait"] == {"known": True, "low_min": 140, "high_min": 150}
    line = reads.line_state(ward.queue, "HT")
    assert line["pace"]["hours"] == [[at("07:30"), at("11:30")], [at("13:30"), at("17:00")]]
    # the phone page, in the break on its own clock, nobody called since: all 20-30 working minutes after 13:30
    assert estimate.wait_range(line["pace"], 2, at("12:30")) == {"known": True, "low_min": 80, "high_min": 90}
    board = validate_body("board.state", board_state(ward.queue, ward.section))  # the board says the day's hours
    assert board["hours_vi"] == "Giờ làm việc hôm nay: 07:30–11:30, 13:30–17:00"
    clock.set("2026-11-29T09:00:00")  # Sunday
    assert board_state(ward.queue, ward.section)["hours_en"] == "Closed today"
    assert ward.issue()["wait"] == {"known": False, "reason": "closed"}


def test_while_the_day_is_held_after_a_clock_jump_the_hours_are_the_clock_s_day(tmp_path: Path) -> None:
    """A hub booted on Sunday evening's saved time numbers on Sunday; NTP moves its clock to Monday morning while
    Sunday's tickets wait (hub/day.py). Their numbers go on, but waits and the board follow Monday's hours."""
    clock = Clock("2026-11-22T18:00:00")
    ward = ten_minute_services(tmp_path, clock)
    clock.jump(f"{MONDAY}T09:10:00")
    ticket = ward.issue()
    assert ticket["day"] == "2026-11-22" and ticket["wait"]["known"], ticket  # not "closed", as Sunday is
    assert board_state(ward.queue, ward.section)["hours_vi"] == "Giờ làm việc hôm nay: 07:30–11:30, 13:30–17:00"


def test_a_visit_counts_against_its_target_in_working_minutes(tmp_path: Path) -> None:
    """Administrative time limits run in working hours: a visit across the lunch break is not late for the break."""
    clock = Clock(f"{MONDAY}T09:00:00")
    ward = Ward(tmp_path, clock)
    for issued, done in (("09:00", "09:45"), ("11:25", "13:40")):  # 45 working minutes; 5 + 10 across lunch
        clock.set(f"{MONDAY}T{issued}:00")
        ward.issue("HT")  # the demo ward's target for HT: 30 minutes
        ward.call(1)
        clock.set(f"{MONDAY}T{done}:00")
        ward.do("done", counter=1)
    with_hours = dataclasses.replace(ward.section, hours=RULES)
    on_clock, working = (stats.compute(ward.db, section, MONDAY, MONDAY)[0] for section in (ward.section, with_hours))
    assert (on_clock["served"], on_clock["within_target"]) == (2, 0.0)
    assert (working["served"], working["within_target"]) == (2, 0.5)


def test_a_service_across_the_lunch_break_is_a_sample_of_its_working_minutes(tmp_path: Path) -> None:
    clock = Clock(f"{MONDAY}T10:45:00")
    ward = Ward(tmp_path, clock)
    ward.section = dataclasses.replace(ward.section, hours=RULES)
    ward.restart()
    for _ in range(5):
        ward.issue()
    for _ in range(3):  # counter 1: three services of ten minutes, the fourth called at 11:15
        ward.call(1)
        clock.advance(10)
    ward.call(1)
    clock.set(f"{MONDAY}T11:25:00")
    ward.call(2)  # counter 2 (HT too) calls the fifth
    clock.set(f"{MONDAY}T13:35:00")
    ward.do("done", counter=1)  # 140 minutes on the clock, 20 of them working
    ward.do("done", counter=2)  # 130 on the clock, 10 working
    pace = ward.queue.pace("HT")
    assert (pace["samples"], pace["p25"], pace["p75"]) == (5, 10, 10)  # on the clock p75 would be 130
    assert stats.compute(ward.db, ward.queue.hub, MONDAY, MONDAY)[0]["service_p90_min"] == 16.0  # not 136


def test_working_seconds_leave_out_breaks_nights_and_closed_days() -> None:
    parsed = hours.parse(RULES, "test", "hub.hours")
    assert parsed is not None
    tz = "Asia/Ho_Chi_Minh"
    assert parsed.working_seconds(at("11:25"), at("13:40"), tz) == 15 * 60
    assert parsed.working_seconds(at("16:55"), at("07:45") + 86400, tz) == 20 * 60  # overnight to Tuesday
    saturday_noon = datetime(2026, 11, 28, 11, 0, tzinfo=VN).timestamp()
    assert parsed.working_seconds(saturday_noon, at("08:00") + 7 * 86400, tz) == 60 * 60  # Sat 30 min, Mon 30 min
    assert parsed.working_seconds(at("12:00"), at("11:00"), tz) == -3600  # a clock that went back stays negative
    assert parsed.working_seconds(at("08:00"), at("08:00") + 40 * 86400, tz) == 40 * 86400  # a jump: on the clock


def test_ward_it_reads_the_week_back_as_the_rules_were_understood() -> None:
    read = hours.parse(["mon 07:30-11:30", "wed 07:30-11:30", "sat-sun 08:00-10:00"], "test", "hub.hours")
    assert read is not None
    assert read.week_said() == "mon 07:30–11:30; tue closed; wed 07:30–11:30; thu-fri closed; sat-sun 08:00–10:00"


def test_each_reader_says_why_there_is_no_range() -> None:
    closing = {"known": True, "low_min": 10, "high_min": 20, "closing": True}
    assert wait_words(closing, "vi") == "từ 10 phút, có thể không kịp hôm nay"
    assert wait_words({"known": False, "reason": "closed"}, "vi") == "ngoài giờ làm việc"
    assert wait_words({"known": False, "reason": "after_closing"}, "en") == "may not be reached today"
    assert wait_words({"known": False, "reason": "too_little_data"}, "vi") == "chưa ước tính được"
    nobody = {"known": False, "reason": "no_counter_open"}  # before the officers open their counters
    assert wait_words(nobody, "vi") == "chưa có quầy mở"
    assert wait_said(nobody) == "chưa mở quầy" and wait_said({"known": False, "reason": "too_little_data"}) == "—"
    page = {"status": "issued", "ahead": 3, "service_vi": "Hộ tịch", "service_en": "Civil status"}
    assert shown({**page, "wait": closing}, "vi")["wait"] == "Dự kiến chờ từ 10 phút; có thể không kịp trong hôm nay"
    assert shown({**page, "wait": {"known": False, "reason": "closed"}}, "en")["wait"] == "Outside working hours"
    assert shown({**page, "wait": nobody}, "en")["wait"] == "No counter is open for it yet"
    assert shown({**page, "wait": {"known": True, "low_min": 5, "high_min": 9}}, "vi")["wait"] == "Dự kiến chờ 5–9 phút"
    one = {"known": True, "low_min": 0, "high_min": 0}  # nobody ahead, no service times yet: said as one number
    assert wait_words(one, "vi") == "0 phút" and shown({**page, "wait": one}, "en")["wait"] == "Expected wait 0 min"


def test_a_kiosk_on_a_day_the_ward_is_closed_prints_that_it_is_closed(tmp_path: Path, broker: Broker) -> None:
    now = datetime.now(VN)
    if now.hour == 23 and now.minute == 59:  # the day must not change between the rule and the ticket
        time.sleep(61 - now.second)
    other_days = [d for i, d in enumerate(hours.DAYS) if i != datetime.now(VN).weekday()]
    config, section = load_hub(str(hub_config(tmp_path, [f"{d} 07:30-11:30" for d in other_days], broker.port)))
    hub = HubService(config, section)
    hub.start()
    kiosk_config, kiosk, printer_cfg, _ = load_kiosk(str(write_kiosk_config(tmp_path, broker.port,
                                                                            printer_backend="fake")))
    core = KioskCore(kiosk_config, kiosk, printer_cfg, FakePrinter(timeout=1.0))
    core.start()
    try:
        wait_until(lambda: core.services and core.hub_ok, what="the kiosk to learn the services")
        out = core.take_ticket("HT")
        assert out.state == "printed" and out.ticket["wait"] == {"known": False, "reason": "closed"}
        assert wait_words(out.ticket["wait"], "vi") == "ngoài giờ làm việc"
        assert core.hours_today("vi") == "Hôm nay không làm việc"  # on its home screen
    finally:
        core.stop()
        hub.stop()


def test_the_board_s_waits_follow_the_clock_into_closing_time_without_a_request(tmp_path: Path, broker: Broker,
                                                                                 make_client) -> None:  # noqa: ANN001
    now = [at("16:00")]
    config, section = load_hub(str(hub_config(tmp_path, RULES, broker.port)))
    hub = HubService(config, section, clock=lambda: now[0])
    hub.hours_interval = 0.3  # a minute in a ward: the test does not wait that long
    hub.start()
    try:
        watcher = make_client("board-1", role="display")
        boards: list[Any] = []
        watcher.subscribe(watcher.topics.board_state, lambda m, _: boards.append(m.body))

        def wait_for(service: str) -> dict[str, Any]:
            return next(row["wait"] for row in boards[-1]["waiting"] if row["service"] == service)

        wait_until(lambda: boards, what="the board state")
        assert wait_for("HT") == {"known": False, "reason": "no_counter_open"}
        now[0] = at("17:05")  # the doors close; nobody asks the hub anything
        wait_until(lambda: wait_for("HT") == {"known": False, "reason": "closed"}, what="the board to say closed")
    finally:
        hub.stop()
