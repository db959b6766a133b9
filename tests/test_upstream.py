# Upstream, with two real brokers (the ward's and the district's): outages, a killed collector, shared load, bad data.
from __future__ import annotations

import dataclasses
import sqlite3
import threading
from pathlib import Path

import pytest

from bus.client import BusClient
from bus.config import BrokerSection
from bus.errors import ContractError
from devkit.broker import Broker
from devkit.chaos_kiosk import SmallDisk
from devkit.configs import add_upstream, write_district_config, write_hub_config
from devkit.processes import RoleProcess
from district.collector import Collector
from district.config import load_district
from hub.config import load_hub
from hub.service import HubService
from provisioning.fleet import fleet_rows, wait_online
from tests.conftest import WARD, wait_until

RATING = {"ward": WARD, "day": "2026-11-23", "ticket_id": 1, "counter": 1, "service": "HT", "level": 1, "scale": 3,
          "version": 1}  # a valid rating record as a ward sends it upstream


@pytest.fixture
def hub(upstream_hub: HubService) -> HubService:
    return upstream_hub


def collector(tmp_path: Path, district_broker: Broker, name: str = "collector-1", dsn: str = "") -> Collector:
    config, section = load_district(str(write_district_config(tmp_path, district_broker.port, [WARD], name,
                                                              dsn=dsn)))
    c = Collector(config, section)
    c.start()
    assert c.bus.wait_connected(10)
    wait_online(BrokerSection(port=district_broker.port), "district", name, timeout=10)
    return c


def district_db(tmp_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "district" / "district.db")


class StoreUnderTest:
    """The collector's store for a test run on both backends: the dsn to configure ("" for SQLite) and a way to
    read a figure back."""

    def __init__(self, tmp_path: Path, dsn: str) -> None:
        self.tmp_path, self.dsn = tmp_path, dsn

    def one(self, sql: str) -> object:
        if self.dsn:
            import psycopg

            with psycopg.connect(self.dsn) as conn:
                row = conn.execute(sql).fetchone()
        else:
            path = self.tmp_path / "district" / "district.db"
            if not path.exists():
                return None
            with sqlite3.connect(path) as db:
                row = db.execute(sql).fetchone()
        return None if row is None else (row[0] if len(row) == 1 else tuple(row))


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreUnderTest:
    return StoreUnderTest(tmp_path, request.getfixturevalue("postgres_dsn") if request.param == "postgres" else "")


@pytest.fixture
def devices(make_client) -> tuple:  # noqa: ANN001
    """A kiosk, a counter keypad and a rating keypad: made once per test (one MQTT session per device id)."""
    kiosk, counter = make_client("kiosk-1"), make_client("counter-2", role="bridge", counters=(2,))
    rater = make_client("rating-2", role="rating", counters=(2,), outbox=True, retry_first=0.5)
    for c in (kiosk, counter, rater):
        assert c.wait_connected(5)
    return kiosk, counter, rater


def serve_and_rate(devices: tuple, n: int) -> None:
    kiosk, counter, rater = devices
    for i in range(n):
        assert kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT" if i % 2 else "CT"},
                             timeout=5) is not None
        counter_no = 2  # serves both HT and CT
        for action in ("call_next", "done"):
            assert counter.request(counter.topics.counter_command(counter_no), "counter.command",
                                   {"action": action, "counter": counter_no}, timeout=5) is not None
        reply = rater.request(rater.topics.rating, "rating.submit", {"counter": counter_no, "level": 1 + i % 3,
                                                                       "scale": 3, "visits": 1 + i % 2},
                              timeout=5, durable=True)
        assert reply is not None and reply.type == "rating.recorded", reply


