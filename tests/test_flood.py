# Floods through a real mosquitto: 20,000 hostile messages at each role while real work goes on, nothing lost.
from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from bus.config import BrokerSection, build
from bus.device_commands import DeviceCommands
from bus.messages import Message
from devkit.broker import Broker
from devkit.configs import write_bridge_config, write_display_config, write_district_config
from devkit.hostile import flood, raw_client
from hub.service import HubService
from tests.conftest import WARD, wait_until

FLOOD = 20000


@pytest.fixture
def attacker(broker: Broker) -> Iterator:
    client = raw_client(broker.port, "attacker")
    yield client
    client.loop_stop()
    client.disconnect()


@pytest.fixture
def tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING)
    yield
    found = [r for r in caplog.records if r.exc_info]
    assert not found, f"{len(found)} tracebacks, first: {found[0].getMessage()}"


def in_background(fn) -> threading.Thread:  # noqa: ANN001
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    return thread


def test_a_flood_at_the_hub_costs_no_real_request(hub: HubService, attacker, make_client, tracebacks) -> None:  # noqa: ANN001
    kiosk = make_client("kiosk-1")
    kiosk.wait_connected(5)
    t = hub.bus.topics
    read_by_hub = [t.ticket_request, t.ticket_confirm, t.ticket_offline, t.rating, t.counter_command(1),
                   t.counter_command(4), t.reply("hub"), t.device_command("hub")]
    attack = in_background(lambda: flood(attacker, read_by_hub, FLOOD))
    answers: list[Message | None] = []
    for _ in range(100):  # a citizen every few milliseconds, in the middle of the flood
        answers.append(kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=10))
    attack.join()
    assert all(a is not None and a.type == "ticket.issued" for a in answers), [a for a in answers if not a]
    labels = [a.body["ticket"]["number"] for a in answers]  # type: ignore[union-attr]
    assert labels == sorted(set(labels))  # every citizen a number of their own, in order
    wait_until(lambda: hub.bus.rejected.total() >= FLOOD * 0.7, timeout=60, what="the flood to be counted")
    state = hub.bus.state_body("online")["detail"]
    assert sum(state["rejected_messages"].values()) == hub.bus.rejected.total()
    assert hub.health() is None


def test_a_flood_at_the_board_leaves_it_showing_calls(tmp_path: Path, broker: Broker, hub: HubService, attacker,  # noqa: ANN001
                                                     make_client, tracebacks) -> None:
    from display.config import load_display
    from display.service import BoardService

    config, display, voice, audio = load_display(str(write_display_config(tmp_path, broker.port, audio="fake")))
    board = BoardService(config, display, dataclasses.replace(voice, speak=False), audio, size=(480, 270))
    board.start()
    try:
        wait_until(lambda: (board.step(), board.board.online)[1], what="board online")
        t = board.bus.topics
        topics = [t.board_state, t.ticket_event, t.device_state("hub"), t.reply("board-1"), t.device_command("board-1")]
        attack = in_background(lambda: flood(attacker, topics, FLOOD))
        while attack.is_alive():
            board.step()
        counter = make_client("counter-1", role="bridge", counters=(1,))
        kiosk = make_client("kiosk-1")
        counter.wait_connected(5)
        kiosk.wait_connected(5)
        kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
        counter.request(counter.topics.counter_command(1), "counter.command", {"action": "call_next", "counter": 1},
                        timeout=5)
        wait_until(lambda: (board.step(), "1:A001" in board.board.flash)[1], what="the real call shown")
        wait_until(lambda: (board.step(), board.bus.rejected.total() >= FLOOD * 0.7)[1], what="the flood counted")
        assert board.board.online and board.bus.health() is None
    finally:
        board.stop()


def test_a_flood_at_the_kiosk_leaves_it_printing(kiosk_core, attacker, tracebacks) -> None:  # noqa: ANN001
    # The attacker, the hub and the kiosk share one interpreter here, so on a two-core machine the flood also starves
    # the kiosk of the GIL: give the hub the longest wait the config allows. A silenced kiosk still fails this test
    # (every ticket would be offline); a slow one under 20,000 messages in 2 s does not.
    kiosk_core.kiosk = dataclasses.replace(kiosk_core.kiosk, hub_timeout_s=10.0)
    t = kiosk_core.bus.topics
    topics = [t.services, t.catalogue, t.device_state("hub"), t.reply("kiosk-1"), t.device_command("kiosk-1")]
    attack = in_background(lambda: flood(attacker, topics, FLOOD))
    outcomes = [kiosk_core.take_ticket("HT") for _ in range(5)]
    attack.join()
    outcomes += [kiosk_core.take_ticket("HT") for _ in range(5)]
    assert all(o.state == "printed" and not o.offline for o in outcomes), [o for o in outcomes if o.offline]
    wait_until(lambda: kiosk_core.bus.rejected.total() >= FLOOD * 0.7, what="the flood counted")
    assert kiosk_core.bus.health() is None


