# The hub's numbering day when the date changes in a working morning: the cases, then any clock (Hypothesis).
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus.health import problems
from hub.line import LIVE
from tests.test_queue import Clock, Ward


@pytest.fixture
def clock() -> Clock:
    return Clock("2026-11-23T08:00:00")


@pytest.fixture
def ward(tmp_path: Path, clock: Clock) -> Ward:
    return Ward(tmp_path, clock)


def test_a_clock_jumping_into_the_next_day_keeps_the_mornings_numbers_until_their_line_is_done(ward: Ward,
                                                                                               clock: Clock) -> None:
    """After a night's power cut a Pi boots on the time fake-hwclock saved the evening before; NTP reaches it
    mid-morning, when the ward's internet comes back. The morning's citizens keep their places and no number is
    given twice in the room; numbering moves to the real day once their line is done."""
    clock.set("2026-11-23T16:30:00")
    ward.issue()  # A001: yesterday's last citizen, served
    ward.call(1)
    ward.do("done", counter=1)
    ward.reboot()  # the power cut; the hub boots on 17:05 of the 23rd, really 07:30 on the 24th
    clock.set("2026-11-23T17:05:00")
    morning = [ward.issue()["label"] for _ in range(3)]
    assert morning == ["A002", "A003", "A004"]
    ward.call(1)  # A002 at the counter
    clock.jump("2026-11-24T09:10:00")  # NTP
    after = ward.issue()
    assert (after["label"], after["day"]) == ("A005", "2026-11-23")  # not a second A001..A004 beside them
    assert ward.queue.day.held == "2026-11-23" and "at work" in ward.queue.day.reason
    ward.restart()  # the hub restarted, or its Pi rebooted, during the hold: its records say the ward is at work
    assert ward.issue()["label"] == "A006" and ward.queue.day.held == "2026-11-23"
    assert [ward.call(1)["ticket"]["label"] for _ in range(4)] == ["A003", "A004", "A005", "A006"]  # none dropped
    assert ward.issue()["label"] == "A007"
    ward.call(1)
    ward.do("done", counter=1)  # the last of them done: the line of the 23rd is empty
    fresh = ward.issue()
    assert (fresh["label"], fresh["day"]) == ("A001", "2026-11-24") and ward.queue.day.held is None


def test_a_clock_hours_behind_reaching_its_midnight_mid_morning_keeps_the_day_until_the_ward_is_quiet(
        ward: Ward, clock: Clock) -> None:
    """No time server at all: the Pi's clock, ten hours behind after a night without power, reaches its own
    midnight at ten in the morning with the line full. The day ends when the ward has been quiet four hours."""
    clock.set("2026-11-23T21:30:00")  # really 07:30 on the 24th
    assert [ward.issue()["label"] for _ in range(3)] == ["A001", "A002", "A003"]
    ward.call(1)
    clock.set("2026-11-24T00:10:00")  # by running time: the clock's midnight passed with citizens waiting
    assert (ward.issue()["label"], ward.queue.day.held) == ("A004", "2026-11-23")
    clock.advance(3 * 60)  # the ward closes for the day, citizens still waiting
    assert ward.queue.today() == "2026-11-23"
    clock.advance(61)  # four hours without a ticket issued or called: the day is over
    assert (ward.issue()["label"], ward.queue.today(), ward.queue.day.held) == ("A001", "2026-11-24", None)


def test_a_clock_set_back_onto_the_held_day_ends_the_hold_and_a_quiet_ward_follows_a_jump(ward: Ward,
                                                                                             clock: Clock) -> None:
    clock.set("2026-11-23T23:50:00")
    ward.issue()  # waits
    clock.jump("2026-11-24T00:02:00")  # a slow clock corrected by 12 minutes: really 23:50 still
    assert ward.issue()["day"] == "2026-11-23"
    clock.jump("2026-11-23T23:50:30")  # and set back: the clock agrees with the day again, nothing is held
    assert (ward.queue.today(), ward.queue.day.held) == ("2026-11-23", None)
    ward.call(1)
    ward.do("done", counter=1)
    clock.jump("2026-11-25T08:00:00")  # a jump with a citizen waiting but the ward quiet since the evening:
    clock.advance(5 * 60)  # the day is over, whatever its leftovers
    assert (ward.issue()["day"], ward.queue.day.held) == ("2026-11-25", None)


def test_a_hub_started_on_a_new_day_beside_last_evening_s_leftovers_starts_the_new_day(ward: Ward,
                                                                                       clock: Clock) -> None:
    clock.set("2026-11-23T16:50:00")
    ward.issue()  # never called: the citizen went home
    ward.restart()
    clock.set("2026-11-24T07:30:00")
    assert (ward.issue()["label"], ward.queue.day.held) == ("A001", None)
    clock.set("2026-11-24T16:50:00")
    ward.issue()  # A002, left waiting again
    ward.reboot(up=clock.up + 60)  # the next morning's boot, its time since boot by chance near the evening's
    clock.jump("2026-11-25T07:30:00")  # the note of the last boot's work means nothing in this one
    assert (ward.issue()["label"], ward.queue.day.held) == ("A001", None)


