# Bundles: an outbox's backlog for the collector goes many records to a publish; each inside is checked alone.
from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bus import messages
from bus.bundle import ALONE_AFTER, BUNDLE_BYTES, BUNDLE_MAX, pack, unpack
from bus.client import BusClient
from bus.config import BrokerSection
from bus.outbox import Entry
from bus.rejections import Rejections
from bus.topics import Topics
from devkit.broker import Broker
from tests.conftest import WARD, wait_until
from tests.test_upstream import collector

UP = Topics(WARD).upstream_record


def record(i: int, level: int = 1) -> dict[str, Any]:
    return {"kind": "rating", "record": {"ward": WARD, "day": "2026-11-23", "ticket_id": i, "counter": 1,
                                         "service": "HT", "level": level, "scale": 3, "version": 1}}


def entry(seq: int, topic: str = UP, attempts: int = 0, officer: str = "") -> Entry:
    body = record(seq)
    body["record"]["officer"] = officer
    msg = messages.make("upstream.record", "hub-1", "a1b2c3", seq, body, corr=f"a1b2c3.{seq}")
    return Entry(msg.corr or "", topic, msg.encode(), 0.0, attempts)


def bundle_of(held: list[dict[str, Any]]) -> messages.Message:
    return messages.make("bundle", "hub-1", "a1b2c3", 10**6, {"messages": held})


def test_a_backlog_goes_in_bundles_in_order_and_anything_else_alone() -> None:
    other = Topics(WARD).rating
    due = [entry(i) for i in range(1, 451)]
    due[100:100] = [entry(9001, topic=other)]  # another topic: alone, and the records around it stay in order
    due.append(entry(9002, attempts=ALONE_AFTER))  # tried in bundles already: a receiver that may take none
    sent = list(pack(due, bundle_of))
    kinds = [(topic, json.loads(payload)["type"]) for topic, payload in sent]
    assert kinds == [(UP, "bundle"), (other, "upstream.record"), (UP, "bundle"), (UP, "bundle"),
                     (UP, "upstream.record")]
    seqs = [m["seq"] for _, p in sent for m in json.loads(p)["body"].get("messages") or [json.loads(p)]]
    assert seqs == [json.loads(e.payload)["seq"] for e in due]
    assert all(len(p) <= messages.MAX_PAYLOAD for _, p in sent)
    assert max(len(json.loads(p)["body"].get("messages", [])) for _, p in sent) == BUNDLE_MAX
    for _, payload in sent:  # every bundle is a valid message and holds valid messages
        msg = messages.decode(payload)
        for inner in msg.body.get("messages", []):
            messages.from_dict(inner)


def test_a_bundle_stops_at_the_payload_limit_and_one_record_goes_as_itself() -> None:
    long = "Cán bộ " * 40  # ~1 KB records: the byte limit comes before the count
    sent = list(pack([entry(i, officer=long) for i in range(1, 121)], bundle_of))
    assert len(sent) > 1 and all(len(p) <= BUNDLE_BYTES + 4096 for _, p in sent)
    assert sum(len(json.loads(p)["body"]["messages"]) for _, p in sent) == 120
    alone = entry(7)
    assert list(pack([alone], bundle_of)) == [(UP, alone.payload)]


def test_names_a_sender_made_up_inside_a_bundle_are_counted_as_unknown_fields() -> None:
    rejected = Rejections(logging.getLogger(__name__), "collector-1")
    made_up = [{**json.loads(entry(i).payload), f"x{i}": 1} for i in range(1, 51)]
    assert list(unpack(bundle_of(made_up), UP, rejected)) == []
    assert rejected["bundle.unknown field"] == 50 and len(rejected.counts) == 1


