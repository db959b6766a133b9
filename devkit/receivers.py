# Every role's receiver set up for fuzzing, with a check that it still does its real work afterwards.
from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bus.client import BusClient
from bus.config import BrokerSection, build
from bus.device_commands import DeviceCommands
from devkit.configs import write_bridge_config, write_display_config, write_district_config, write_hub_config

WARD = "demo-ward"
HINTS = {"service": ["HT", "CT", "CU", "KD", "XH"], "counter": [1, 2, 3, 4], "device": ["kiosk-1", "it"],
         "ward": [WARD]}
RECORD_TYPES = ["upstream.record", "bundle", "upstream.ack", "device.command"]
RECORD_HINTS = {"ward": [WARD, "ward-b"], "kind": ["rating", "day_stats"], "day": ["2026-11-23"]}


@dataclass
class Receiver:
    """A role's bus client ready to be fed: `deliver` is its receive path, `topics` what to feed it on, `between`
    a screen's frame where it has one, `health` its watchdog's view and `works()` a real task done afterwards."""

    name: str
    bus: BusClient
    topics: list[str]
    health: Callable[[], str | None]
    works: Callable[[], None]
    between: Callable[[], Any] | None = None
    types: list[str] | None = None
    hints: dict[str, list[Any]] = field(default_factory=lambda: HINTS)

    @property
    def deliver(self) -> Callable[[str, bytes], None]:
        return self.bus.deliver


def wait(predicate: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def _client(port: int, workdir: Path, device: str, role: str, **kw: Any) -> BusClient:
    client = BusClient(BrokerSection(port=port), WARD, device, role, **kw)
    client.start()
    client.wait_connected(10)
    return client


def ward_topics(bus: BusClient, *extra: str) -> list[str]:
    """Every topic a ward client reads, its own command and reply topics, and neighbours it does not read."""
    t = bus.topics
    return [t.reply(bus.device), t.device_command(bus.device), t.device_state("hub"), t.ticket_request, t.rating,
            t.counter_command(1), t.counter_state(1), t.board_state, t.ticket_event, t.services, t.catalogue,
            t.ticket_lookup, t.line_state("HT"), t.upstream_record, "motcua/v1/other-ward/ticket/request", *extra]


@contextmanager
def hub(workdir: Path, port: int) -> Iterator[tuple[Receiver, Any]]:
    """The hub; `works` takes a ticket through the broker and checks no number was given twice."""
    from hub.config import load_hub
    from hub.service import HubService

    service = HubService(*load_hub(str(write_hub_config(workdir, port))))
    service.commands.restart = lambda: None  # a fuzzed, valid "restart" from "it" must not stop the run
    service.start()
    kiosk = _client(port, workdir, "kiosk-9", "kiosk")

    def works() -> None:
        wait(lambda: service._inbox.qsize() == 0, "the hub to work through what it was fed", 120)
        reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=10)
        assert reply is not None and reply.type == "ticket.issued", reply
        twice = service.db.execute("SELECT day, label, COUNT(*) FROM tickets GROUP BY day, label "
                                   "HAVING COUNT(*) > 1").fetchall()
        assert not twice, f"numbers issued twice: {twice}"

    try:
        yield Receiver("hub", service.bus, ward_topics(service.bus, service.bus.topics.counter_command(3)),
                       service.health, works), service
    finally:
        kiosk.stop()
        service.stop()


@contextmanager
def board(workdir: Path, port: int, officer: BusClient, kiosk: BusClient, republish: Callable[[], None]
          ) -> Iterator[Receiver]:
    """The board (SDL's dummy driver, no voice); `works` shows a real call made through the hub."""
    from display.config import load_display
    from display.service import BoardService

    config, display, voice, audio = load_display(str(write_display_config(workdir, port, audio="fake")))
    service = BoardService(config, display, dataclasses.replace(voice, speak=False), audio, size=(480, 270))
    service.commands.restart = lambda: None
    service.start()
    wait(lambda: (service.step(), service.board.online)[1], "the board online")
    frames = iter(range(10**12))

    def works() -> None:
        republish()
        service.step()
        reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=10)
        assert reply is not None and reply.type == "ticket.issued", reply
        called = officer.request(officer.topics.counter_command(1), "counter.command",
                                 {"action": "call_next", "counter": 1}, timeout=10)
        assert called is not None and called.body.get("ticket"), called  # the oldest waiting ticket at counter 1
        label = called.body["ticket"]["label"]
        wait(lambda: (service.step(), f"1:{label}" in service.board.flash)[1], "the real call on the board")

    try:
        yield Receiver("board", service.bus, ward_topics(service.bus), service.bus.health, works,
                       between=lambda: next(frames) % 25 == 0 and service.step())
    finally:
        service.stop()