@pytest.mark.parametrize("how", ["restart", "reboot"])
def test_a_hub_restarted_or_rebooted_just_after_ntp_put_its_clock_right_keeps_the_mornings_day(
        ward: Ward, clock: Clock, how: str) -> None:
    """The clock hours behind after a night without power; NTP puts it right at 09:10 and a minute later, before a
    ticket is issued or called, the hub is restarted (an update, ward IT) or its Pi reboots (a power blip): by the
    new clock the morning's records are hours old. After a restart the note of when the ward last worked, by the
    time since boot, says it is at work; after a reboot (the time since boot starts again) its wall time does, put
    right when the hub saw the clock set."""
    clock.set("2026-11-23T21:30:00")  # really 07:30 on the 24th
    assert [ward.issue()["label"] for _ in range(3)] == ["A001", "A002", "A003"]
    ward.call(1)
    clock.advance(90)
    clock.jump("2026-11-24T09:10:00")  # NTP
    clock.advance(1)
    ward.queue.today()  # the hub's loop asks for its day at least twice a second
    getattr(ward, how)()
    clock.advance(1)
    after = ward.issue()
    assert (after["label"], after["day"], ward.queue.day.held) == ("A004", "2026-11-23", "2026-11-23")
    assert [ward.call(1)["ticket"]["label"] for _ in range(3)] == ["A002", "A003", "A004"]  # none dropped


def test_an_offline_ticket_from_a_kiosk_whose_clock_is_a_day_behind_is_called_this_morning(ward: Ward,
                                                                                         clock: Clock) -> None:
    """A kiosk booted after a night's power cut on the time it saved the evening before prints offline tickets of
    "yesterday" while the hub is down; sent with their age by its time since boot, they join this morning's line."""
    clock.set("2026-11-24T08:00:00")
    ward.issue()  # A001 of the 24th, 08:00
    clock.advance(30)
    printed = {"service": "HT", "number": 8005, "label": "A8005", "day": "2026-11-23",
               "issued_at": "2026-11-23T18:20:00+07:00", "device": "kiosk-1"}  # really 08:10 on the 24th
    ticket = ward.do("offline", age=20 * 60.0, **printed)["ticket"]
    assert ticket["day"] == "2026-11-24"
    said = problems("hub", "online", ward.queue.clock_detail())  # ward IT is told, on the fleet's page
    assert any("kiosk-1's clock was 13.8 h behind the hub's when it printed offline" in p for p in said), said
    assert [ward.call(1)["ticket"]["label"] for _ in range(2)] == ["A001", "A8005"]  # in the order they were printed
    late = ward.do("offline", age=600.0, **{**printed, "number": 8006, "label": "A8006",
                                            "day": "2026-11-24", "issued_at": "2026-11-24T08:20:00+07:00"})
    assert late["ticket"]["day"] == "2026-11-24"  # a kiosk on the right day is read by its own clock, as before
    assert "kiosk_clocks" not in ward.queue.clock_detail()  # its clock is right again
    unaged = ward.do("offline", **{**printed, "number": 8007, "label": "A8007"})  # printed in an earlier boot
    assert unaged["ticket"]["day"] == "2026-11-23"  # no age: the kiosk's day stands (its citizen likely left)


def test_last_evenings_offline_tickets_merged_in_the_morning_do_not_hold_the_hubs_day(ward: Ward,
                                                                                    clock: Clock) -> None:
    """The hub was down last evening; the kiosk's offline tickets reach it at 07:30 the next morning, before its
    first ticket. They are filed under their day, and the morning numbers on its own."""
    clock.set("2026-11-24T07:30:00")
    merged = ward.do("offline", service="HT", number=8001, label="A8001", day="2026-11-23",
                     issued_at="2026-11-23T16:50:00+07:00", device="kiosk-1")
    assert merged["ticket"]["day"] == "2026-11-23"
    first = ward.issue()
    assert (first["label"], first["day"]) == ("A001", "2026-11-24") and ward.queue.day.held is None
    ward.restart()
    assert (ward.issue()["label"], ward.queue.day.held) == ("A002", None)


STEPS = st.lists(st.one_of(
    st.tuples(st.just("issue"), st.sampled_from(("HT", "CT"))),
    st.tuples(st.just("call"), st.sampled_from((1, 2))),
    st.tuples(st.just("done"), st.sampled_from((1, 2))),
    st.tuples(st.just("advance"), st.floats(0, 5)),  # minutes that pass: at most 200, never QUIET_S
    st.tuples(st.just("jump"), st.floats(-72, 72)),  # hours the wall clock is set by: NTP, a hand, a battery
    st.tuples(st.just("restart"), st.just(0)),  # the hub's process starts again (a reboot: the cases above)
), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_whatever_the_clock_does_in_a_morning_no_two_citizens_hold_one_number_and_none_leaves_the_line(
        steps: list[tuple]) -> None:
    """One working morning by running time (the ward is never quiet for bus.numbering.QUIET_S), the wall clock set
    anywhere within three days either way as often as it likes, the hub restarted as often: the tickets
    still in the ward never share a label, and every waiting one is in the line the counters call from."""
    with tempfile.TemporaryDirectory() as tmp:
        ward = Ward(Path(tmp), Clock("2026-11-23T08:00:00"))
        for kind, arg in steps:
            if kind == "issue":
                ward.issue(arg)
            elif kind == "call":
                ward.call(arg)
            elif kind == "done":
                ward.do("done", counter=arg)
            elif kind == "advance":
                ward.clock.advance(arg)
            elif kind == "restart":
                ward.restart()
            else:
                ward.clock.now += arg * 3600
            today = ward.queue.today()
            live = ward.db.execute(f"SELECT label, day, status FROM tickets WHERE status IN "
                                   f"({','.join('?' * len(LIVE))})", LIVE).fetchall()
            labels = [label for label, _, _ in live]
            assert len(labels) == len(set(labels)), (live, today)
            assert all(day == today for _, day, status in live if status == "issued"), (live, today)