class Spy:
    """What crosses the broker on a topic, read with paho itself (a BusClient would take bundles apart and keep
    only replies to what it asked)."""

    def __init__(self, port: int, topic: str = UP) -> None:
        self.seen: list[dict[str, Any]] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"spy-{topic}")
        self.client.on_message = lambda c, u, m: self.seen.append(json.loads(m.payload))
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()
        assert self.subscribed.wait(10)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_a_backlog_of_450_records_reaches_the_collector_in_three_publishes_stored_once(
        tmp_path: Path, broker: Broker) -> None:
    sender = BusClient(BrokerSection(port=broker.port), WARD, "hub-1", "hub", outbox_path=tmp_path / "up.db")
    for i in range(1, 451):  # queued before the connection: the backlog an outage leaves
        sender.send_durable(UP, "upstream.record", record(i))
    spy, c = Spy(broker.port), collector(tmp_path, broker)
    try:
        sender.start()
        wait_until(lambda: sender.outbox.size() == 0, timeout=60, what="every record acknowledged")  # type: ignore
        assert [m["type"] for m in spy.seen] == ["bundle"] * 3, spy.seen
    finally:
        spy.stop()
        sender.stop()
        c.stop()
    with sqlite3.connect(tmp_path / "district" / "district.db") as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT ticket_id) FROM ratings").fetchone() == (450, 450)
        assert db.execute("SELECT COUNT(*) FROM seen").fetchone()[0] == 450
    assert c.counts["stored"] == 450


def test_a_bad_message_in_a_bundle_is_refused_alone_and_its_neighbours_are_stored(
        tmp_path: Path, broker: Broker) -> None:
    sender = BusClient(BrokerSection(port=broker.port), WARD, "hub-1", "hub")
    sender.start()
    replies, c = Spy(broker.port, Topics(WARD).reply("hub-1")), collector(tmp_path, broker)
    try:
        def inner(seq: int, body: dict[str, Any], device: str = "hub-1") -> dict[str, Any]:
            msg = messages.make("upstream.record", device, sender.boot, seq, body, corr=f"{sender.boot}.{seq}")
            return json.loads(msg.encode())

        nested = json.loads(sender.message("bundle", {"messages": [inner(90, record(90))]}).encode())
        broken = inner(91, record(91))
        del broken["seq"]
        held = [inner(1, record(1)), inner(2, record(2), device="hub-2"), nested, broken, inner(3, record(3, level=9)),
                inner(4, record(4))]
        sender.publish(UP, sender.message("bundle", {"messages": held}))
        wait_until(lambda: c.counts["stored"] == 2 and c.counts["rejected"] == 1, timeout=20,
                   what=f"two records stored, one refused (counts {c.counts})")
        wait_until(lambda: len(replies.seen) == 2, timeout=10, what="a bulk acknowledgement and a refusal")
        acks = [m["body"] for m in replies.seen]
        rejected = c.bus.rejected
        assert (rejected["bundle.device"], rejected["bundle.type"], rejected["bundle.seq"]) == (1, 1, 1)
        refusal = next(a for a in acks if not a["stored"])
        assert "level" in refusal["reason"], refusal
        stored = next(a for a in acks if a["stored"])
        assert stored["corrs"] == [f"{sender.boot}.1", f"{sender.boot}.4"]
        assert c.health() is None
    finally:
        replies.stop()
        sender.stop()
        c.stop()
    with sqlite3.connect(tmp_path / "district" / "district.db") as db:
        assert sorted(r[0] for r in db.execute("SELECT ticket_id FROM ratings")) == [1, 4]


def test_entries_made_in_this_boot_say_their_age_alone_and_in_bundles() -> None:
    due = [dataclasses.replace(entry(i), made_up=100.0 + i) for i in range(1, 4)]
    due.append(entry(4, attempts=ALONE_AFTER))  # made in an earlier boot, and alone
    due.append(dataclasses.replace(entry(5, attempts=ALONE_AFTER), made_up=100.0))
    sent = [messages.decode(payload) for _, payload in pack(due, bundle_of, 160.0)]
    assert [m.type for m in sent] == ["bundle", "upstream.record", "upstream.record"]
    assert [one["age"] for one in sent[0].body["messages"]] == [59.0, 58.0, 57.0] and sent[0].age is None
    assert (sent[1].age, sent[2].age) == (None, 60.0)