@contextmanager
def kiosk(workdir: Path, port: int, republish: Callable[[], None]) -> Iterator[Receiver]:
    """A kiosk's logic on the fake printer; `works` prints a ticket the hub issued."""
    from devkit.configs import write_kiosk_config
    from kiosk.config import load_kiosk
    from kiosk.core import KioskCore
    from kiosk.printing.fake import FakePrinter

    config, section, printer_cfg, _ = load_kiosk(str(write_kiosk_config(workdir, port, printer_backend="fake")))
    core = KioskCore(config, section, printer_cfg, FakePrinter(timeout=1.0))
    core.commands.restart = lambda: None
    core.start()
    wait(lambda: core.services and core.hub_ok, "the kiosk to learn the services")

    def works() -> None:
        republish()
        wait(lambda: core.services.get("HT", {}).get("prefix") == "A" and not core.hub_said_offline,
             "the hub's own service list and state again")  # a fuzzed "offline" state of the hub's may have come
        outcome = core.take_ticket("HT")
        assert outcome.state == "printed" and not outcome.offline, outcome

    try:
        yield Receiver("kiosk", core.bus, ward_topics(core.bus), core.bus.health, works)
    finally:
        core.stop()


@contextmanager
def rating_keypad(workdir: Path, port: int, officer: BusClient, serve: Callable[[], int]) -> Iterator[Receiver]:
    """The GPIO rating keypad on gpiozero's MockFactory; `works` records a press for a ticket being served."""
    from gpiozero.pins.mock import MockFactory

    from rating.config import RatingSection
    from rating.keypad import RatingKeypad

    bus = _client(port, workdir, "rating-1", "rating", counters=(1,), outbox_path=workdir / "rating-1.db",
                  retry_first=0.5)
    DeviceCommands(bus, restart=lambda: None)
    factory = MockFactory()
    keypad = RatingKeypad(bus, build(RatingSection, {"counter": 1, "pins": [5, 6, 13]}, "fuzz", "rating"),
                          pin_factory=factory)

    def works() -> None:
        served = serve()
        wait(lambda: keypad.watch.hint().get("ticket_id") == served, "the keypad to see the ticket served")
        before = len([m for m in keypad.replies if m.type == "rating.recorded"])
        factory.pin(5).drive_low()
        factory.pin(5).drive_high()
        wait(lambda: len([m for m in keypad.replies if m.type == "rating.recorded"]) > before, "a rating recorded")

    try:
        yield Receiver("rating keypad", bus, ward_topics(bus), bus.health, works)
    finally:
        keypad.close()
        factory.close()
        bus.stop()


@contextmanager
def notify(workdir: Path, port: int, kiosk: BusClient) -> Iterator[Receiver]:
    """The notifier on the fake gateway; `works` leaves a phone number for a ticket and gets it accepted."""
    from devkit.configs import write_notify_config
    from notify.config import load_notify
    from notify.service import NotifyService

    service = NotifyService(*load_notify(str(write_notify_config(workdir, port))))
    service.commands.restart = lambda: None
    service.start()
    service.bus.wait_connected(10)

    def works() -> None:
        body = {"ticket_id": 1, "label": "A001", "service": "HT", "day": service.today(), "phone": "0912345678",
                "lang": "vi"}
        # resent, as the kiosk's outbox resends: the broker may not yet have taken the freshly started notifier's
        # subscriptions when the first one comes
        for _ in range(3):
            reply = kiosk.request(kiosk.topics.notify_subscribe, "notify.subscribe", body, timeout=4)
            if reply is not None:
                break
        assert reply is not None and reply.type == "notify.accepted", reply

    try:
        yield Receiver("notify", service.bus, ward_topics(service.bus, service.bus.topics.notify_subscribe),
                       service.health, works)
    finally:
        service.stop()


