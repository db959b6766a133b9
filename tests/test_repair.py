# Damaged SQLite files (an SD card after a power cut) and a full disk: real files with real damage, a real hub.
from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from bus.client import BusClient
from bus.config import BrokerSection
from bus.errors import OutboxError
from bus.health import problems
from bus.outbox import Outbox
from devkit.broker import Broker
from devkit.chaos_kiosk import SmallDisk
from devkit.configs import write_hub_config
from devkit.damage import damage, pages_of
from hub.config import load_hub
from hub.database_health import DatabaseHealth
from hub.queue import Queue
from hub.service import HubService
from hub.store import open_repaired
from kiosk.offline import OfflineNumbers
from provisioning.fleet import wait_online
from tests.conftest import WARD


def full_outbox(path: Path) -> Path:
    """A closed outbox file holding 3,000 waiting messages of 200 bytes."""
    box = Outbox(path)
    for i in range(3000):
        box.add(f"b1.{i}", "w/ratings", b"x" * 200, now=1000.0 + i)
    box.close()
    return path


def test_an_outbox_with_damaged_pages_keeps_what_can_be_read_and_goes_on(tmp_path: Path) -> None:
    path = full_outbox(tmp_path / "kiosk-outbox.db")
    middle = pages_of(path) // 2
    damage(path, [middle, middle + 1])
    box = Outbox(path)
    assert box.repair is not None and box.repair.unreadable >= 1
    kept = box.size()
    assert 2500 < kept < 3000, kept  # two pages held a few dozen messages; everything else is still there
    assert Path(f"{box.repair.moved_to}").exists()  # the damaged original is kept for a closer look
    box.add("b2.1", "w/ratings", b"new", now=9000.0)
    assert box.size() == kept + 1
    box.close()
    client = BusClient(BrokerSection(port=1), WARD, "kiosk-1", "kiosk", outbox_path=path)  # not started
    detail = client.state_body("online")["detail"]
    assert "repaired" not in detail  # sound this time: nothing repaired by this process...
    assert detail["damaged_copies"]["files"] == [box.repair.moved_to.name]  # ...but the damaged copy is still there
    client.outbox.close()  # type: ignore[union-attr]


def test_damage_confined_to_an_index_loses_nothing(tmp_path: Path) -> None:
    path = full_outbox(tmp_path / "kiosk-outbox.db")
    with sqlite3.connect(path) as db:
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name='outbox_next_try'").fetchone()[0]
    db.close()
    damage(path, [root])  # the root page of the next_try index
    box = Outbox(path)
    assert box.repair is not None and box.repair.unreadable == 0, box.repair
    assert box.size() == 3000 and len(box.due(now=99999.0, limit=5000)) == 3000
    box.close()


def test_a_damaged_device_file_shows_in_its_state_and_in_fleet_status(tmp_path: Path) -> None:
    path = tmp_path / "rating-outbox.db"
    Outbox(path).close()
    path.write_bytes(b"this is not a database " * 400)
    client = BusClient(BrokerSection(port=1), WARD, "rating-1", "rating", outbox_path=path)  # not started
    detail = client.state_body("online")["detail"]
    [repaired] = detail["repaired"]
    assert repaired["file"] == str(path) and "not a database" in repaired["problem"]
    found = problems("rating", "online", detail)
    assert any("repaired a damaged" in p and "damaged copy kept as" in p for p in found), found
    client.outbox.close()  # type: ignore[union-attr]


