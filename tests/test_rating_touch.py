# The touch rating terminal under SDL's dummy driver with a real hub: levels, the follow-up, thanks or a reason.
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest

from bus.messages import Message
from hmi.widgets import contrast, font, ink_on, wrap
from hub.service import HubService
from rating.config import load_rating
from rating.touch import COLOURS, RatingApp, refusal_words
from tests.conftest import wait_until

SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots" / "rating"


@pytest.fixture
def app(hub: HubService, make_client) -> Iterator[RatingApp]:
    bus = make_client("rating-1", role="rating", counters=(1,), outbox=True, retry_first=0.5)
    bus.wait_connected(5)
    a = RatingApp(bus, counter=1, scale=3, size=(800, 480))
    a.step()
    yield a
    a.close()


def tap(app: RatingApp, action: str) -> None:
    x, y = app.button(action).rect.center
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(x, y), touch=False))
    app.step()


def answer(app: RatingApp) -> Message:
    """The hub's answer to the rating just sent, once the terminal shows it."""
    wait_until(lambda: (app.step(), app.answer is not None)[1], what="the hub's answer")
    assert app.answer is not None
    return app.answer


def shot(app: RatingApp, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pygame.image.save(app.screen, str(SHOTS / f"{name}.png"))


def serve(hub: HubService) -> None:
    q = hub.queue
    q.handle(("kiosk-t", "b1", 1), "issue", service="HT")
    q.handle(("counter-t", "b1", 1), "call_next", counter=1)
    q.handle(("counter-t", "b1", 2), "done", counter=1)


def test_poor_rating_asks_why_and_stores_the_reasons(app: RatingApp, hub: HubService) -> None:
    serve(hub)
    shot(app, "ask")
    for button in app.buttons:  # every choice readable: white on the yellow "Hài lòng" was 1.7:1
        assert contrast(button.ink, button.colour) >= 4.5, (button.label, button.colour, button.ink)
    assert all(contrast(ink_on(c), c) >= 4.5 for c in COLOURS)  # the five-level scale's too
    tap(app, "level:3")
    assert app.view == "why"
    tap(app, "reason:waited_too_long")
    tap(app, "reason:documents_unclear")
    shot(app, "why")
    tap(app, "send")
    assert answer(app).type == "rating.recorded"
    shot(app, "thanks")
    level, reasons = hub.db.execute("SELECT level, reasons FROM ratings").fetchone()
    assert level == 3 and json.loads(reasons) == ["documents_unclear", "waited_too_long"]


def test_the_question_names_the_visit_it_rates_while_a_rating_would_go_to_it(app: RatingApp, issue,  # noqa: ANN001
                                                                             make_client) -> None:  # noqa: ANN001
    """Peers' terminals were blamed for ratings tied to the wrong citizen: the question names the ticket the rating
    will be for — being served, or just left — so the citizen sees it is their own visit, and nothing once none is."""
    plain = "Quầy 1: bạn hài lòng với việc giải quyết hồ sơ?"
    counter = make_client("counter-1", role="bridge", counters=(1,))
    issue(2)

    def act(action: str, shown: str) -> None:  # an officer's press, then the terminal once it has the counter's state
        counter.request(counter.topics.counter_command(1), "counter.command", {"action": action, "counter": 1},
                        timeout=5)
        wait_until(lambda: (app.step(), app.question() == shown)[1], what=f"{shown!r} after {action}")

    act("call_next", plain)  # A001 called, not yet served: a rating now would not be for A001
    act("start", "Quầy 1 · Số A001: bạn hài lòng với việc giải quyết hồ sơ?")
    act("done", "Quầy 1 · Số A001: bạn hài lòng với việc giải quyết hồ sơ?")  # left a moment ago: still A001's
    wait_until(lambda: app.watch.label(0) == "", what="the done state at the terminal")  # not still serving
    assert app.question() == "Quầy 1 · Số A001: bạn hài lòng với việc giải quyết hồ sơ?"
    shot(app, "ask-ticket")
    assert len(wrap(font(30, True), app.question(), 760)) == 2  # two lines above the levels, as drawn at 800 px
    tap(app, "lang")
    assert app.question() == "Counter 1 · Ticket A001: are you satisfied with how your case was handled?"
    assert len(wrap(font(30, True), app.question(), 760)) == 2
    tap(app, "lang")
    started = app.watch.clock
    app.watch.clock = lambda: started() + 181  # three minutes on: the hub's window for A001 has passed
    assert app.question() == "Quầy 1: bạn hài lòng với việc giải quyết hồ sơ?"


def test_a_citizen_may_rate_in_english_and_the_next_one_is_asked_in_vietnamese(app: RatingApp,
                                                                                hub: HubService) -> None:
    serve(hub)
    assert app.button("lang").label == "English" and app.button("level:1").label == "Rất hài lòng"
    tap(app, "lang")
    assert [app.button(f"level:{i}").label for i in (1, 2, 3)] == ["Very satisfied", "Satisfied", "Not satisfied"]
    assert app.button("lang").label == "Tiếng Việt"
    shot(app, "ask-english")
    tap(app, "level:3")
    assert app.button("reason:staff_attitude").label == "Staff attitude" and app.button("send").label == "Send"
    tap(app, "reason:staff_attitude")
    tap(app, "send")
    assert answer(app).type == "rating.recorded"
    assert hub.db.execute("SELECT level, reasons FROM ratings").fetchone() == (3, '["staff_attitude"]')
    app.shown_at -= 7  # the thanks shown for its 6 s: the screen is the next citizen's
    app.step()
    assert app.view == "ask" and app.button("level:1").label == "Rất hài lòng"
    tap(app, "lang")  # switched, then left without a rating
    app.shown_at -= 31  # 30 s untouched
    app.step()
    assert app.button("level:1").label == "Rất hài lòng"
    assert refusal_words("nothing_served", "", "en") == (
        "Not recorded: no case has just been handled at this counter.", "")


def test_a_poor_rating_left_at_its_follow_up_question_is_still_counted(app: RatingApp, hub: HubService) -> None:
    """A citizen who taps "Không hài lòng", picks a reason and walks away: the rating counts, with that reason (the
    follow-up is optional; dropping it would lose exactly the complaints)."""
    serve(hub)
    tap(app, "level:3")
    tap(app, "reason:waited_too_long")
    app.shown_at -= 31  # 30 s untouched
    app.step()
    assert answer(app).type == "rating.recorded"
    assert hub.db.execute("SELECT level, reasons FROM ratings").fetchone() == (3, '["waited_too_long"]')


def test_a_double_tap_on_a_level_sends_one_rating(app: RatingApp, hub: HubService) -> None:
    serve(hub)
    x, y = app.button("level:1").rect.center
    for _ in range(2):  # two taps that arrive together were both taken against the levels: the rating sent twice
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(x, y), touch=False))
    app.step()
    assert answer(app).type == "rating.recorded"
    app.shown_at -= 7
    app.step()  # the thanks gone, anything else sent would have come by now
    assert hub.db.execute("SELECT level, version FROM ratings").fetchall() == [(1, 1)]