@contextmanager
def desk(workdir: Path, port: int) -> Iterator[Receiver]:
    """The desk buttons on gpiozero's MockFactory at counter 2; `works` presses Next and gets the hub's answer."""
    from gpiozero.pins.mock import MockFactory

    from desk.buttons import DeskButtons
    from desk.config import DeskSection

    bus = _client(port, workdir, "desk-2", "desk", counters=(2,))
    DeviceCommands(bus, restart=lambda: None)
    factory = MockFactory()
    buttons = DeskButtons(bus, build(DeskSection, {"counter": 2, "next_pin": 17, "led": 4}, "fuzz", "desk"),
                          pin_factory=factory)

    def works() -> None:
        before = len(buttons.results)
        factory.pin(17).drive_low()
        factory.pin(17).drive_high()
        wait(lambda: len(buttons.results) > before, "the hub's answer to Next")
        assert buttons.results[-1].startswith(("call_next:ok", "call_next:refused")), buttons.results

    try:
        yield Receiver("desk", bus, ward_topics(bus, bus.topics.counter_state(2)), bus.health, works)
    finally:
        buttons.close()
        factory.close()
        bus.stop()


@contextmanager
def rating_touch(workdir: Path, port: int) -> Iterator[Receiver]:
    """The touch rating terminal (SDL's dummy driver); `works` checks it still draws and listens."""
    from rating.touch import RatingApp

    bus = _client(port, workdir, "rating-2", "rating", counters=(1,), outbox_path=workdir / "rating-2.db",
                  retry_first=0.5)
    DeviceCommands(bus, restart=lambda: None)
    app = RatingApp(bus, counter=1, scale=3, size=(400, 240))
    frames = iter(range(10**12))
    try:
        yield Receiver("rating touch", bus, ward_topics(bus), bus.health, lambda: app.step(),
                       between=lambda: next(frames) % 10 == 0 and app.step())
    finally:
        app.close()
        bus.stop()


@contextmanager
def bridge(workdir: Path, port: int) -> Iterator[Receiver]:
    """The firmware bridge with every kind of unit (their ports absent: the bus side is what is fed)."""
    from firmware_bridge.config import load_bridge
    from firmware_bridge.service import BridgeService

    units = [{"port": str(workdir / f"no-port-{kind}"), "kind": kind, "counter": 1}
             for kind in ("rating_keypad", "counter_keypad", "led_display")]
    units.append({"port": str(workdir / "no-port-modbus"), "kind": "modbus_display", "counter": 2, "baud": 9600})
    service = BridgeService(*load_bridge(str(write_bridge_config(workdir, port, units))))
    service.commands.restart = lambda: None
    service.start()
    try:
        yield Receiver("bridge", service.bus, ward_topics(service.bus, service.bus.topics.counter_state(2)),
                       service.health, lambda: None)
    finally:
        service.stop()


@contextmanager
def collector(workdir: Path, port: int) -> Iterator[Receiver]:
    """A district collector on SQLite; `works` has a real record stored once and acknowledged."""
    from district.collector import Collector
    from district.config import load_district

    service = Collector(*load_district(str(write_district_config(workdir, port, [WARD, "ward-b"]))))
    service.commands.restart = lambda: None
    service.start()
    sender = _client(port, workdir, "hub-up", "hub", outbox_path=workdir / "up.db", retry_first=0.5)
    seq = iter(range(1, 10**9))

    def works() -> None:
        from district.store import open_store

        wait(lambda: service._inbox.qsize() == 0, "the collector to work through what it was fed", 120)
        record = {"ward": WARD, "day": "2026-11-23", "ticket_id": 10**6 + next(seq), "counter": 1, "service": "HT",
                  "level": 1, "scale": 3, "version": 1}
        for _ in range(2):  # sent twice, as after a lost acknowledgement: stored once
            reply = sender.request(sender.topics.upstream_record, "upstream.record",
                                   {"kind": "rating", "record": record}, timeout=10, durable=True)
            assert reply is not None and reply.body["stored"], reply  # acknowledged only after the commit
        reader = open_store(service.section, service.config.data_dir, read_only=True)
        try:
            rows = list(reader.query("SELECT COUNT(*) AS n FROM ratings WHERE ward=? AND ticket_id=?",
                                     (WARD, record["ticket_id"])))
        finally:
            reader.close()
        assert rows == [{"n": 1}], rows

    topics = [f"motcua/v1/{w}/upstream/record" for w in (WARD, "ward-b", "not-ours", "Bad Ward")]
    try:
        yield Receiver("collector", service.bus, [*topics, service.bus.topics.reply(service.bus.device)],
                       service.health, works, types=RECORD_TYPES, hints=RECORD_HINTS)
    finally:
        sender.stop()
        service.stop()


class Tracebacks(logging.Handler):
    """Collects log records that carry a traceback: a receiver that let an exception reach a guard."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)
