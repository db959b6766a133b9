# The hub's queue on a real SQLite file: lifecycle, numbering per local day, priority policy, dedup, estimates.
from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from devkit.configs import write_hub_config
from hub.config import load_hub
from hub.queue import Queue
from hub.store import open_db, prune_handled

VN = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock:
    """A settable wall clock, as the Pi's own clock would be after NTP (or before it), and the time since boot.
    `set` and `advance` let time pass (both move); `jump` sets the wall clock alone, as NTP or a hand does."""

    def __init__(self, when: str) -> None:
        self.now = datetime.fromisoformat(when).replace(tzinfo=VN).timestamp()
        self.up = 1000.0

    def __call__(self) -> float:
        return self.now

    def since_boot(self) -> float:
        return self.up

    def set(self, when: str) -> None:
        self.advance((datetime.fromisoformat(when).replace(tzinfo=VN).timestamp() - self.now) / 60)

    def jump(self, when: str) -> None:
        self.now = datetime.fromisoformat(when).replace(tzinfo=VN).timestamp()

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60
        self.up += max(0.0, minutes * 60)  # a clock set back did not take time back


class Ward:
    """A queue on a real database file, with a request key per call as the bus would give."""

    def __init__(self, tmp_path: Path, clock: Clock) -> None:
        self.tmp_path = tmp_path
        self.clock = clock
        _, self.section = load_hub(str(write_hub_config(tmp_path, 1883)))
        self.seq = itertools.count(1)
        self.boots = itertools.count(1)
        self.boot = f"boot-{next(self.boots)}"
        self.open()

    def open(self) -> None:
        self.db = open_db(self.tmp_path / "hub" / "hub.db")  # where the config written above says it lives
        self.queue = Queue(self.db, self.section, self.clock, self.clock.since_boot, self.boot)

    def restart(self) -> None:
        """The hub's process started again (an update, a crash, ward IT): the same boot."""
        self.db.close()
        self.open()

    def reboot(self, up: float = 30.0) -> None:
        """The machine started again (a power cut): another boot id, its time since boot from `up`."""
        self.boot, self.clock.up = f"boot-{next(self.boots)}", up
        self.restart()

    def do(self, op: str, device: str = "kiosk-1", **args: object) -> dict:
        if op in ("issue", "confirm", "offline"):  # as hub/service.py passes the sender along
            args["device"] = device
        out = self.queue.handle((device, "b001", next(self.seq)), op, **args)
        return {"type": out.reply_type, **out.reply}

    def issue(self, service: str = "HT", priority: str | None = None) -> dict:
        reply = self.do("issue", service=service, priority=priority)
        assert reply["type"] == "ticket.issued", reply
        return reply["ticket"]

    def call(self, counter: int) -> dict:
        return self.do("call_next", device=f"counter-{counter}", counter=counter)


@pytest.fixture
def clock() -> Clock:
    return Clock("2026-11-23T08:00:00")


@pytest.fixture
def ward(tmp_path: Path, clock: Clock) -> Ward:
    return Ward(tmp_path, clock)


def test_numbers_count_per_service_with_prefix(ward: Ward) -> None:
    labels = [ward.issue("HT")["label"] for _ in range(3)] + [ward.issue("CT")["label"]]
    assert labels == ["A001", "A002", "A003", "B001"]


def test_lifecycle_issue_call_serve_done(ward: Ward, clock: Clock) -> None:
    t = ward.issue("HT")
    assert t["status"] == "issued" and t["ahead"] == 0
    called = ward.call(1)
    assert called["ticket"]["label"] == t["label"] and called["ticket"]["status"] == "called"
    assert called["explanation"]["rule"] == "fifo"
    assert ward.do("start", counter=1)["ticket"]["status"] == "serving"
    clock.advance(7)
    done = ward.do("done", counter=1)
    assert done["ticket"]["status"] == "done"
    assert ward.do("done", counter=1) == {"type": "error", "code": "no_ticket",
                                          "reason": "counter 1 has no current ticket to done"}


def test_call_next_finishes_the_current_ticket(ward: Ward) -> None:
    first, second = ward.issue(), ward.issue()
    ward.call(1)
    reply = ward.call(1)
    assert reply["finished"]["label"] == first["label"] and reply["finished"]["status"] == "done"
    assert reply["ticket"]["label"] == second["label"]