def test_a_backlog_the_hubs_state_said_is_said_gone_as_soon_as_it_is(
        tmp_path: Path, hub: HubService, district_broker: Broker, devices: tuple, make_client,  # noqa: ANN001
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A record in flight as the hub stated itself showed as "1 records not yet acknowledged upstream" on the fleet
    page until the next state (caught in the demo's fleet table): the hub states itself again once it is answered."""
    from hub import service

    monkeypatch.setattr(service, "STATE_INTERVAL", 600.0)  # no refresh in the test's time: only the answer says it
    watch = make_client("watch", role="cli")
    states: list = []
    watch.subscribe(watch.topics.device_state("hub"), lambda m, _: states.append(m.body["detail"]["upstream"]))
    assert watch.wait_connected(5)
    serve_and_rate(devices, 1)  # a rating's record goes upstream, where no collector answers yet
    wait_until(lambda: hub.upstream.status()["backlog"] >= 1, what="the record waiting upstream")
    hub.bus.publish_state()
    wait_until(lambda: states and states[-1]["backlog"] >= 1, what="a state saying it waits")
    c = collector(tmp_path, district_broker)
    try:
        wait_until(lambda: states[-1]["backlog"] == 0, what="a state saying nothing waits upstream")
    finally:
        c.stop()


def test_upstream_down_for_a_day_then_every_record_arrives_and_totals_match(
        tmp_path: Path, hub: HubService, district_broker: Broker, devices: tuple) -> None:
    district_broker.stop()  # the province's broker is unreachable all day
    serve_and_rate(devices, 12)
    hub.request_day_stats()
    wait_until(lambda: hub.upstream.status()["backlog"] >= 14, timeout=30,
               what=f"12 ratings and 2 day records queued (status now: {hub.upstream.status()})")
    assert hub.upstream.status()["backlog"] == 14, hub.upstream.status()
    assert not hub.upstream.status()["connected"]
    district_broker.start()
    c = collector(tmp_path, district_broker)
    try:
        # the outbox drops a record before the upstream's listener notes the acknowledgement's time
        wait_until(lambda: hub.upstream.status()["backlog"] == 0 and hub.upstream.status()["last_ack"] is not None,
                   timeout=60, what="the backlog to drain and the last acknowledgement noted")
    finally:
        c.stop()
    db = district_db(tmp_path)
    ward_ratings = sorted(hub.db.execute("SELECT ticket_id, counter, level, version, visits FROM ratings").fetchall())
    assert sorted(db.execute("SELECT ticket_id, counter, level, version, visits FROM ratings").fetchall()) == \
        ward_ratings
    ward_totals = dict(hub.db.execute("SELECT issued_service, COUNT(*) FROM tickets GROUP BY issued_service"))
    assert dict(db.execute("SELECT service, issued FROM day_stats")) == ward_totals
    assert db.execute("SELECT SUM(level_1 + level_2 + level_3) FROM day_stats").fetchone()[0] == 12
    assert db.execute("SELECT SUM(visits_recorded), SUM(first_visits) FROM day_stats").fetchone() == (12, 6)


def test_a_rating_stored_but_never_handed_to_the_outbox_is_sent_at_the_next_start(
        tmp_path: Path, broker: Broker, district_broker: Broker, devices: tuple) -> None:
    """The hub commits a rating, then hands its record to the upstream outbox (another file): a hub killed or
    refused in between (here the outbox held by another writer) sends it when it starts again, once."""
    config, section = load_hub(str(add_upstream(write_hub_config(tmp_path, broker.port), district_broker.port,
                                                retry_s=0.5, stats_interval_s=3600)))
    hub = HubService(config, section)
    hub.start()
    try:
        wait_online(BrokerSection(port=broker.port), WARD, "hub", timeout=10)
        kiosk, counter, rater = devices
        assert kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5) is not None
        for action in ("call_next", "done"):
            assert counter.request(counter.topics.counter_command(2), "counter.command",
                                   {"action": action, "counter": 2}, timeout=5) is not None
        outbox = sqlite3.connect(hub.config.data_dir / "upstream-outbox.db", isolation_level=None)
        outbox.execute("BEGIN EXCLUSIVE")  # nobody else can write it until this ends
        reply = rater.request(rater.topics.rating, "rating.submit", {"counter": 2, "level": 1, "scale": 3},
                              timeout=10)
        assert reply is not None and reply.type == "rating.recorded", reply  # stored and answered
        wait_until(lambda: hub.stats["unsent"] == 1, timeout=30, what="the record the outbox refused")
        outbox.execute("ROLLBACK")
        outbox.close()
        assert hub.db.execute("SELECT version, upstream FROM ratings").fetchall() == [(1, 0)]  # never handed over
    finally:
        hub.stop()
    again = HubService(config, section)
    again.start()
    c = collector(tmp_path, district_broker)
    try:
        wait_until(lambda: again.upstream.status()["backlog"] == 0 and district_db(tmp_path).execute(
            "SELECT COUNT(*) FROM ratings").fetchone()[0] == 1, timeout=30, what="the rating at the district")
        assert again.db.execute("SELECT version, upstream FROM ratings").fetchall() == [(1, 1)]
        assert again.upstream.send_unsent() == 0  # noted: not sent again at the start after
    finally:
        c.stop()
        again.stop()


def test_a_correction_replaces_the_days_record_never_adds(tmp_path: Path, hub: HubService, district_broker: Broker,
                                                          devices: tuple) -> None:
    c = collector(tmp_path, district_broker)
    try:
        serve_and_rate(devices, 2)
        hub.request_day_stats()
        wait_until(lambda: district_db(tmp_path).execute("SELECT COUNT(*) FROM day_stats").fetchone()[0] == 2,
                   what="first version")
        serve_and_rate(devices, 2)
        hub.request_day_stats()
        wait_until(lambda: district_db(tmp_path).execute("SELECT MIN(version) FROM day_stats").fetchone()[0] == 2,
                   what="the corrections")
    finally:
        c.stop()
    rows = district_db(tmp_path).execute("SELECT service, issued, version FROM day_stats ORDER BY service").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("CT", 2), ("HT", 2)]  # one row per service: replaced, not added
    assert all(r[2] >= 2 for r in rows)
    sent = dict(hub.db.execute("SELECT service, version FROM upstream_versions"))
    assert {r[0]: r[2] for r in rows} == sent  # the collector holds the latest version the hub sent


