# Ratings on the hub's real SQLite: tied to the served ticket, once per (ticket, counter), window and edge cases.
from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_queue import Clock, Ward


@pytest.fixture
def clock() -> Clock:
    return Clock("2026-11-23T09:00:00")


@pytest.fixture
def ward(tmp_path: Path, clock: Clock) -> Ward:
    return Ward(tmp_path, clock)


def rate(ward: Ward, counter: int, level: int, scale: int = 3, **extra: object) -> dict:
    return ward.do("rate", device=f"rating-{counter}", counter=counter, level=level, scale=scale, **extra)


def serve(ward: Ward, counter: int, service: str = "HT", procedure: str = "1.001193") -> dict:
    ward.do("issue", service=service, procedure=procedure)
    ticket = ward.call(counter)["ticket"]
    ward.do("start", counter=counter)
    ward.do("done", counter=counter)
    return ticket


def test_press_with_nothing_served_is_refused(ward: Ward) -> None:
    assert rate(ward, 1, 1)["code"] == "nothing_served"


def test_rating_is_tied_to_ticket_officer_service_and_procedure(ward: Ward) -> None:
    ward.do("open", counter=1, officer="Nguyễn Thị Lan")
    ticket = serve(ward, 1)
    reply = rate(ward, 1, 1)
    assert reply["rating"]["ticket"] == ticket["label"] and reply["rating"]["word"] == "Rất hài lòng"
    row = ward.db.execute("SELECT counter, officer, service, procedure, level FROM ratings").fetchone()
    assert row == (1, "Nguyễn Thị Lan", "HT", "1.001193", 1)


def test_repeated_presses_replace_not_add(ward: Ward, clock: Clock) -> None:
    serve(ward, 1)
    rate(ward, 1, 3)
    clock.advance(0.5)
    again = rate(ward, 1, 2)
    assert again["rating"]["replaced"] and again["rating"]["version"] == 2
    assert ward.db.execute("SELECT COUNT(*), MAX(level) FROM ratings").fetchone() == (1, 2)


def test_press_after_the_window_is_refused(ward: Ward, clock: Clock) -> None:
    serve(ward, 1)
    clock.advance(ward.section.policy.rating_window_s / 60 + 1)
    assert rate(ward, 1, 1)["code"] == "window_closed"


def test_rating_during_service_goes_to_the_current_ticket(ward: Ward) -> None:
    first = serve(ward, 1)
    ward.do("issue", service="HT")
    second = ward.call(1)["ticket"]
    ward.do("start", counter=1)
    assert rate(ward, 1, 2)["rating"]["ticket"] == second["label"] != first["label"]


def test_transferred_ticket_is_rated_at_each_counter_that_served_it(ward: Ward) -> None:
    ward.do("issue", service="HT")
    ticket = ward.call(1)["ticket"]
    ward.do("transfer", counter=1, service="CT")
    assert rate(ward, 1, 3)["rating"]["ticket"] == ticket["label"]  # the first counter's part
    assert ward.call(3)["ticket"]["label"] == ticket["label"]
    ward.do("done", counter=3)
    assert rate(ward, 3, 1)["rating"]["ticket"] == ticket["label"]
    assert ward.db.execute("SELECT counter, level FROM ratings ORDER BY counter").fetchall() == [(1, 3), (3, 1)]


def test_no_show_is_not_ratable_and_levels_are_checked(ward: Ward) -> None:
    ward.do("issue", service="HT")
    ward.call(1)
    ward.do("no_show", counter=1)
    assert rate(ward, 1, 1)["code"] == "nothing_served"
    serve(ward, 1)
    assert rate(ward, 1, 4, scale=3)["code"] == "bad_level"
    assert rate(ward, 1, 5, scale=5)["rating"]["word"] == "Rất không hài lòng"


def test_the_same_rating_message_counts_once(ward: Ward) -> None:
    serve(ward, 1)
    key = ("rating-1", "beef", 9)
    a = ward.queue.handle(key, "rate", counter=1, level=1, scale=3)
    b = ward.queue.handle(key, "rate", counter=1, level=1, scale=3)
    assert a.fresh and not b.fresh
    assert ward.db.execute("SELECT version FROM ratings").fetchone() == (1,)


def seen(ward: Ward, counter: int, ticket: dict, level: int, left_s: float) -> dict:
    return rate(ward, counter, level, ticket_id=ticket["id"], left_s=left_s)


def test_a_late_rating_goes_to_the_ticket_the_device_saw(ward: Ward, clock: Clock) -> None:
    ward.do("open", counter=1, officer="Trần Văn Bình")
    first = serve(ward, 1)
    ward.do("open", counter=1, officer="Lê Thị Hoa")  # the next officer takes over
    ward.do("issue", service="HT")
    second = ward.call(1)["ticket"]
    ward.do("start", counter=1)
    clock.advance(30)  # the rating reaches the hub half an hour later, while the next citizen is served
    reply = seen(ward, 1, first, 1, left_s=20)
    assert reply["rating"]["ticket"] == first["label"] != second["label"]
    assert reply["rating"]["officer"] == "Trần Văn Bình"
    assert rate(ward, 1, 2)["rating"]["ticket"] == second["label"]  # no hint: the ticket being served now


def test_what_the_device_saw_is_checked(ward: Ward) -> None:
    served = serve(ward, 1)
    assert seen(ward, 1, served, 1, left_s=ward.section.policy.rating_window_s + 1)["code"] == "window_closed"
    assert seen(ward, 2, served, 1, left_s=5)["code"] == "nothing_served"  # never at counter 2
    assert seen(ward, 1, {"id": 999}, 1, left_s=5)["code"] == "nothing_served"
    ward.do("issue", service="HT")
    absent = ward.call(1)["ticket"]
    ward.do("no_show", counter=1)
    assert seen(ward, 1, absent, 1, left_s=5)["code"] == "nothing_served"
    ward.do("issue", service="HT")
    current = ward.call(1)["ticket"]
    ward.do("start", counter=1)
    assert seen(ward, 1, current, 3, left_s=0)["rating"]["ticket"] == current["label"]


def test_every_reason_and_level_has_its_words_once_for_every_role() -> None:
    """The hub's recorded word, the terminal's buttons and the console's columns read one table (bus.rating_words)."""
    from bus.messages import RATING_REASONS
    from bus.rating_words import REASON_WORDS, SCALES, level_word

    assert tuple(REASON_WORDS) == RATING_REASONS  # every reason a terminal can send has words, in the same order
    assert [level_word(5, level, "en") for level in range(1, 6)] == [
        "Very satisfied", "Satisfied", "Neutral", "Not satisfied", "Very dissatisfied"]
    assert all(len(levels) == scale for scale, levels in SCALES.items())