def test_counter_only_calls_its_services(ward: Ward) -> None:
    ward.issue("CU")
    reply = ward.call(1)  # counter 1 serves HT only
    assert "ticket" not in reply and reply["explanation"]["rule"] == "empty"
    assert ward.call(4)["ticket"]["service"] == "CU"


def test_day_rollover_restarts_numbering(ward: Ward, clock: Clock) -> None:
    clock.set("2026-11-23T16:58:00")
    assert ward.issue()["label"] == "A001"
    assert ward.issue()["label"] == "A002"  # and nobody called them: the citizens went home
    clock.set("2026-11-24T00:01:00")  # local midnight passed: no job ran, the date alone decides
    first = ward.issue()
    assert (first["label"], first["day"]) == ("A001", "2026-11-24")


def test_restart_late_in_the_day_keeps_numbering(ward: Ward, clock: Clock) -> None:
    clock.set("2026-11-23T16:55:00")
    for _ in range(5):
        ward.issue()
    ward.restart()
    assert ward.issue()["label"] == "A006"


def test_clock_wrong_at_boot_never_reissues_a_number(ward: Ward, clock: Clock) -> None:
    for _ in range(3):
        ward.issue()
    ward.restart()
    clock.set("1970-01-01T07:00:00")  # a Pi without RTC before NTP
    t = ward.issue()
    assert (t["label"], t["day"]) == ("A004", "2026-11-23")
    clock.set("2026-11-22T10:00:00")  # a clock a day behind the last ticket
    assert ward.issue()["label"] == "A005"
    clock.set("2026-11-23T10:00:00")  # NTP synced
    assert ward.issue()["label"] == "A006"


def test_utc_midnight_is_not_local_midnight(ward: Ward, clock: Clock) -> None:
    clock.set("2026-11-23T06:59:00")  # 23:59 UTC on the 22nd
    assert ward.issue()["day"] == "2026-11-23"


def test_priority_first_and_explanation_names_rule(ward: Ward, clock: Clock) -> None:
    ward.issue("HT")
    clock.advance(1)
    elderly = ward.issue("HT", priority="elderly")
    reply = ward.call(1)
    assert reply["ticket"]["label"] == elderly["label"]
    assert reply["explanation"]["rule"] == "priority_first"
    assert "người cao tuổi" in reply["explanation"]["vi"] and "elderly" in reply["explanation"]["en"]


def test_fairness_cap_after_priority_streak(ward: Ward, clock: Clock) -> None:
    regular = ward.issue("HT")
    for group in ("pregnant", "disability", "meritorious"):
        clock.advance(1)
        ward.issue("HT", priority=group)
    rules = [ward.call(1)["explanation"]["rule"] for _ in range(4)]
    assert rules == ["priority_first", "priority_first", "fairness_cap", "priority_first"]
    assert ward.db.execute("SELECT status FROM tickets WHERE id=?", (regular["id"],)).fetchone()[0] == "done"


def test_priority_ticket_is_told_fewer_ahead(ward: Ward) -> None:
    for _ in range(4):
        ward.issue("HT")
    assert ward.issue("HT", priority="elderly")["ahead"] == 0
    assert ward.issue("HT")["ahead"] == 5


def test_recall_is_bounded(ward: Ward) -> None:
    ward.issue()
    ward.call(1)
    for n in range(1, 4):
        assert ward.do("recall", counter=1)["ticket"]["label"] == "A001", n
    refused = ward.do("recall", counter=1)
    assert refused["code"] == "recall_limit"


def test_the_boards_latest_calls_name_each_number_once_at_its_latest_call(ward: Ward) -> None:
    """A number recalled for an absent citizen moves to the top of the board's list; it does not fill the list
    and push the numbers called before it off (the board shows six)."""
    from hub.board import board_state

    for _ in range(8):
        ward.issue("HT")
    for _ in range(6):
        ward.call(1)
    for _ in range(3):
        ward.do("recall", counter=1)
    recent = board_state(ward.queue, ward.section)["recent"]
    assert [(c["label"], c["event"]) for c in recent[:6]] == [("A006", "recalled")] + [
        (f"A00{n}", "called") for n in (5, 4, 3, 2, 1)]


