# The chaos run: a short ward day with one fault of each kind keeps every invariant; the checks do catch breakage.
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from devkit.chaos import ChaosOptions, run_chaos
from devkit.chaos_day import arrivals_per_hour
from devkit.chaos_faults import KINDS, schedule
from devkit.chaos_report import Observations, check
from devkit.simulate import Tally
from district.store_sqlite import SqliteStore
from hub.store import open_db


def test_a_short_day_with_every_kind_of_fault_keeps_every_invariant(tmp_path: Path) -> None:
    opts = ChaosOptions(seed=7, hours=3, speed=600, faults=len(KINDS), workdir=tmp_path / "ward")
    observed = run_chaos(opts)
    rows = check(observed)
    broken = [f"{r['invariant']}: {r['value']}" for r in rows if r["ok"] is False]
    assert not broken, broken
    assert sorted(f.kind for f, _, _ in observed.faults) == sorted(KINDS)  # every fault really happened
    assert sum(ok for tries in observed.attempts.values() for _, ok, _ in tries) > 100 and observed.flooded > 0
    assert any(offline for _, offline in observed.printed) and observed.printer_refusals > 0  # both paths taken
    assert all(calls > 0 for calls, _ in observed.officers.values()) and len(observed.officers) == 2  # at the console
    assert observed.subscribed and {t["kind"] for t in observed.texts} == {"near", "called"}  # texts went out
    assert observed.kiosk_disk_was_full or os.geteuid() != 0  # a tmpfs filled to the last byte (as root)
    assert observed.units["presses"] > 0 and observed.units["answers"] > 0  # the C keypad rated through the bridge
    assert observed.gpio["presses"] > 0 and observed.kiosk_starts == 3  # GPIO keypad; the kiosk: power cut, file
    with sqlite3.connect(observed.hub_db) as db:  # every counter of the day worked
        assert db.execute("SELECT COUNT(DISTINCT counter) FROM events WHERE kind='called'").fetchone()[0] == 10
        (began, ended, offset), = observed.clock_jumps  # and the hub really lived an hour off for a while
        assert db.execute("SELECT COUNT(*) FROM events WHERE at BETWEEN ? AND ?",
                          (began + offset, ended + offset)).fetchone()[0] > 0


def test_the_schedule_is_the_seeds_and_the_day_has_its_peaks() -> None:
    assert schedule(3, 10, 8) == schedule(3, 10, 8) != schedule(4, 10, 8)
    assert {f.kind for f in schedule(3, 10, len(KINDS))} == set(KINDS)
    assert arrivals_per_hour(2.0, 1100) > 3 * arrivals_per_hour(4.5, 1100) < arrivals_per_hour(6.5, 1100)
    day = sum(arrivals_per_hour(h / 100, 1100) for h in range(1000)) / 100
    assert 1000 < day < 1200


def test_the_checks_find_a_number_issued_twice_and_a_rating_nobody_was_called_for(tmp_path: Path) -> None:
    hub = open_db(tmp_path / "hub.db")
    hub.execute("DROP INDEX idx_tickets_day_issued_service_number")  # as a broken hub would have let happen
    for ticket_id in (1, 2):
        hub.execute("INSERT INTO tickets(id, day, issued_service, number, label, service, status, issued_at, "
                    "queue_at) VALUES (?, '2026-12-02', 'HT', 1, 'A001', 'HT', 'done', 0, 0)", (ticket_id,))
    hub.execute("INSERT INTO ratings(ticket_id, counter, day, level, scale, version) "
                "VALUES (1, 3, '2026-12-02', 1, 3, 1)")
    hub.close()
    SqliteStore(tmp_path / "district.db").close()
    tally = Tally()
    tally.ticket("c1", "2026-12-02 A001")
    tally.ticket("c2", "2026-12-02 B007")  # given to a kiosk, never stored
    attempts = {"k": [(0.0, True, True), (1.0, False, False)]}
    observed = Observations(tmp_path / "hub.db", tmp_path / "district.db", tally, attempts, [], [],
                            {"hub": True, "broker": False}, 0, [("2026-12-02 C009", True)], 2)
    broken = {r["invariant"] for r in check(observed) if r["ok"] is False}
    assert broken == {"no number issued twice in a day", "every ticket a kiosk was given is in the hub, once",
                      "every rating stored once, tied to a ticket served at its counter",
                      "ratings at the district equal the ward's", "tickets issued per day at the district equal "
                      "the ward's", "no service down for good",
                      "memory and open files of every process flat over the day",
                      "every ticket the real kiosk printed is in the hub, once",
                      "the real kiosk's outbox delivered everything"}
    assert sqlite3.connect(tmp_path / "hub.db").execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 2


def test_memory_that_grows_with_the_day_breaks_the_invariant_a_sign_ins_moment_does_not(tmp_path: Path) -> None:
    open_db(tmp_path / "hub.db").close()
    SqliteStore(tmp_path / "district.db").close()

    def memory_row(grows: float, spike_at: int) -> dict[str, object]:
        samples = [(float(t), "console", 7, 42.0 + grows * t + (19.0 if t == spike_at else 0.0), 14)
                   for t in range(100)]  # a sample a second; the spike: a password hashed as an officer signs in
        observed = Observations(tmp_path / "hub.db", tmp_path / "district.db", Tally(), {}, [], samples,
                                {"console": True}, 0, [], 0)
        row, = (r for r in check(observed) if r["invariant"].startswith("memory of every process"))
        return row

    assert memory_row(0.0, spike_at=90)["ok"] is True  # after a power cut, officers sign in again late in the day
    assert memory_row(0.4, spike_at=-1)["ok"] is False  # 40 MB more by the end of the day: a leak
    assert memory_row(0.4, spike_at=10)["ok"] is False


def test_a_text_nobody_asked_for_breaks_the_invariant_one_typed_as_the_power_went_does_not(tmp_path: Path) -> None:
    open_db(tmp_path / "hub.db").close()
    SqliteStore(tmp_path / "district.db").close()

    def text(label: str, phone: str, kind: str = "near") -> dict[str, object]:
        return {"id": 1, "phone": phone, "kind": kind, "text": "", "fields": {"ticket": label}}

    def texts_row(texts: list[dict[str, object]]) -> dict[str, object]:
        observed = Observations(tmp_path / "hub.db", tmp_path / "district.db", Tally(), {}, [], [], {}, 0,
                                subscribed=["A001"], texts=texts, phones_in_the_dark=["0912345678"])
        row, = (r for r in check(observed) if r["invariant"].startswith("texts to phones"))
        return row

    assert texts_row([text("A001", "0987654321"), text("A002", "0912345678"),
                      text("A002", "0912345678", "called")])["ok"] is True  # A002: kept as the screen went dark
    assert texts_row([text("A001", "0987654321"), text("A003", "0900000000")])["ok"] is False  # nobody left it
    assert texts_row([text("A001", "0987654321"), text("A001", "0987654321")])["ok"] is False  # twice