def test_collector_killed_mid_stream_stores_nothing_twice(tmp_path: Path, hub: HubService,
                                                          district_broker: Broker, store: StoreUnderTest) -> None:
    config = write_district_config(tmp_path, district_broker.port, [WARD], dsn=store.dsn)
    proc = RoleProcess("district", config, tmp_path / "collector.log", command=("district", "run")).start()
    sent = 600
    try:
        wait_online(BrokerSection(port=district_broker.port), "district", "collector-1", timeout=15,
                    alive=proc.check_alive)
        for i in range(sent):
            hub.upstream.rating({"day": "2026-11-23", "ticket_id": i + 1, "counter": 1, "service": "HT", "level": 1,
                                 "scale": 3, "version": 1, "procedure": "1.001193", "officer": "An"})
        wait_until(lambda: (store.one("SELECT COUNT(*) FROM seen") or 0) >= 50, timeout=30,
                   what="the collector to be mid-stream")
        proc.kill()
        proc.start()
        wait_until(lambda: hub.upstream.status()["backlog"] == 0, timeout=90, what="everything acknowledged")
    finally:
        proc.stop()
    assert store.one("SELECT COUNT(*) FROM seen") == sent
    assert store.one("SELECT COUNT(*), SUM(version) FROM ratings") == (sent, sent)


def test_two_collectors_share_the_load_without_loss_or_duplicates(tmp_path: Path, hub: HubService,
                                                                  district_broker: Broker,
                                                                  store: StoreUnderTest) -> None:
    """With PostgreSQL the two collectors stand for two machines sharing one database."""
    a = collector(tmp_path, district_broker, "collector-1", dsn=store.dsn)
    b = collector(tmp_path, district_broker, "collector-2", dsn=store.dsn)
    try:
        for i in range(400):
            hub.upstream.rating({"day": "2026-11-23", "ticket_id": i + 1, "counter": 1 + i % 4, "service": "HT",
                                 "level": 1 + i % 3, "scale": 3, "version": 1, "procedure": "", "officer": ""})
        wait_until(lambda: hub.upstream.status()["backlog"] == 0, timeout=60, what="all acknowledged")
    finally:
        a.stop()
        b.stop()
    assert a.counts["stored"] > 0 and b.counts["stored"] > 0, (a.counts, b.counts)
    assert a.counts["stored"] + b.counts["stored"] == 400
    assert store.one("SELECT COUNT(*), COUNT(DISTINCT ticket_id) FROM ratings") == (400, 400)