def test_skip_requeues_once_then_requires_no_show(ward: Ward, clock: Clock) -> None:
    ward.issue()
    clock.advance(1)
    ward.issue()
    ward.call(1)
    assert ward.do("skip", counter=1)["ticket"]["status"] == "issued"
    assert ward.call(1)["ticket"]["label"] == "A002"  # the skipped ticket went to the back
    again = ward.call(1)
    assert again["ticket"]["label"] == "A001"
    assert ward.do("skip", counter=1)["code"] == "skip_limit"
    assert ward.do("no_show", counter=1)["ticket"]["status"] == "no_show"


def test_transfer_keeps_place_in_line(ward: Ward, clock: Clock) -> None:
    first = ward.issue("HT")
    clock.advance(5)
    ward.issue("CT")
    ward.call(1)
    moved = ward.do("transfer", counter=1, service="CT")
    assert moved["ticket"]["service"] == "CT" and moved["ticket"]["transferred_from"] == "HT"
    reply = ward.call(3)
    assert reply["ticket"]["label"] == first["label"]
    assert "transferred" in reply["explanation"]["en"]
    assert ward.do("transfer", counter=3, service="ZZ")["code"] == "unknown_service"


def test_same_request_key_is_applied_once(ward: Ward) -> None:
    key = ("kiosk-9", "beef", 41)
    a = ward.queue.handle(key, "issue", service="HT")
    b = ward.queue.handle(key, "issue", service="HT")
    assert a.fresh and not b.fresh and a.reply == b.reply
    assert ward.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1
    ward.restart()
    c = ward.queue.handle(key, "issue", service="HT")
    assert not c.fresh and c.reply == a.reply


def test_refusals_are_replies_and_change_nothing(ward: Ward) -> None:
    assert ward.do("issue", service="ZZ")["code"] == "unknown_service"
    assert ward.do("call_next", counter=99)["code"] == "unknown_counter"
    assert ward.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0


def test_close_refused_while_serving(ward: Ward) -> None:
    ward.do("open", counter=2, officer="Trần Văn Bình")
    ward.issue()
    ward.call(2)
    assert ward.do("close", counter=2)["code"] == "ticket_in_progress"
    ward.do("done", counter=2)
    assert ward.do("close", counter=2)["type"] == "counter.result"
    state = ward.queue.counter_state(2)
    assert state["status"] == "closed" and "ticket" not in state and "officer" not in state
    assert state["counts"] == {"called": 1, "served": 1, "no_shows": 0, "transfers": 0}


def test_wait_estimate_unknown_then_a_range(ward: Ward, clock: Clock) -> None:
    ward.do("open", counter=1)
    ward.issue()
    assert ward.issue()["wait"] == {"known": False, "reason": "too_little_data", "samples": 0}
    for _ in range(6):
        ward.issue()
    for _ in range(6):
        ward.call(1)
        clock.advance(10)
    wait = ward.issue()["wait"]
    assert wait["known"] and 0 < wait["low_min"] < wait["high_min"]
    assert ward.queue.wait_for("CU", 3) == {"known": False, "reason": "no_counter_open"}


def test_held_ticket_joins_the_queue_only_when_confirmed(ward: Ward) -> None:
    held = ward.do("issue", service="HT", hold=True, device="kiosk-1")["ticket"]
    assert held["status"] == "held"
    assert "ticket" not in ward.call(1)  # a held ticket cannot be called
    confirmed = ward.do("confirm", ticket_id=held["id"], outcome="printed", device="kiosk-1")
    assert confirmed["type"] == "ticket.confirmed" and confirmed["ticket"]["status"] == "issued"
    assert ward.call(1)["ticket"]["label"] == held["label"]
    again = ward.do("confirm", ticket_id=held["id"], outcome="printed", device="kiosk-1")
    assert again["code"] == "not_held"


def test_voided_print_leaves_no_phantom_and_number_is_not_reused(ward: Ward) -> None:
    held = ward.do("issue", service="HT", hold=True, device="kiosk-1")["ticket"]
    assert ward.do("confirm", ticket_id=held["id"], outcome="void", device="kiosk-2")["code"] == "unknown_ticket"
    ward.do("confirm", ticket_id=held["id"], outcome="void", device="kiosk-1")
    assert "ticket" not in ward.call(1)
    assert ward.issue()["label"] == "A002"