def test_a_flood_at_a_rating_keypad_loses_no_rating(hub: HubService, attacker, make_client, tracebacks) -> None:  # noqa: ANN001
    from rating.config import RatingSection
    from rating.keypad import RatingKeypad

    bus = make_client("rating-1", role="rating", counters=(1,), outbox=True, retry_first=0.5)
    counter = make_client("counter-1", role="bridge", counters=(1,))
    DeviceCommands(bus)  # as rating/main.py wires it: the device answers ward IT
    bus.wait_connected(5)
    counter.wait_connected(5)
    factory = MockFactory()
    keypad = RatingKeypad(bus, build(RatingSection, {"counter": 1, "pins": [5, 6, 13]}, "t", "rating"),
                          pin_factory=factory)
    try:
        t = bus.topics
        attack = in_background(lambda: flood(attacker, [t.counter_state(1), t.reply("rating-1"),
                                                        t.device_command("rating-1")], FLOOD))
        hub.queue.handle(("kiosk-x", "b1", 1), "issue", service="HT")
        for action in ("call_next", "start"):
            counter.request(t.counter_command(1), "counter.command", {"action": action, "counter": 1}, timeout=5)
        attack.join()
        wait_until(lambda: keypad.watch.hint().get("ticket_id"), what="the keypad to see the ticket served")
        factory.pin(6).drive_low()
        factory.pin(6).drive_high()
        wait_until(lambda: any(m.type == "rating.recorded" for m in keypad.replies), what="the rating recorded")
        assert hub.db.execute("SELECT level FROM ratings").fetchall() == [(2,)]
        wait_until(lambda: bus.rejected.total() >= FLOOD * 0.7, what="the flood counted")
        assert bus.health() is None
    finally:
        keypad.close()
        factory.close()


def test_a_flood_at_the_bridge_keeps_its_units_served(tmp_path: Path, broker: Broker, attacker,  # noqa: ANN001
                                                     tracebacks) -> None:
    from firmware_bridge.config import load_bridge
    from firmware_bridge.service import BridgeService

    units = [{"port": str(tmp_path / f"port-{kind}"), "kind": kind, "counter": 1}
             for kind in ("rating_keypad", "counter_keypad", "led_display")]
    config, section = load_bridge(str(write_bridge_config(tmp_path, broker.port, units)))
    service = BridgeService(config, section)
    service.start()
    try:
        t = service.bus.topics
        flood(attacker, [t.counter_state(1), t.reply("bridge-1"), t.device_command("bridge-1")], FLOOD)
        wait_until(lambda: service.bus.rejected.total() >= FLOOD * 0.7, what="the flood counted")
        assert service.health() is None
    finally:
        service.stop()


def test_a_flood_at_the_collector_stores_every_real_record_once(tmp_path: Path, broker: Broker, attacker,  # noqa: ANN001
                                                                 tracebacks) -> None:
    from bus.client import BusClient
    from district.collector import Collector
    from district.config import load_district

    config, section = load_district(str(write_district_config(tmp_path, broker.port, [WARD])))
    collector = Collector(config, section)
    collector.start()
    hub = BusClient(BrokerSection(port=broker.port), WARD, "hub", "hub", outbox_path=tmp_path / "up.db",
                    retry_first=0.5)
    hub.start()
    try:
        hub.wait_connected(5)
        wait_until(collector.bus.connected.is_set, what="collector connected")
        attack = in_background(lambda: flood(attacker, [hub.topics.upstream_record, "motcua/v1/x/upstream/record"],
                                             FLOOD))
        for i in range(1, 51):
            record = {"ward": WARD, "day": "2026-11-23", "ticket_id": i, "counter": 1, "service": "HT", "level": 1,
                      "scale": 3, "version": 1}
            hub.send_durable(hub.topics.upstream_record, "upstream.record", {"kind": "rating", "record": record})
        attack.join()
        wait_until(lambda: hub.outbox.size() == 0, timeout=60, what="every real record acknowledged")
        assert collector.counts["stored"] == 50
        wait_until(lambda: collector.bus.rejected.total() >= FLOOD * 0.7, what="the flood counted")
        assert collector.health() is None
    finally:
        hub.stop()
        collector.stop()
