# Property-based fuzzing of every receiver (Hypothesis): valid, mutated and random payloads on every topic it reads.
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from bus.config import BrokerSection, build
from devkit.broker import Broker
from devkit.configs import write_bridge_config, write_display_config, write_district_config
from devkit.fuzz import corpus, feed
from hub.service import HubService
from tests.conftest import WARD, wait_until

EXAMPLES = 2000  # per receiver here; `python -m bench.fuzz` runs 100,000 (docs/reliability.md)
HUB_HINTS = {"service": ["HT", "CT", "CU", "KD", "XH"], "counter": [1, 2, 3, 4], "device": ["kiosk-1", "it"],
             "ward": [WARD]}


def ward_corpus() -> list[bytes]:
    """The payloads every ward receiver is fed: drawn once per test run (Hypothesis, derandomised for CI)."""
    return corpus(EXAMPLES, hints=HUB_HINTS)


@pytest.fixture
def tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """The log records that carry a traceback: a receiver that let an exception reach its guard. Must stay empty."""
    caplog.set_level(logging.WARNING)
    found: list[logging.LogRecord] = []
    yield found
    found += [r for r in caplog.records if r.exc_info]
    assert not found, f"{len(found)} tracebacks, first: {found[0].getMessage()}"


def own_topics(bus, *extra: str) -> list[str]:  # noqa: ANN001 - a BusClient
    """Every topic the client reads, its own command and reply topics, and neighbours it does not read."""
    t = bus.topics
    return [t.reply(bus.device), t.device_command(bus.device), t.device_state("hub"), t.ticket_request, t.rating,
            t.counter_command(1), t.counter_state(1), t.board_state, t.ticket_event, t.services, t.catalogue,
            t.upstream_record, "motcua/v1/other-ward/ticket/request", *extra]


def test_hub_survives_every_payload(hub: HubService, make_client, tracebacks: list) -> None:  # noqa: ANN001
    hub.commands.restart = lambda: None  # a fuzzed, valid "restart" from "it" must not stop the test run
    run = feed(hub.bus.deliver, own_topics(hub.bus, hub.bus.topics.counter_command(3)), ward_corpus())
    assert run.payloads == EXAMPLES
    wait_until(lambda: hub._inbox.qsize() == 0, timeout=60, what="the hub to work through what it was fed")
    assert hub.health() is None and hub.bus.rejected.total() > EXAMPLES // 10
    kiosk = make_client("kiosk-9")
    kiosk.wait_connected(5)
    reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=10)
    assert reply is not None and reply.type == "ticket.issued"
    twice = hub.db.execute("SELECT day, label, COUNT(*) FROM tickets GROUP BY day, label "
                           "HAVING COUNT(*) > 1").fetchall()
    assert not twice, f"numbers issued twice: {twice}"


def test_board_survives_every_payload(tmp_path: Path, broker: Broker, hub: HubService, make_client,  # noqa: ANN001
                                      tracebacks: list) -> None:
    from display.config import load_display
    from display.service import BoardService

    config, display, voice, audio = load_display(str(write_display_config(tmp_path, broker.port, audio="fake")))
    board = BoardService(config, display, dataclasses.replace(voice, speak=False), audio, size=(480, 270))
    board.commands.restart = lambda: None
    board.start()
    try:
        wait_until(lambda: (board.step(), board.board.online)[1], what="board online")
        steps = iter(range(10**9))
        run = feed(board.bus.deliver, own_topics(board.bus), ward_corpus(),
                   between=lambda: next(steps) % 25 == 0 and board.step())
        board.step()
        assert run.payloads == EXAMPLES and board.bus.health() is None
        hub.republish()  # the real state again: the board shows it
        counter = make_client("counter-1", role="bridge", counters=(1,))
        counter.wait_connected(5)
        kiosk = make_client("kiosk-1")
        kiosk.wait_connected(5)
        kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
        counter.request(counter.topics.counter_command(1), "counter.command", {"action": "call_next", "counter": 1},
                        timeout=5)
        wait_until(lambda: (board.step(), any(k.startswith("1:A0") for k in board.board.flash))[1],
                   what="the real call on the board")
    finally:
        board.stop()


def test_kiosk_survives_every_payload(kiosk_core, hub: HubService, tracebacks: list) -> None:  # noqa: ANN001
    kiosk_core.commands.restart = lambda: None
    run = feed(kiosk_core.bus.deliver, own_topics(kiosk_core.bus), ward_corpus())
    assert run.payloads == EXAMPLES and kiosk_core.bus.health() is None
    hub.republish()
    wait_until(lambda: "HT" in kiosk_core.services and kiosk_core.services["HT"]["prefix"] == "A",
               what="the hub's own service list again")
    wait_until(lambda: kiosk_core.hub_ok or kiosk_core.bus.connected.is_set(), what="connected")
    outcome = kiosk_core.take_ticket("HT")
    assert outcome.state == "printed" and not outcome.offline, outcome