def test_offline_tickets_merge_in_issue_order_with_their_printed_labels(ward: Ward, clock: Clock) -> None:
    ward.issue()  # A001, online, 08:00
    kiosk_times = ["2026-11-23T07:50:00+07:00", "2026-11-23T07:55:00+07:00"]
    for n, (number, at) in enumerate(zip((8001, 8002), kiosk_times, strict=True)):
        reply = ward.do("offline", service="HT", number=number, label=f"A{number}", day="2026-11-23",
                        issued_at=at, device="kiosk-1")
        assert reply["ticket"]["label"] == f"A{number}", n
    assert [ward.call(1)["ticket"]["label"] for _ in range(3)] == ["A8001", "A8002", "A001"]
    assert ward.issue()["label"] == "A002"  # offline numbers never move the hub's own numbering


def test_offline_ticket_with_implausible_clock_queues_on_arrival(ward: Ward, clock: Clock) -> None:
    ward.issue()
    ward.do("offline", service="HT", number=8001, label="A8001", day="2026-11-23",
            issued_at="2037-01-01T00:00:00+07:00", device="kiosk-1")
    assert [ward.call(1)["ticket"]["label"] for _ in range(2)] == ["A001", "A8001"]


def test_offline_block_clash_keeps_the_citizens_ticket(ward: Ward) -> None:
    args = {"service": "HT", "number": 8001, "label": "A8001", "day": "2026-11-23",
            "issued_at": "2026-11-23T07:50:00+07:00"}
    ward.do("offline", device="kiosk-1", **args)
    ward.do("offline", device="kiosk-2", **args)  # misconfigured: same block
    rows = ward.db.execute("SELECT label, number FROM tickets ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["A8001", "A8001"] and rows[0][1] != rows[1][1]


def test_an_offline_ticket_resent_after_the_hub_forgot_the_request_is_not_added_twice(ward: Ward,
                                                                                       clock: Clock) -> None:
    args = {"service": "HT", "number": 8001, "label": "A8001", "day": "2026-11-23",
            "issued_at": "2026-11-23T07:50:00+07:00", "device": "kiosk-1"}
    first = ward.queue.handle(("kiosk-1", "b7", 1), "offline", **args)
    clock.advance(9 * 24 * 60)  # the kiosk's outbox could not reach the hub for nine days
    assert prune_handled(ward.db, clock()) == 1
    again = ward.queue.handle(("kiosk-1", "b7", 1), "offline", **args)
    assert again.fresh and again.reply["ticket"]["id"] == first.reply["ticket"]["id"] and not again.events
    assert ward.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1


def test_a_database_from_an_earlier_version_is_upgraded_in_place(tmp_path: Path, clock: Clock) -> None:
    import sqlite3

    old = tmp_path / "hub" / "hub.db"
    old.parent.mkdir(parents=True)
    with sqlite3.connect(old) as db:  # the first release's tickets and counters tables, with one ticket
        db.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, day TEXT NOT NULL, issued_service TEXT NOT NULL, "
                   "number INTEGER NOT NULL, label TEXT NOT NULL, service TEXT NOT NULL, priority TEXT, status TEXT "
                   "NOT NULL, issued_at REAL NOT NULL, queue_at REAL NOT NULL, called_at REAL, served_at REAL, "
                   "done_at REAL, counter INTEGER, officer TEXT, recalls INTEGER DEFAULT 0, skips INTEGER "
                   "DEFAULT 0, transferred_from TEXT, device TEXT, offline INTEGER DEFAULT 0)")
        db.execute("CREATE TABLE counters (id INTEGER PRIMARY KEY, status TEXT, officer TEXT, ticket_id INTEGER, "
                   "priority_streak INTEGER DEFAULT 0, updated REAL)")
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, ticket_id INTEGER, day TEXT, kind TEXT, at REAL, "
                   "counter INTEGER, officer TEXT, detail TEXT)")
        db.execute("INSERT INTO tickets(day, issued_service, number, label, service, status, issued_at, queue_at) "
                   "VALUES ('2026-11-23', 'HT', 1, 'A001', 'HT', 'issued', 0, 0)")
    ward = Ward(tmp_path, clock)
    indexed = [r[0] for r in ward.db.execute("SELECT name FROM pragma_index_list('events')")]
    assert [c for i in indexed for (c,) in ward.db.execute("SELECT name FROM pragma_index_info(?)", (i,))].count(
        "ticket_id") == 1  # late ratings find their ticket fast
    columns = [r[1] for r in ward.db.execute("PRAGMA table_info(tickets)")]
    assert "procedure" in columns  # added to the first release's table
    second = ward.issue("HT")
    assert second["label"] == "A002" and second["ahead"] == 1  # the old file's waiting ticket counted once
    ward.call(1)
    ward.do("done", counter=1)
    assert ward.do("rate", counter=1, level=1, scale=3)["type"] == "rating.recorded"


