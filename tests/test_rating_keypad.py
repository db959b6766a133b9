# The rating keypad on MockFactory with a real broker and hub: presses filtered, ratings exactly once, outages.
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from bus.config import build
from devkit.broker import Broker, free_port
from devkit.configs import write_rating_config
from hub.service import HubService
from rating.config import RatingSection
from rating.keypad import RatingKeypad
from tests.conftest import ManualClock, wait_until

PINS = [5, 6, 13]


@pytest.fixture
def rig(hub: HubService, make_client) -> Iterator[tuple]:
    bus = make_client("rating-1", role="rating", counters=(1,), outbox=True, retry_first=0.5)
    counter = make_client("counter-1", role="bridge", counters=(1,))
    bus.wait_connected(5)
    counter.wait_connected(5)
    cfg = build(RatingSection, {"counter": 1, "pins": PINS, "led_ok": 20, "led_refused": 21}, "test", "rating")
    factory, clock = MockFactory(), ManualClock(100.0)
    keypad = RatingKeypad(bus, cfg, pin_factory=factory, clock=clock)
    yield keypad, factory, clock, counter
    keypad.close()
    factory.close()


def press(factory: MockFactory, level: int, clock: ManualClock, bounces: int = 0) -> None:
    pin = factory.pin(PINS[level - 1])
    pin.drive_low()
    for _ in range(bounces):
        clock.now += 0.003
        pin.drive_high()
        clock.now += 0.003
        pin.drive_low()
    pin.drive_high()


def serve_one(hub: HubService, counter_bus) -> None:  # noqa: ANN001
    hub.queue.handle(("kiosk-x", "b1", len(hub.queue.db.execute("SELECT id FROM tickets").fetchall()) + 1), "issue",
                     service="HT")
    for action in ("call_next", "done"):
        reply = counter_bus.request(counter_bus.topics.counter_command(1), "counter.command",
                                    {"action": action, "counter": 1}, timeout=5)
        assert reply is not None and reply.type == "counter.result", reply


def ratings(hub: HubService) -> list[tuple]:
    return hub.db.execute("SELECT ticket_id, level, version FROM ratings").fetchall()


def test_press_with_nothing_served_blinks_red(rig: tuple, hub: HubService) -> None:
    keypad, factory, clock, _ = rig
    press(factory, 1, clock)
    wait_until(lambda: keypad.replies, what="the hub's answer")
    assert keypad.replies[0].body["code"] == "nothing_served"
    wait_until(lambda: len(factory.pin(21).states) > 2, what="red LED to blink")
    assert ratings(hub) == []


def test_bouncy_and_repeated_presses_give_one_rating(rig: tuple, hub: HubService) -> None:
    keypad, factory, clock, counter = rig
    serve_one(hub, counter)
    press(factory, 2, clock, bounces=5)
    clock.now += 0.5
    press(factory, 1, clock)  # inside the hold-off: ignored
    wait_until(lambda: keypad.replies, what="rating recorded")
    assert keypad.sent == [2] and keypad.presses.ignored == 6
    clock.now += 2
    press(factory, 1, clock)  # the citizen changes their mind: replaces
    wait_until(lambda: len(keypad.replies) == 2, what="second answer")
    assert [r[1:] for r in ratings(hub)] == [(1, 2)]


def test_ratings_made_during_a_broker_outage_arrive_once(rig: tuple, hub: HubService, broker: Broker) -> None:
    keypad, factory, clock, counter = rig
    serve_one(hub, counter)
    broker.stop()
    wait_until(lambda: not keypad.bus.connected.is_set(), what="keypad sees the outage")
    press(factory, 3, clock)
    assert keypad.bus.outbox.size() == 1  # buffered on the device
    broker.start()
    wait_until(lambda: keypad.bus.outbox.size() == 0, timeout=30, what="rating delivered")
    assert [r[1:] for r in ratings(hub)] == [(3, 1)]


def test_a_rating_held_through_a_long_hub_outage_still_counts(hub_config, make_client) -> None:  # noqa: ANN001
    """The hub is down for ten minutes, longer than the rating window; the press was made in time and names the
    ticket the keypad saw leave, so the hub counts it for that ticket when it returns."""
    from hub.config import load_hub

    offset = [0.0]
    config, section = load_hub(str(hub_config))

    def start_hub() -> HubService:
        hub = HubService(config, section, clock=lambda: time.time() + offset[0])
        hub.start()
        return hub

    hub = start_hub()
    bus = make_client("rating-1", role="rating", counters=(1,), outbox=True, retry_first=0.5)
    counter = make_client("counter-1", role="bridge", counters=(1,))
    cfg = build(RatingSection, {"counter": 1, "pins": PINS}, "test", "rating")
    factory, clock = MockFactory(), ManualClock(100.0)
    keypad = RatingKeypad(bus, cfg, pin_factory=factory, clock=clock)
    try:
        wait_until(lambda: bus.connected.is_set() and counter.connected.is_set(), what="clients connected")
        serve_one(hub, counter)
        wait_until(lambda: keypad.watch.hint().get("left_s") == 0.0, what="the keypad to see the ticket leave")
        hub.stop()
        clock.now += 5
        press(factory, 2, clock)
        offset[0] += 600
        hub = start_hub()
        wait_until(lambda: keypad.replies, timeout=20, what="the hub's answer after its return")
        assert keypad.replies[0].type == "rating.recorded", keypad.replies[0].body
        assert [r[1:] for r in ratings(hub)] == [(2, 1)]
    finally:
        keypad.close()
        factory.close()
        hub.stop()


def test_a_board_with_no_gpio_library_is_said_in_one_line(tmp_path: Path) -> None:
    """A Raspberry Pi 5 whose venv cannot see python3-lgpio (or, here, a PC): gpiozero finds no pin library. The
    service exits with one line naming the part and what to install, not a traceback systemd restarts forever."""
    config = write_rating_config(tmp_path, free_port(), "rating-1", 1, [5, 6, 13])
    env = {k: v for k, v in os.environ.items() if k != "GPIOZERO_PIN_FACTORY"}  # gpiozero's own choice, as a unit
    done = subprocess.run([sys.executable, "-m", "provisioning", "run", "--config", str(config)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    said = done.stderr.strip().splitlines()[-1]
    assert said.startswith("Error: the rating keypad: no GPIO pin library for this board"), said
    assert "install the Debian package python3-lgpio" in said and "--system-site-packages" in said