def test_rating_devices_survive_every_payload(hub: HubService, make_client, tracebacks: list) -> None:  # noqa: ANN001
    from rating.config import RatingSection
    from rating.keypad import RatingKeypad
    from rating.touch import RatingApp

    keypad_bus = make_client("rating-1", role="rating", counters=(1,), outbox=True, retry_first=0.5)
    touch_bus = make_client("rating-2", role="rating", counters=(1,), outbox=True, retry_first=0.5)
    factory = MockFactory()
    keypad = RatingKeypad(keypad_bus, build(RatingSection, {"counter": 1, "pins": [5, 6, 13]}, "t", "rating"),
                          pin_factory=factory)
    app = RatingApp(touch_bus, counter=1, scale=3, size=(400, 240))
    try:
        run = feed(keypad_bus.deliver, own_topics(keypad_bus), ward_corpus()[:EXAMPLES // 2])
        steps = iter(range(10**9))
        run2 = feed(touch_bus.deliver, own_topics(touch_bus), ward_corpus()[EXAMPLES // 2:],
                    between=lambda: next(steps) % 10 == 0 and app.step())
        assert run.payloads + run2.payloads == EXAMPLES
        assert keypad_bus.health() is None and touch_bus.health() is None
        counter = make_client("counter-1", role="bridge", counters=(1,))
        counter.wait_connected(5)
        hub.queue.handle(("kiosk-x", "b1", 1), "issue", service="HT")
        for action in ("call_next", "start"):
            counter.request(counter.topics.counter_command(1), "counter.command", {"action": action, "counter": 1},
                            timeout=5)
        wait_until(lambda: keypad.watch.hint().get("ticket_id"), what="the keypad to see the ticket served")
        factory.pin(5).drive_low()
        factory.pin(5).drive_high()
        wait_until(lambda: any(m.type == "rating.recorded" for m in keypad.replies), what="the rating recorded")
    finally:
        keypad.close()
        app.close()
        factory.close()


def test_bridge_survives_every_payload(tmp_path: Path, broker: Broker, tracebacks: list) -> None:
    from firmware_bridge.config import load_bridge
    from firmware_bridge.service import BridgeService

    units = [{"port": str(tmp_path / "no-such-port"), "kind": kind, "counter": 1}
             for kind in ("rating_keypad", "counter_keypad", "led_display")]
    units[1]["port"] += "-2"
    units[2]["port"] += "-3"
    units.append({"port": str(tmp_path / "modbus"), "kind": "modbus_display", "counter": 2, "baud": 9600})
    config, section = load_bridge(str(write_bridge_config(tmp_path, broker.port, units)))
    service = BridgeService(config, section)
    service.commands.restart = lambda: None
    service.start()
    try:
        run = feed(service.bus.deliver, own_topics(service.bus, service.bus.topics.counter_state(2)), ward_corpus())
        assert run.payloads == EXAMPLES and service.health() is None
    finally:
        service.stop()


def test_collector_survives_every_payload(tmp_path: Path, broker: Broker, tracebacks: list) -> None:
    from district.collector import Collector
    from district.config import load_district

    config, section = load_district(str(write_district_config(tmp_path, broker.port, [WARD, "ward-b"])))
    collector = Collector(config, section)
    collector.commands.restart = lambda: None
    collector.start()
    try:
        topics = [f"motcua/v1/{w}/upstream/record" for w in (WARD, "ward-b", "not-ours", "Bad Ward")]
        records = corpus(EXAMPLES, ["upstream.record", "upstream.ack", "device.command"],
                         {"ward": [WARD, "ward-b"], "kind": ["rating", "day_stats"], "day": ["2026-11-23"]})
        run = feed(collector.bus.deliver, [*topics, collector.bus.topics.reply(collector.bus.device)], records)
        assert run.payloads == EXAMPLES
        wait_until(lambda: collector._inbox.qsize() == 0, timeout=60, what="the collector to work through it")
        assert collector.health() is None and collector.bus.rejected.total() > 0
        stored = collector.counts["stored"]
        from bus.client import BusClient

        hub = BusClient(BrokerSection(port=broker.port), WARD, "hub", "hub", outbox_path=tmp_path / "up.db")
        hub.start()
        hub.wait_connected(5)
        record = {"ward": WARD, "day": "2026-11-23", "ticket_id": 1, "counter": 1, "service": "HT", "level": 1,
                  "scale": 3, "version": 99}
        reply = hub.request(hub.topics.upstream_record, "upstream.record", {"kind": "rating", "record": record},
                            timeout=10, durable=True)
        hub.stop()
        assert reply is not None and reply.body["stored"] and collector.counts["stored"] == stored + 1
    finally:
        collector.stop()