def test_a_failed_change_inside_a_group_commit_undoes_only_itself(tmp_path: Path) -> None:
    from bus.transaction import transaction

    db = open_db(tmp_path / "group.db")
    add = "INSERT INTO counters(id, status, priority_streak, updated) VALUES (?, 'closed', 0, 0)"
    with transaction(db):  # the hub's batch
        with transaction(db):
            db.execute(add, (90,))
        with pytest.raises(RuntimeError), transaction(db):
            db.execute(add, (91,))
            raise RuntimeError("one request's handler failed")
        with transaction(db):
            db.execute(add, (92,))
    assert [r[0] for r in db.execute("SELECT id FROM counters ORDER BY id")] == [90, 92]
    assert not db.in_transaction


def test_a_command_sent_from_a_screen_that_was_behind_is_refused(ward: Ward) -> None:
    """The console sends what its screen showed (`expect`): a double click on Next never calls a second ticket."""
    first, second = ward.issue(), ward.issue()
    called = ward.do("call_next", counter=1, expect=0)
    assert called["ticket"]["label"] == first["label"]
    again = ward.do("call_next", counter=1, expect=0)  # the second click of a double click
    assert again["type"] == "error" and again["code"] == "stale" and first["label"] in again["reason"]
    assert ward.queue.counter_state(1)["ticket"]["label"] == first["label"]
    moved_on = ward.do("call_next", counter=1, expect=called["ticket"]["id"])  # the officer saw A001: next
    assert moved_on["ticket"]["label"] == second["label"]
    assert ward.do("done", counter=1, expect=called["ticket"]["id"])["code"] == "stale"


def test_the_counter_state_shows_the_officer_what_waits_and_why(ward: Ward) -> None:
    regular = ward.issue()
    elderly = ward.issue(priority="elderly")
    ward.clock.advance(5)
    ward.do("open", counter=2, officer="Trần Văn Bình")
    state = ward.queue.counter_state(2)
    assert [w["label"] for w in state["waiting"]] == [elderly["label"], regular["label"]]  # the order of calling
    assert state["services"] == ["HT", "CT"] and state["counts"]["called"] == 0
    ward.do("call_next", counter=2)
    state = ward.queue.counter_state(2)
    assert state["ticket"]["label"] == elderly["label"] and state["ticket"]["called_at"]
    assert state["explanation"]["rule"] == "priority_first"
    assert [w["label"] for w in state["waiting"]] == [regular["label"]] and state["counts"]["called"] == 1
    ward.do("transfer", counter=2, service="CU", reason="Hồ sơ thuộc lĩnh vực cư trú")
    assert ward.queue.counter_state(2)["counts"]["transfers"] == 1
    detail = ward.db.execute("SELECT detail FROM events WHERE kind='transferred'").fetchone()[0]
    assert "Hồ sơ thuộc lĩnh vực cư trú" in detail


def test_a_clock_jumping_back_between_call_and_done_skews_no_estimate_or_statistic(ward: Ward, clock: Clock) -> None:
    # Found by the chaos run: a ticket called while the hub's clock was an hour ahead and finished after it came
    # back had a service time of minus an hour; the wait estimate went negative, the board state broke the
    # contract and the hub's worker stopped.
    from hub import stats

    ward.do("open", counter=1)
    for _ in range(14):
        ward.issue()
    for _ in range(6):
        ward.call(1)
        clock.advance(10)
        ward.do("done", counter=1)
    for _ in range(6):
        clock.advance(60)  # jumped ahead an hour ...
        ward.call(1)
        clock.advance(-58)  # ... and back, two minutes after the call
        ward.do("done", counter=1)
    wait = ward.queue.wait_for("HT", 3)
    assert wait["known"] and 0 <= wait["low_min"] < wait["high_min"], wait
    rows = stats.compute(ward.db, ward.section, "2026-11-23", "2026-11-23", "service")
    assert all(v is None or v >= 0 for r in rows for k, v in r.items() if k.endswith("_min")), rows
