# kill -9 of the hub process in the middle of a burst of 1,000 ticket requests, then a restart.
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from bus.config import BrokerSection
from bus.messages import Message
from devkit.broker import Broker
from devkit.processes import RoleProcess
from provisioning.fleet import wait_online
from tests.conftest import wait_until


def test_kill_9_mid_burst_loses_no_acknowledged_ticket_and_issues_no_number_twice(
        tmp_path: Path, hub_config: Path, broker: Broker, make_client) -> None:
    hub = RoleProcess("hub", hub_config, tmp_path / "hub.log").start()
    try:
        wait_online(BrokerSection(port=broker.port), "demo-ward", "hub", alive=hub.check_alive)
        kiosk = make_client("kiosk-burst", outbox=True, retry_first=1.0)
        assert kiosk.wait_connected(5)
        replies: dict[str, list[Message]] = {}
        lock = threading.Lock()

        def keep(msg: Message, _: str) -> None:
            with lock:
                replies.setdefault(msg.corr or "", []).append(msg)

        kiosk.on_reply(keep)
        sent = []
        for i in range(1000):
            sent.append(kiosk.send_durable(kiosk.topics.ticket_request, "ticket.request",
                                           {"service": "HT" if i % 3 else "CT"}))
            if i == 400:
                wait_until(lambda: len(replies) >= 150, timeout=30, what="the hub to be mid-burst")
                hub.kill()
                with lock:
                    acknowledged = {corr: msgs[0].body["ticket"] for corr, msgs in replies.items()}
        assert 150 <= len(acknowledged) < 1000
        hub.start()
        assert kiosk.outbox is not None
        wait_until(lambda: kiosk.outbox.size() == 0, timeout=120, what="the outbox to drain after restart")
        wait_until(lambda: len(replies) == 1000, timeout=30, what="a reply for every request")
    finally:
        hub.stop()

    for corr, msgs in replies.items():  # a request answered twice was answered the same way
        assert {m.body["ticket"]["label"] for m in msgs} == {msgs[0].body["ticket"]["label"]}, corr
    labels = [replies[m.corr][0].body["ticket"]["label"] for m in sent]
    assert len(set(labels)) == 1000, "a number was issued twice"
    db = sqlite3.connect(tmp_path / "hub" / "hub.db")
    rows = {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, label, day FROM tickets")}
    assert len(rows) == 1000
    for corr, ticket in acknowledged.items():
        assert rows[ticket["id"]] == (ticket["label"], ticket["day"]), f"acknowledged ticket {corr} lost"
    assert db.execute("SELECT COUNT(*) FROM (SELECT 1 FROM tickets GROUP BY day, issued_service, number "
                      "HAVING COUNT(*) > 1)").fetchone()[0] == 0