@pytest.mark.parametrize(("field", "value"), [("level", 9), ("officer", "Cán bộ \ud800"), ("ticket_id", 2**63)])
def test_a_record_the_collector_would_refuse_never_enters_the_hubs_outbox(hub: HubService, field: str,
                                                                           value: object) -> None:
    row = {"day": "2026-11-23", "ticket_id": 1, "counter": 1, "service": "HT", "level": 1, "scale": 3, "version": 1,
           "procedure": "", "officer": ""}
    with pytest.raises(ContractError) as refused:
        hub.upstream.rating({**row, field: value})
    assert refused.value.field == f"body.record.{field}"
    assert hub.upstream.status()["backlog"] == 0
    hub.upstream.rating(row)
    assert hub.upstream.status()["backlog"] == 1


def test_bad_records_are_refused_with_a_reason_counted_and_never_stored(tmp_path: Path,
                                                                       district_broker: Broker) -> None:
    c = collector(tmp_path, district_broker)
    cases = [("rogue-ward", {**RATING, "ward": "rogue-ward"}, "unknown ward 'rogue-ward'"),
             (WARD, {**RATING, "level": 9}, "body.record.level"),
             (WARD, {**RATING, "colour": "red"}, "a known option"),
             (WARD, {**RATING, "day": "2031-01-01"}, "in the future"),
             (WARD, {**RATING, "ward": "other-ward"}, "sent on ward")]
    clients = []
    try:
        for i, (ward, record, reason) in enumerate(cases):
            sender = BusClient(BrokerSection(port=district_broker.port), ward, f"hub-{i}", "hub")
            sender.start()
            clients.append(sender)
            assert sender.wait_connected(5)
            reply = sender.request(sender.topics.upstream_record, "upstream.record",
                                   {"kind": "rating", "record": record}, timeout=5)
            assert reply is not None and reply.body["stored"] is False and reason in reply.body["reason"], reply
    finally:
        for sender in clients:
            sender.stop()
        c.stop()
    db = district_db(tmp_path)
    assert c.counts["rejected"] == len(cases)
    assert db.execute("SELECT COUNT(*) FROM rejects").fetchone()[0] == len(cases)
    assert db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 0


