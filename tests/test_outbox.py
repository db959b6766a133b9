# The durable outbox on a real SQLite file: survives reopening, backs off, leaves only on ack.
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bus import messages
from bus.outbox import Outbox
from devkit.chaos_kiosk import SmallDisk
from tests.conftest import wait_until


def test_entries_survive_reopen_and_leave_only_on_ack(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    box.add("b.1", "t/x", b"one", now=100.0)
    box.add("b.2", "t/x", b"two", now=101.0)
    box.add("b.1", "t/x", b"dup", now=102.0)  # the same corr is stored once
    box.close()
    box = Outbox(tmp_path / "o.db")
    assert [e.payload for e in box.due(now=200.0)] == [b"one", b"two"]
    assert box.ack("b.1") and not box.ack("b.1")
    assert box.size() == 1 and box.oldest() == 101.0


def test_resend_backs_off_exponentially_and_reconnect_makes_all_due(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", first_retry=2.0, max_retry=10.0)
    box.add("b.1", "t", b"x", now=0.0)
    tries = []
    now = 0.0
    for _ in range(5):
        box.sent("b.1", now=now)
        nxt = min(t for t in range(0, 100) if box.due(now=t))
        tries.append(nxt - now)
        now = nxt
    assert tries == [2, 4, 8, 10, 10]
    box.sent("b.1", now=now)
    assert not box.due(now=now + 9)
    box.make_all_due()
    assert box.due(now=now)


def disk_full(box: Outbox) -> None:
    """No write may grow the outbox's file any more, as on a full SD card (SQLite's own limit on its pages)."""
    pages = box._db.execute("PRAGMA page_count").fetchone()[0]
    box._db.execute(f"PRAGMA max_page_count = {pages}")


def test_a_full_disk_holds_entries_in_memory_sends_them_and_stores_them_when_there_is_room(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", first_retry=1.0)
    disk_full(box)
    for i in range(40):  # far more than the file's last page holds
        box.add(f"b.{i}", "t", b"x" * 500, now=100.0 + i)
    assert box.held > 0 and box.size() == 40
    assert len(box.due(now=200.0, limit=100)) == 40  # sent like the rest
    box.sent_many([f"b.{i}" for i in range(40)], now=200.0)
    assert box.due(now=200.5) == [] and len(box.due(now=201.5, limit=100)) == 40  # and resent with backoff
    assert box.ack("b.39") and box.size() == 39  # an answer takes a held entry away too
    box._db.execute("PRAGMA max_page_count = 1073741823")  # space freed
    assert box.store_held() == 0 and box.held == 0
    box.close()
    again = Outbox(tmp_path / "o.db")
    assert again.size() == 39 and again.oldest() == 100.0  # in the file now: a restart keeps them
    again.close()


def test_on_a_really_full_disk_answers_and_sends_go_on_and_reach_the_file_when_there_is_room(tmp_path: Path) -> None:
    """A full tmpfs refuses more than new rows: even recording a send attempt or deleting an answered entry needs
    room in the write-ahead log."""
    disk = SmallDisk(tmp_path / "disk", 4)
    if not disk.mounted:
        pytest.skip("a small disk to fill needs root (mount -t tmpfs)")
    try:
        box = Outbox(disk.folder / "o.db")
        for i in range(50):
            box.add(f"a.{i}", "t", b"x" * 300, now=100.0 + i)
        with disk.filled():
            assert box.sent_many(["a.0", "a.1"], now=200.0) is False  # not recorded, and no error for the sender
            assert [e.corr for e in box.due(now=200.0, limit=2)] == ["a.0", "a.1"]  # due again at once
            assert box.ack("a.0") and not box.ack("a.0") and box.ack_many(["a.1", "a.2", "a.0"]) == 2
            assert box.size() == 47 and box.oldest() == 103.0
            assert [e.corr for e in box.due(now=200.0, limit=2)] == ["a.3", "a.4"]  # the answered never again
            box.make_all_due()  # a reconnect while full
            box.add("b.0", "t", b"y" * 300, now=300.0)
            assert box.held == 1 and box.size() == 48
            stop, connected, published = threading.Event(), threading.Event(), []
            connected.set()
            pump = threading.Thread(target=box.pump, args=(lambda entries: published.append({e.corr for e in entries}),
                                                           connected, stop, threading.Event(), "test"))
            pump.start()
            wait_until(lambda: published, what="a round of the pump")
        wait_until(lambda: box.held == 0, timeout=5, what="the held entry written as soon as there is room")
        stop.set()
        pump.join(5)
        assert published == [{f"a.{i}" for i in range(3, 50)} | {"b.0"}]  # not the answered; the held too; and
        assert box.size() == 48  # none again at once: their attempts were not recorded, so they wait max_retry
        assert box.store_held() == 0  # the answered deleted from the file too
        box.close()
        again = Outbox(disk.folder / "o.db")
        assert again.size() == 48 and {"a.0", "a.1", "a.2"}.isdisjoint(e.corr for e in again.due(limit=100))
        again.close()
    finally:
        disk.close()


def test_the_pump_hands_over_nothing_when_nothing_is_due(tmp_path: Path) -> None:
    """A round with nothing due called `publish` with an empty batch (and a transaction for it); the full-disk test
    above saw that extra round when the disk freed between its first round and its end."""
    box = Outbox(tmp_path / "o.db")
    stop, connected, wake, published = threading.Event(), threading.Event(), threading.Event(), []
    connected.set()
    wake.set()
    pump = threading.Thread(target=box.pump, args=(published.append, connected, stop, wake, "test"))
    pump.start()
    wait_until(lambda: not wake.is_set(), what="a round of the pump")
    box.add("a.0", "t", b"x", now=100.0)
    wake.set()
    wait_until(lambda: published, what="the entry sent")
    stop.set()
    pump.join(5)
    box.close()
    assert [[e.corr for e in batch] for batch in published] == [["a.0"]]


def offline_ticket() -> messages.Message:
    return messages.make("ticket.offline", "kiosk-1", "b7b7", 1, {
        "service": "HT", "number": 8001, "label": "A8001", "day": "2026-11-23",
        "issued_at": "2026-11-23T18:20:00+07:00"}, corr="b7.1")


def test_an_entry_made_in_this_boot_is_sent_saying_its_age_by_the_time_since_boot(tmp_path: Path) -> None:
    """A receiver reads when a message was made by its own clock (a Pi's wall clock may be a day out after a
    power cut); the time since boot is right, but only within the boot it was made in."""
    up = [1000.0]
    msg = offline_ticket()
    box = Outbox(tmp_path / "o.db", uptime=lambda: up[0], boot="boot-a")
    box.add("b7.1", "t", msg.encode(), now=100.0, aged=True)
    box.close()
    up[0] = 1754.25
    box = Outbox(tmp_path / "o.db", uptime=lambda: up[0], boot="boot-a")  # the kiosk restarted in the same boot
    [entry] = box.due(now=200.0)
    sent = messages.decode(entry.aged(up[0]))
    assert sent.age == 754.25 and (sent.key, sent.body, sent.ts) == (msg.key, msg.body, msg.ts)
    assert messages.decode(messages.aged(entry.aged(up[0]), 5.0)).age == 754.25  # said once
    box.close()
    box = Outbox(tmp_path / "o.db", uptime=lambda: 12.0, boot="boot-b")  # the Pi rebooted: its age is unknown
    [entry] = box.due(now=200.0)
    assert entry.aged(12.0) == msg.encode()
    box.close()


def test_an_outbox_of_an_earlier_release_opens_and_sends_what_it_holds(tmp_path: Path) -> None:
    import sqlite3

    old = sqlite3.connect(tmp_path / "o.db")
    old.execute("CREATE TABLE outbox (corr TEXT PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, "
                "created REAL NOT NULL, next_try REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0)")
    stored = offline_ticket().encode()
    old.execute("INSERT INTO outbox VALUES ('b7.1', 't', ?, 100.0, 0, 3)", (stored,))
    old.commit()
    old.close()
    box = Outbox(tmp_path / "o.db", uptime=lambda: 50.0, boot="boot-a")
    box.add("b7.2", "t", stored, now=101.0, aged=True)
    box.add("b7.3", "t", stored, now=102.0)  # a type that does not say its age
    first, second, third = box.due(now=200.0)
    assert first.attempts == 3 and first.aged(60.0) == stored
    assert messages.decode(second.aged(60.0)).age == 10.0 and third.aged(60.0) == stored
