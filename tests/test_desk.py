# The desk buttons on MockFactory with a real broker and hub: Next, Recall and Done, press filtering, the status LED.
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from bus.config import build
from bus.errors import ConfigError
from desk.buttons import DeskButtons
from desk.config import DeskSection, load_desk
from hub.service import HubService
from tests.conftest import ManualClock, wait_until

NEXT, RECALL, DONE, LED = 17, 27, 22, 4


@pytest.fixture
def desk(hub: HubService, make_client) -> Iterator[tuple[DeskButtons, MockFactory, ManualClock]]:  # noqa: ANN001
    bus = make_client("desk-1", role="desk", counters=(1,))
    bus.wait_connected(5)
    cfg = build(DeskSection, {"counter": 1, "next_pin": NEXT, "recall_pin": RECALL, "done_pin": DONE, "led": LED},
                "test", "desk")
    factory, clock = MockFactory(), ManualClock(100.0)
    buttons = DeskButtons(bus, cfg, pin_factory=factory, clock=clock)
    yield buttons, factory, clock
    buttons.close()
    factory.close()


def press(factory: MockFactory, pin: int, clock: ManualClock, bounces: int = 0) -> None:
    clock.now += 2.0  # past the hold-off of an earlier press
    factory.pin(pin).drive_low()
    for _ in range(bounces):
        clock.now += 0.003
        factory.pin(pin).drive_high()
        clock.now += 0.003
        factory.pin(pin).drive_low()
    factory.pin(pin).drive_high()


def answered(buttons: DeskButtons, n: int) -> None:
    wait_until(lambda: len(buttons.results) >= n, what=f"answer {n} from the hub")


def test_next_recall_done_at_the_hub_and_the_led_says_how_it_went(desk: tuple, hub: HubService) -> None:
    buttons, factory, clock = desk
    wait_until(lambda: factory.pin(LED).state, what="the LED steady while the hub is there")
    press(factory, NEXT, clock)  # nobody waiting: the counter opens, nobody is called, the LED blinks 3 times
    answered(buttons, 1)
    assert buttons.results == ["call_next:refused:empty"]
    wait_until(lambda: len(factory.pin(LED).states) >= 6, what="the LED to blink")
    wait_until(lambda: factory.pin(LED).state, what="the LED steady again")
    hub.queue.handle(("kiosk-x", "b1", 1), "issue", service="HT")
    press(factory, NEXT, clock, bounces=3)  # a bouncy contact: one call
    answered(buttons, 2)
    press(factory, RECALL, clock)
    answered(buttons, 3)
    press(factory, DONE, clock)
    answered(buttons, 4)
    assert buttons.results[1:] == ["call_next:ok", "recall:ok", "done:ok"]
    assert hub.db.execute("SELECT label, status, counter FROM tickets").fetchall() == [("A001", "done", 1)]
    press(factory, DONE, clock)  # nothing left to finish: refused
    answered(buttons, 5)
    assert buttons.results[-1] == "done:refused:no_ticket", buttons.results


def test_a_second_press_within_the_hold_off_is_ignored(desk: tuple, hub: HubService) -> None:
    buttons, factory, clock = desk
    hub.queue.handle(("kiosk-x", "b1", 1), "issue", service="HT")
    hub.queue.handle(("kiosk-x", "b1", 2), "issue", service="HT")
    press(factory, NEXT, clock)
    clock.now += 0.3  # an impatient second press: would call the second citizen
    factory.pin(NEXT).drive_low()
    factory.pin(NEXT).drive_high()
    answered(buttons, 1)
    assert buttons.presses["call_next"].ignored == 1
    assert hub.db.execute("SELECT label FROM tickets WHERE status='called'").fetchall() == [("A001",)]


def test_no_hub_blinks_slowly_and_says_error(tmp_path: Path, make_client) -> None:  # noqa: ANN001
    bus = make_client("desk-9", role="desk", counters=(1,))  # a broker, but no hub behind it
    bus.wait_connected(5)
    cfg = build(DeskSection, {"counter": 1, "next_pin": NEXT, "led": LED, "request_timeout_s": 0.5}, "test", "desk")
    factory = MockFactory()
    buttons = DeskButtons(bus, cfg, pin_factory=factory)
    try:
        factory.pin(NEXT).drive_low()
        factory.pin(NEXT).drive_high()
        answered(buttons, 1)
        assert buttons.results == ["call_next:error:no_answer"]
        wait_until(lambda: len(factory.pin(LED).states) >= 4, what="a slow blink")
    finally:
        buttons.close()
        factory.close()


@pytest.mark.parametrize(("options", "problem"), [
    ({"counter": 1}, "desk.next_pin"),
    ({"counter": 1, "next_pin": 17, "done_pin": 17}, "a pin of their own"),
    ({"counter": 0, "next_pin": 17}, "desk.counter"),
])
def test_desk_config_mistakes_are_named(tmp_path: Path, options: dict, problem: str) -> None:
    lines = "\n".join(f"{k} = {v}" for k, v in options.items())
    path = tmp_path / "desk.toml"
    path.write_text(f'[device]\nid = "desk-1"\nrole = "desk"\nward = "w"\ndata_dir = "{tmp_path}"\n\n[desk]\n{lines}\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        load_desk(str(path))