def test_a_full_inbox_holds_a_thread_handing_records_in_until_the_locked_database_frees(
        tmp_path: Path, district_broker: Broker) -> None:
    """Another writer (a report, a second collector) holds the database: the worker waits on it with one record,
    the inbox fills to its limit, then a thread handing records in directly (as the fuzzers do) waits too; when the
    lock goes, every record is stored. (The worker's own network loop reads no more than a batch before storing it:
    the test below.)"""
    c = collector(tmp_path, district_broker)
    c.inbox_max, c.section = 2, dataclasses.replace(c.section, batch=1)
    sender = BusClient(BrokerSection(port=district_broker.port), WARD, "hub-1", "hub")
    payloads = [sender.message("upstream.record", {"kind": "rating", "record": {**RATING, "ticket_id": i}},
                               corr=f"{sender.boot}.{i}").encode() for i in range(1, 6)]
    lock = district_db(tmp_path)
    lock.execute("BEGIN IMMEDIATE")
    delivering = threading.Thread(target=lambda: [c.bus.deliver(sender.topics.upstream_record, p) for p in payloads])
    try:
        delivering.start()
        wait_until(lambda: c._inbox.qsize() == 2 and c.counts["stored"] == 0, what="the inbox full")
        delivering.join(0.3)
        assert delivering.is_alive()  # the fourth record waits for room
        lock.rollback()
        delivering.join(10)
        assert not delivering.is_alive()
        wait_until(lambda: c.counts["stored"] == 5, what="every record stored")
    finally:
        if lock.in_transaction:
            lock.rollback()
        c.stop()
    assert district_db(tmp_path).execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 5


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1, made with openssl."""
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (folder / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    for cmd in (
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=motcua test CA"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
         "-days", "2", "-extfile", ext],
    ):
        subprocess.run([str(c) for c in cmd], check=True, capture_output=True)
    return ca, cert, key


def test_the_worker_reads_no_more_than_a_batch_while_the_locked_database_holds_it(
        tmp_path: Path, district_broker: Broker) -> None:
    """The collector's worker runs its network loop: while it waits on a locked database it reads nothing, so the
    records a ward sends meanwhile stay with the broker, not in the collector's memory; when the lock goes, every
    one is stored once."""
    c = collector(tmp_path, district_broker)
    c.section = dataclasses.replace(c.section, batch=5)
    sender = BusClient(BrokerSection(port=district_broker.port), WARD, "hub-1", "hub")
    sender.start()
    assert sender.wait_connected(10)
    lock = district_db(tmp_path)
    lock.execute("BEGIN IMMEDIATE")
    try:
        for i in range(1, 41):
            msg = sender.message("upstream.record", {"kind": "rating", "record": {**RATING, "ticket_id": i}},
                                 corr=f"{sender.boot}.{i}")
            sender.publish(sender.topics.upstream_record, msg)
        threading.Event().wait(1.0)  # time enough to read all 40 (the network thread of old did, into memory)
        assert c._inbox.qsize() <= 5 and c.counts["stored"] == 0, c._inbox.qsize()
        lock.rollback()
        wait_until(lambda: c.counts["stored"] == 40, what="every record stored")
    finally:
        if lock.in_transaction:
            lock.rollback()
        sender.stop()
        c.stop()
    assert district_db(tmp_path).execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 40


def test_a_full_district_disk_loses_no_record_and_stores_each_once_when_there_is_room(
        tmp_path: Path, district_broker: Broker, caplog: pytest.LogCaptureFixture) -> None:
    """The collector's disk a tmpfs filled to the last byte: no record is acknowledged (so the ward's outbox keeps
    every one), the worker lives on, and once there is room every record is stored once."""
    disk = SmallDisk(tmp_path / "district", 8)
    if not disk.mounted:
        pytest.skip("a small disk to fill needs root (mount -t tmpfs)")
    c = None
    sender = BusClient(BrokerSection(port=district_broker.port), WARD, "hub-1", "hub",
                       outbox_path=tmp_path / "hub-outbox.db")
    try:
        c = collector(tmp_path, district_broker)
        sender.start()
        assert sender.wait_connected(10)
        assert sender.outbox is not None
        with disk.filled():
            for i in range(1, 21):
                sender.send_durable(sender.topics.upstream_record, "upstream.record",
                                    {"kind": "rating", "record": {**RATING, "ticket_id": i}})
            wait_until(lambda: "the store cannot take writes" in caplog.text, what="the collector to try")
            threading.Event().wait(1.0)  # a second more: still one line, and no record tried alone
            assert sender.outbox.size() == 20 and c.health() is None  # nothing acknowledged; the worker alive
            assert caplog.text.count("the store cannot take writes") == 1 and "failed" not in caplog.text
            said = {r["device"]: r["problems"] for r in fleet_rows(BrokerSection(port=district_broker.port),
                                                                    "district", settle_s=0.5)}["collector-1"]
            assert any(p.startswith("store cannot take writes since") and "full" in p for p in said), said
        sender.outbox.make_all_due()
        sender.wake_outbox()
        wait_until(lambda: sender.outbox.size() == 0, timeout=30, what="every record acknowledged")
        wait_until(lambda: {r["device"]: r["problems"] for r in fleet_rows(
            BrokerSection(port=district_broker.port), "district", settle_s=0.3)}["collector-1"] == [],
            what="fleet status to clear")
    finally:
        sender.stop()
        if c is not None:
            c.stop()
        rows = district_db(tmp_path).execute("SELECT ticket_id, COUNT(*) FROM ratings GROUP BY ticket_id").fetchall()
        disk.close()
    assert rows == [(i, 1) for i in range(1, 21)]


def test_upstream_over_tls_with_a_verified_certificate(tmp_path: Path, broker: Broker) -> None:
    ca, cert, key = make_certificates(tmp_path / "pki")
    upstream = Broker(tmp_path / "tls-broker", kind="mosquitto", tls=(ca, cert, key)).start()
    try:
        hub_toml = write_hub_config(tmp_path, broker.port)
        with open(hub_toml, "a", encoding="utf-8") as out:
            out.write(f'\n[upstream]\nhost = "127.0.0.1"\nport = {upstream.port}\ntls = true\nca_file = "{ca}"\n'
                      "retry_s = 0.5\nstats_interval_s = 3600\n")
        config, section = load_hub(str(hub_toml))
        hub = HubService(config, section)
        hub.start()
        sender = BusClient(BrokerSection(port=upstream.port, tls=True, ca_file=str(ca)), "district", "collector-1",
                           "district")
        seen: list = []
        sender.subscribe(f"motcua/v1/{WARD}/upstream/record", lambda m, t: seen.append(m))
        sender.start()
        try:
            assert sender.wait_connected(10), "no TLS connection to the upstream broker"
            wait_until(lambda: hub.upstream.status()["connected"], what="the hub's TLS link upstream")
            hub.upstream.rating({"day": "2026-11-23", "ticket_id": 1, "counter": 1, "service": "HT", "level": 1,
                                 "scale": 3, "version": 1, "procedure": "", "officer": ""})
            wait_until(lambda: seen, what="the record to cross the TLS link")
        finally:
            sender.stop()
            hub.stop()
        plain = BusClient(BrokerSection(port=upstream.port), "district", "plain-1", "district")
        plain.start()
        assert not plain.wait_connected(2), "the TLS listener must refuse a plain connection"
        plain.stop()
    finally:
        upstream.stop()


def test_a_collector_file_keeps_rows_in_their_keys_and_one_from_an_earlier_version_still_stores(
        tmp_path: Path) -> None:
    """A new file keeps each keyed table's rows in its key's own B-tree (one tree written a record, not two); a file an
    earlier version made (rowid tables, no visits column) gets its column and stores, once, as before."""
    from bus.upstream import parse
    from district.store_sqlite import SqliteStore

    new = SqliteStore(tmp_path / "new.db")
    shapes = dict(new.db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
    new.close()
    assert all(shapes[t].endswith("WITHOUT ROWID") for t in ("seen", "ratings", "day_stats")), shapes
    assert not shapes["rejects"].endswith("WITHOUT ROWID")  # no key of its own
    old = sqlite3.connect(tmp_path / "old.db")
    old.executescript("""
        CREATE TABLE seen (ward TEXT, device TEXT, boot TEXT, seq BIGINT, at DOUBLE PRECISION,
                           PRIMARY KEY (ward, device, boot, seq));
        CREATE TABLE ratings (ward TEXT, day TEXT, ticket_id BIGINT, counter INTEGER, service TEXT, procedure TEXT,
                              officer TEXT, level INTEGER, scale INTEGER, version INTEGER,
                              PRIMARY KEY (ward, ticket_id, counter));
        INSERT INTO seen VALUES ('w', 'hub', 'b', 1, 0);""")
    old.close()
    store = SqliteStore(tmp_path / "old.db")
    record = parse("rating", {**RATING, "visits": 2})
    with store.transaction():
        fresh = store.store_new([(("w", "hub", "b", 1), record), (("w", "hub", "b", 2), record)], 1.0)
    assert fresh == [False, True]
    assert list(store.query("SELECT visits FROM ratings")) == [{"visits": 2}]
    store.close()
