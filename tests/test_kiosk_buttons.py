# Big-button mode on gpiozero's MockFactory: one ticket per press despite bounce, holding and repeats; status LED.
from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory

from bus.config import build
from devkit.broker import Broker
from hub.service import HubService
from kiosk.buttons import ButtonPanel
from kiosk.config import ButtonsSection
from kiosk.core import KioskCore
from kiosk.printing.fake import FakePrinter
from kiosk.printing.status import PrinterStatus
from tests.conftest import ManualClock, wait_until

PINS = {"HT": 17, "CT": 27}


@pytest.fixture
def rig(kiosk_core: KioskCore, printer: FakePrinter) -> Iterator[tuple]:
    core = kiosk_core
    cfg = build(ButtonsSection, {"services": list(PINS), "pins": list(PINS.values()), "leds": [22, 23],
                                 "status_led": 24, "bounce_s": 0.05, "hold_off_s": 2.0}, "test", "buttons")
    factory, clock = MockFactory(), ManualClock(100.0)
    panel = ButtonPanel(core, cfg, pin_factory=factory, clock=clock)
    yield panel, factory, clock, printer, core
    panel.close()
    factory.close()


def press(factory: MockFactory, pin: int, clock: ManualClock, bounces: int = 0) -> None:
    """A press as a real contact makes it: optional chatter within a few ms, then released."""
    p = factory.pin(pin)
    p.drive_low()
    for _ in range(bounces):
        clock.now += 0.002
        p.drive_high()
        clock.now += 0.002
        p.drive_low()
    clock.now += 0.3
    p.drive_high()


def test_bouncy_press_gives_one_ticket(rig: tuple) -> None:
    panel, factory, clock, printer, _ = rig
    press(factory, PINS["HT"], clock, bounces=6)
    assert panel.wait_idle()
    assert [o.ticket["label"] for o in panel.outcomes] == ["A001"]
    assert len(printer.jobs) == 1 and panel.ignored == 6


def test_long_hold_gives_one_ticket_and_presses_after_hold_off_give_more(rig: tuple) -> None:
    panel, factory, clock, printer, _ = rig
    factory.pin(PINS["CT"]).drive_low()
    clock.now += 10  # held down for ten seconds
    factory.pin(PINS["CT"]).drive_high()
    assert panel.wait_idle()
    press(factory, PINS["CT"], clock)  # 0.3 s after the release: inside the hold-off
    assert panel.wait_idle() and len(panel.outcomes) == 1
    clock.now += 2.5
    press(factory, PINS["CT"], clock)
    assert panel.wait_idle()
    assert [o.ticket["label"] for o in panel.outcomes] == ["B001", "B002"]


def test_status_led_shows_printer_problem_and_offline(rig: tuple, broker: Broker) -> None:
    panel, factory, clock, printer, core = rig
    led = factory.pin(24)
    assert led.state and panel.status_mode == "ready"  # steady on
    printer.state = PrinterStatus.PAPER_OUT
    press(factory, PINS["HT"], clock)
    assert panel.wait_idle()
    assert panel.outcomes[-1].state == "printer_problem"
    assert panel.status_mode == "printer"  # fast blink
    wait_until(lambda: len({s.state for s in led.states[-6:]}) == 2, what="the status LED to blink")
    printer.state = PrinterStatus.OK
    clock.now += 3
    press(factory, PINS["HT"], clock)
    assert panel.wait_idle() and panel.outcomes[-1].state == "printed"
    assert panel.status_mode == "ready" and led.state
    broker.stop()  # the link to the hub is lost
    wait_until(lambda: panel.status_mode == "offline", what="slow blink for offline")
    broker.start()
    wait_until(lambda: panel.status_mode == "ready", timeout=30, what="ready again after reconnecting")


def test_failed_print_in_button_mode_is_voided(rig: tuple, hub: HubService) -> None:
    panel, factory, clock, printer, _ = rig
    printer.fail_mid_job = True
    press(factory, PINS["HT"], clock)
    assert panel.wait_idle()
    wait_until(lambda: hub.db.execute("SELECT status FROM tickets").fetchone() == ("void",), what="void")