def test_good_rating_is_one_tap_and_nothing_served_is_explained(app: RatingApp, hub: HubService) -> None:
    tap(app, "level:1")
    assert answer(app).type == "error" and app.answer.body["code"] == "nothing_served"
    shot(app, "nothing-served")
    assert hub.db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 0
    assert refusal_words("nothing_served", app.answer.body["reason"]) == (
        "Chưa ghi nhận được: chưa có hồ sơ nào vừa được giải quyết tại quầy này.", "")


def test_a_refusal_not_foreseen_is_said_in_vietnamese_and_its_cause_kept_small_for_staff() -> None:
    message, cause = refusal_words("internal_error", "the hub could not handle this request; " + "x" * 500)
    assert message == "Chưa ghi nhận được: vui lòng báo cán bộ tại quầy."  # the hub's English was the message
    assert cause.startswith("the hub could not handle this request") and len(cause) == 200


def test_asking_visits_records_them_for_the_statistics(hub: HubService, make_client) -> None:  # noqa: ANN001
    from hub.stats import compute

    bus = make_client("rating-2", role="rating", counters=(1,), outbox=True, retry_first=0.5)
    bus.wait_connected(5)
    app = RatingApp(bus, counter=1, scale=3, size=(800, 480), ask_visits=True)
    try:
        app.step()
        serve(hub)
        tap(app, "level:3")
        tap(app, "send")  # no reason chosen
        assert app.view == "visits"
        shot(app, "visits")
        tap(app, "visits:3")
        assert answer(app).type == "rating.recorded", app.answer.body
    finally:
        app.close()
    assert hub.db.execute("SELECT visits FROM ratings").fetchone() == (3,)
    day = hub.db.execute("SELECT day FROM ratings").fetchone()[0]
    row = compute(hub.db, hub.hub, day, day)[0]
    assert (row["visits_recorded"], row["first_visits"], row["came_back"]) == (1, 0, 1)


def test_a_touch_terminal_as_configured_fills_its_panel_with_no_pointer(hub: HubService, make_client,  # noqa: ANN001
                                                                        tmp_path: Path) -> None:
    """`rating.fullscreen` is true unless a config says otherwise, as a kiosk's and a board's: on a Pi with a desktop,
    a window would show its title bar, the taskbar and the mouse arrow to citizens. A full-screen terminal lays its
    buttons out for the display's own size and takes a rating there."""
    path = tmp_path / "rating-4.toml"
    path.write_text(f'[device]\nid = "rating-4"\nrole = "rating"\nward = "demo-ward"\ndata_dir = "{tmp_path}"\n'
                    f'[broker]\nport = {hub.config.broker.port}\n[rating]\ncounter = 1\nmode = "touch"\n',
                    encoding="utf-8")
    section = load_rating(str(path))[1]
    assert section.fullscreen and (section.screen_width, section.screen_height) == (800, 480)
    bus = make_client("rating-4", role="rating", counters=(1,), outbox=True, retry_first=0.5)
    bus.wait_connected(5)
    app = RatingApp.for_section(bus, section)
    try:
        assert app.screen.get_size() == pygame.display.get_desktop_sizes()[0] != (800, 480)  # SDL dummy: 1024×768
        assert not pygame.mouse.get_visible()
        app.step()
        serve(hub)
        assert app.button("level:3").rect.right > 800 and app.button("level:1").rect.bottom > 480  # the whole panel
        shot(app, "fullscreen")
        tap(app, "level:1")
        assert answer(app).type == "rating.recorded", app.answer.body
    finally:
        app.close()
    windowed = RatingApp.for_section(bus, dataclasses.replace(section, fullscreen=False))
    try:
        assert windowed.screen.get_size() == (800, 480) and pygame.mouse.get_visible()
    finally:
        windowed.close()