def test_a_second_repair_in_the_same_second_keeps_both_damaged_copies(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    copies = []
    for garbage in (b"first card failure " * 300, b"second card failure " * 300):
        path.write_bytes(garbage)
        box = Outbox(path)
        assert box.repair is not None and box.repair.moved_to is not None
        copies.append(box.repair.moved_to)
        box.close()
    assert copies[0] != copies[1] and [c.read_bytes()[:6] for c in copies] == [b"first ", b"second"]


def test_a_file_that_cannot_be_opened_is_reported_not_moved(tmp_path: Path) -> None:
    folder = tmp_path / "outbox.db"
    folder.mkdir()  # a directory where the file should be: not damage, so nothing may be moved or replaced
    with pytest.raises(OutboxError, match="outbox.db: cannot open outbox"):
        Outbox(folder)
    assert folder.is_dir() and [p.name for p in tmp_path.iterdir()] == ["outbox.db"]


def test_a_hub_database_damaged_in_the_middle_keeps_its_readable_tickets(tmp_path: Path) -> None:
    _, section = load_hub(str(write_hub_config(tmp_path, 1883)))
    path = tmp_path / "hub.db"
    db, _ = open_repaired(path)
    queue = Queue(db, section, clock=lambda: 1_764_000_000.0)
    queue.handle(("c", "b", 0), "open", counter=1)
    for i in range(1, 400):
        queue.handle(("k", "b", i), "issue", service="HT")
        if i % 4:  # every fourth citizen still waits
            queue.handle(("c", "b", i), "call_next", counter=1)
            queue.handle(("c", "b", 1000 + i), "done", counter=1)
    rows = sum(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("tickets", "events"))
    db.close()
    damage(path, [pages_of(path) // 2])
    db, repair = open_repaired(path)
    assert repair is not None and repair.unreadable >= 1
    tickets = db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    events = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert tickets + events > 0.9 * rows and db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    waiting = db.execute("SELECT day, service, COUNT(*) FROM tickets WHERE status='issued' GROUP BY 1, 2").fetchall()
    assert waiting and db.execute("SELECT * FROM line_counts WHERE waiting > 0").fetchall() == waiting  # recounted
    queue = Queue(db, section, clock=lambda: 1_764_000_100.0)
    assert queue.handle(("k", "b", 9999), "issue", service="HT").reply_type == "ticket.issued"
    db.close()


def test_a_hub_whose_database_is_unreadable_starts_fresh_and_never_reuses_a_number(tmp_path: Path,
                                                                                  broker: Broker) -> None:
    config, section = load_hub(str(write_hub_config(tmp_path, broker.port)))
    first = HubService(config, section)
    labels = [first.queue.handle(("k", "b", i), "issue", service="HT").reply["ticket"]["label"] for i in range(3)]
    first.db.close()
    assert labels == ["A001", "A002", "A003"]
    path = config.data_dir / section.database
    original = path.read_bytes()
    path.write_bytes(b"\0" * 100 + original[100:])  # the header is gone: SQLite cannot read any of it
    hub = HubService(config, section)
    hub.start()
    try:
        wait_online(BrokerSection(port=broker.port), WARD, config.device.id, timeout=10)
        kiosk = BusClient(BrokerSection(port=broker.port), WARD, "kiosk-1", "kiosk")
        kiosk.start()
        kiosk.wait_connected(5)
        reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
        kiosk.stop()
        assert reply is not None and reply.body["ticket"]["label"] == "A101"  # A001-A003 may be in citizens' hands
        detail = hub.bus.state_body("online")["detail"]
        assert detail["repaired"][0]["unreadable"] >= 1
        assert any("repaired a damaged" in p for p in problems("hub", "online", detail))
        copies = [p for p in path.parent.glob(f"{path.name}.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
        assert [p.read_bytes()[100:] for p in copies] == [original[100:]]  # the damaged file is kept as it was
    finally:
        hub.stop()
    later = HubService(config, section)  # restarted since: the repair is history, the damaged copy still there
    detail = later.bus.state_body("online")["detail"]
    later.db.close()
    assert "repaired" not in detail and detail["damaged_copies"]["files"] == [copies[0].name]
    assert any("1 damaged database copy kept in" in p for p in problems("hub", "online", detail))


def test_the_hub_reports_failing_writes_and_recovers_when_the_disk_has_room(hub: HubService, make_client) -> None:
    kiosk = make_client("kiosk-1")
    kiosk.wait_connected(5)

    def issue() -> bool:
        reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=1.5)
        return reply is not None and reply.type == "ticket.issued"

    assert issue()
    pages = hub.db.execute("PRAGMA page_count").fetchone()[0]
    hub.db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full: no write may grow the file
    for _ in range(100):
        if not issue():
            break
    else:
        pytest.fail("a hundred tickets fitted in a full database")
    detail = hub.bus.state_body("online")["detail"]
    assert "full" in detail["database"]["failing"], detail["database"]
    assert any("database writes failing" in p for p in problems("hub", "online", detail))
    hub.db.execute("PRAGMA max_page_count = 1073741823")  # room again
    assert issue()
    detail = hub.bus.state_body("online")["detail"]
    assert "failing" not in detail["database"] and detail["database"]["free_mb"] > 0
    assert not [p for p in problems("hub", "online", detail) if "writes failing" in p or "nearly full" in p]
    nearly_full = {**detail, "database": {"free_mb": 150}}
    assert "data disk nearly full: 150 MB free" in problems("hub", "online", nearly_full)


def test_a_really_full_disk_under_the_hub_costs_answers_never_tickets(tmp_path: Path, broker: Broker,
                                                                       make_client) -> None:
    """The hub's data disk a tmpfs filled to the last byte (the WAL cannot grow either, so even a COMMIT fails, which
    SQLite's page limit above never makes happen): no answer without its ticket stored, the worker alive, and
    tickets again once there is room."""
    disk = SmallDisk(tmp_path / "ward" / "hub", 8)
    if not disk.mounted:
        pytest.skip("a small disk to fill needs root (mount -t tmpfs)")
    hub = None
    try:
        config, section = load_hub(str(write_hub_config(tmp_path / "ward", broker.port)))
        hub = HubService(config, section)
        hub.start()
        wait_online(BrokerSection(port=broker.port), WARD, config.device.id, timeout=10)
        kiosk = make_client("kiosk-1")
        kiosk.wait_connected(5)

        def issue() -> str | None:
            reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=1.5)
            return reply.body["ticket"]["label"] if reply is not None and reply.type == "ticket.issued" else None

        answered = [issue() for _ in range(3)]
        with disk.filled():
            while_full: list[str | None] = []
            while while_full.count(None) < 2:  # the WAL's last free frames may take a few first
                while_full.append(issue())
                assert len(while_full) < 30, "thirty tickets written on a full disk"
            assert hub.health() is None  # the worker and the bus alive: the watchdog may go on being kicked
            assert "full" in hub.bus.state_body("online")["detail"]["database"]["failing"]
        answered += while_full + [issue() for _ in range(3)]
        assert all(answered[-3:]), answered  # room again: tickets again
        labels = [label for (label,) in hub.db.execute("SELECT label FROM tickets ORDER BY id")]
        assert labels == [a for a in answered if a is not None]  # every answer stored, once; nothing else
    finally:
        if hub is not None:
            hub.stop()
        disk.close()


def test_a_write_over_a_second_shows_in_fleet_status_and_the_log(hub: HubService, make_client, caplog) -> None:
    kiosk = make_client("kiosk-1")
    kiosk.wait_connected(5)

    def issue() -> bool:
        reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
        return reply is not None and reply.type == "ticket.issued"

    assert issue() and issue()  # the second in a later turn of the worker: its first turn's housekeeping is done
    assert hub.bus.state_body("online")["detail"]["database"]["slowest_commit_ms"] > 0  # timed
    just_under = {"database": {"free_mb": 500, "slowest_commit_ms": 999.9}}
    assert not [p for p in problems("hub", "online", just_under) if "disk" in p]
    # A stalled disk, as a worn SD card stalls: another writer holds the file, and the hub's next batch waits
    outside = sqlite3.connect(str(hub.database.path), isolation_level=None, check_same_thread=False)
    outside.execute("BEGIN IMMEDIATE")
    stalled = threading.Timer(1.3, outside.execute, ("COMMIT",))
    stalled.start()
    with caplog.at_level(logging.WARNING, logger="hub.database_health"):
        assert issue()
        stalled.join()
        outside.close()
        assert issue()  # a fast write after it: the slowest of the hour is still the slow one
    detail = hub.bus.state_body("online")["detail"]
    assert detail["database"]["slowest_commit_ms"] >= 1000, detail["database"]
    assert [p for p in problems("hub", "online", detail) if p.startswith("data disk slow: a write took 1.")]
    assert [p for p in problems("hub", "online", detail, lang="vi") if p.startswith("thẻ nhớ ghi chậm")]
    assert len([r for r in caplog.records if "writing to the database took" in r.getMessage()]) == 1


def test_the_slowest_write_is_kept_for_an_hour_and_then_forgotten(tmp_path: Path) -> None:
    now = [1000.0]
    health = DatabaseHealth(tmp_path / "hub.db", clock=lambda: now[0])
    assert "slowest_commit_ms" not in health.status()  # no write yet
    health.note(1.5)
    health.note(0.002)
    now[0] += 3000
    assert health.status()["slowest_commit_ms"] == 1500
    now[0] += 1000  # a new hour has begun: the last one's slowest still shows
    health.note(0.003)
    assert health.status()["slowest_commit_ms"] == 1500
    now[0] += 3600  # two hours on: only the last hour's writes
    assert health.status()["slowest_commit_ms"] == 3
    now[0] += 7200  # nothing written for two hours: nothing to say
    assert "slowest_commit_ms" not in health.status()


def test_kiosk_offline_numbers_skip_ahead_after_a_repair_that_lost_rows(tmp_path: Path) -> None:
    from bus.numbering import LocalDay

    days = LocalDay("Asia/Ho_Chi_Minh", "2025-01-01")
    path = tmp_path / "kiosk.db"
    numbers = OfflineNumbers(path, 1, days)
    assert [numbers.next("HT", 1_764_000_000.0)[1] for _ in range(3)] == [8000, 8001, 8002]
    numbers.close()
    path.write_bytes(b"garbage" * 1000)
    numbers.mirror.write_bytes(b"garbage")  # its mirror too: nothing says what was printed
    numbers = OfflineNumbers(path, 1, days)
    assert numbers.repair is not None and numbers.repair.unreadable
    assert numbers.next("HT", 1_764_000_000.0)[1] == 8020  # 8000-8002 may already be printed
    assert numbers.next("HT", 1_764_000_000.0)[1] == 8021
    numbers.close()


def test_kiosk_offline_numbers_lost_with_their_file_come_back_from_the_mirror(tmp_path: Path) -> None:
    """A busy outage printed more offline numbers than the repair's jump covers: the mirror file (written beside
    the database for each number) says where numbering stood, so none is printed twice."""
    from bus.numbering import LocalDay

    days = LocalDay("Asia/Ho_Chi_Minh", "2025-01-01")
    path = tmp_path / "kiosk.db"
    numbers = OfflineNumbers(path, 1, days)
    printed = [numbers.next("HT", 1_764_000_000.0)[1] for _ in range(30)] + [numbers.next("CT", 1_764_000_000.0)[1]]
    numbers.close()
    path.write_bytes(b"garbage" * 1000)
    numbers = OfflineNumbers(path, 1, days)
    assert numbers.repair is not None and numbers.repair.unreadable
    assert numbers.next("HT", 1_764_000_000.0)[1] == 8030 and numbers.next("CT", 1_764_000_000.0)[1] == 8001
    assert printed[-2] == 8029
    numbers.close()
