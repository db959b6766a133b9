# The collector's PostgreSQL store against a real server: shared by collectors, killed, restarted, same report.
from __future__ import annotations

import csv
import dataclasses
import threading
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from bus.errors import ConfigError
from bus.upstream import parse
from devkit.broker import Broker
from devkit.configs import write_district_config
from devkit.postgres import PostgresServer
from district.config import load_district
from district.errors import StoreError
from district.store_postgres import PostgresStore
from district.store_sqlite import SqliteStore
from hub.service import HubService
from provisioning.cli import cli
from tests.conftest import WARD, wait_until
from tests.test_upstream import StoreUnderTest, collector


def rating(i: int, version: int = 1) -> dict[str, object]:
    return {"day": "2026-11-23", "ticket_id": i + 1, "counter": 1 + i % 4, "service": "HT", "level": 1 + i % 3,
            "scale": 3, "version": version, "procedure": "1.001193", "officer": "An"}


@pytest.fixture
def hub(upstream_hub: HubService) -> HubService:
    return upstream_hub


def test_database_restart_loses_nothing(tmp_path: Path, hub: HubService, district_broker: Broker,
                                        postgres_server: PostgresServer, postgres_dsn: str,
                                        caplog: pytest.LogCaptureFixture) -> None:
    pg = StoreUnderTest(tmp_path, postgres_dsn)
    c = collector(tmp_path, district_broker, dsn=postgres_dsn)
    try:
        for i in range(100):
            hub.upstream.rating(rating(i))
        wait_until(lambda: pg.one("SELECT COUNT(*) FROM ratings") == 100, what="the first hundred")
        postgres_server.stop("immediate")  # the database server crashes
        for i in range(100, 200):
            hub.upstream.rating(rating(i))
        wait_until(lambda: hub.upstream.status()["backlog"] > 0, what="records waiting unacknowledged")
        wait_until(lambda: "the store cannot take writes" in caplog.text, what="the collector to say so")
        postgres_server.start()
        wait_until(lambda: hub.upstream.status()["backlog"] == 0, timeout=60, what="the rest after the restart")
    finally:
        c.stop()
    assert pg.one("SELECT COUNT(*), COUNT(DISTINCT ticket_id) FROM ratings") == (200, 200)
    assert "storing a record" not in caplog.text  # while the server was down: no record tried alone, in vain


def test_a_record_resent_to_two_collectors_at_once_is_stored_once(postgres_dsn: str) -> None:
    stores = [PostgresStore(postgres_dsn), PostgresStore(postgres_dsn)]
    record = parse("rating", {"ward": WARD, **rating(7)})
    first_inside, results = threading.Event(), {}

    def take(i: int, hold: threading.Event | None) -> None:
        with stores[i].transaction():
            results[i] = stores[i].is_new(WARD, "hub", "boot1", 42, 0.0)
            if results[i]:
                stores[i].upsert(record)
            if hold is not None:
                first_inside.set()
                hold.wait(5)  # keep the transaction open while the other collector tries

    release = threading.Event()
    a = threading.Thread(target=take, args=(0, release))
    a.start()
    first_inside.wait(5)
    b = threading.Thread(target=take, args=(1, None))
    b.start()
    b.join(0.5)
    assert b.is_alive()  # the second waits on the first's uncommitted seen-mark
    release.set()
    a.join(5)
    b.join(5)
    assert results == {0: True, 1: False}
    assert StoreUnderTest(Path(), postgres_dsn).one("SELECT COUNT(*) FROM ratings") == 1
    for store in stores:
        store.close()


def test_report_from_postgres_equals_report_from_sqlite(tmp_path: Path, postgres_dsn: str) -> None:
    from tests.test_district_report import WARDS, fill

    fill(tmp_path / "sqlite" / "district" / "district.db")
    fill_postgres = PostgresStore(postgres_dsn)
    lite = SqliteStore(tmp_path / "sqlite" / "district" / "district.db")
    for table in ("day_stats", "ratings"):
        for row in lite.query(f"SELECT * FROM {table}"):
            fill_postgres.execute(f"INSERT INTO {table}({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                  tuple(row.values()))
    lite.close()
    fill_postgres.close()
    outputs = {}
    for name, config in (("sqlite", write_district_config(tmp_path / "sqlite", 1883, list(WARDS))),
                         ("postgres", write_district_config(tmp_path / "pg", 1883, list(WARDS), dsn=postgres_dsn))):
        result = CliRunner().invoke(cli, ["district", "report", "--config", str(config), "--from", "2026-11-22",
                                          "--to", "2026-11-23", "--out", str(tmp_path / f"out-{name}")])
        assert result.exit_code == 0, result.output
        outputs[name] = [list(csv.reader((tmp_path / f"out-{name}" / f).read_text(encoding="utf-8-sig").splitlines()))
                         for f in ("wards.csv", "procedures.csv")]
        outputs[name].append((tmp_path / f"out-{name}" / "report.html").read_text(encoding="utf-8"))
    assert outputs["postgres"] == outputs["sqlite"] and len(outputs["sqlite"][0]) == 3
    assert "Tổng cộng · Total" in outputs["postgres"][2]  # every ward together, the same on either store


def test_store_mistakes_are_clear(tmp_path: Path, postgres_server: PostgresServer) -> None:
    path = write_district_config(tmp_path, 1883, [WARD])
    path.write_text(path.read_text(encoding="utf-8") + 'store = "postgres"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="district.dsn: store = \"postgres\" needs a connection string"):
        load_district(str(path))
    with pytest.raises(StoreError, match=r"cannot connect to PostgreSQL \(.*dbname=nowhere") as err:
        PostgresStore(f"postgresql://motcua:secret@127.0.0.1:{postgres_server.port}/nowhere")
    assert "secret" not in str(err.value)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_batch_stores_each_message_once(tmp_path: Path, postgres_dsn: str, backend: str) -> None:
    store = PostgresStore(postgres_dsn) if backend == "postgres" else SqliteStore(tmp_path / "d.db")
    records = [parse("rating", {"ward": WARD, **rating(i)}) for i in range(3)]
    with store.transaction():
        assert store.store_new([((WARD, "hub", "b", 1), records[0])], 0.0) == [True]
    newer = parse("rating", {"ward": WARD, **rating(1, version=2)})
    items = [((WARD, "hub", "b", 2), records[1]), ((WARD, "hub", "b", 1), records[0]),
             ((WARD, "hub", "b", 2), records[1]), ((WARD, "hub", "b", 3), newer), ((WARD, "hub", "b", 4), records[2])]
    with store.transaction():
        assert store.store_new(items, 0.0) == [True, False, False, True, True]
    rows = sorted((r["ticket_id"], r["version"]) for r in store.query("SELECT ticket_id, version FROM ratings"))
    assert rows == [(1, 1), (2, 2), (3, 1)]
    day = {"ward": WARD, "day": "2026-11-23", "service": "HT", "version": 1, "issued": 9, "served": 8, "no_shows": 1,
           "transfers": 0, "within_target": 7}
    items = [((WARD, "hub", "b", 6), parse("rating", {"ward": WARD, **rating(5, version=3)})),  # newest first
             ((WARD, "hub", "b", 7), parse("rating", {"ward": WARD, **rating(5, version=2)})),
             ((WARD, "hub", "b", 8), parse("day_stats", day))]
    with store.transaction():
        assert store.store_new(items, 0.0) == [True, True, True]
    assert [r["version"] for r in store.query("SELECT version FROM ratings WHERE ticket_id = ?", (6,))] == [3]
    assert [(r["issued"], r["served"]) for r in store.query("SELECT issued, served FROM day_stats")] == [(9, 8)]
    assert list(store.query("SELECT * FROM day_stats")) == [dataclasses.asdict(items[2][1])]  # every column as sent
    officer = parse("rating", {"ward": WARD, **rating(2**62), "officer": "Cán bộ Nguyễn Thị Hằng", "visits": 2})
    with store.transaction():
        assert store.store_new([((WARD, "hub", "b", 9), officer)], 0.0) == [True]
    assert list(store.query("SELECT * FROM ratings WHERE ticket_id = ?", (2**62 + 1,))) == [dataclasses.asdict(officer)]
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_database_from_an_earlier_version_gains_the_new_columns(tmp_path: Path, postgres_dsn: str,
                                                                  backend: str) -> None:
    old = "CREATE TABLE ratings (ward TEXT, day TEXT, ticket_id BIGINT, counter INTEGER, service TEXT, " \
          "procedure TEXT, officer TEXT, level INTEGER, scale INTEGER, version INTEGER, " \
          "PRIMARY KEY (ward, ticket_id, counter))"
    if backend == "postgres":
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(old)
            conn.execute("INSERT INTO ratings VALUES ('w', '2026-11-01', 1, 1, 'HT', '', '', 1, 3, 1)")
        store = PostgresStore(postgres_dsn)
    else:
        import sqlite3

        with sqlite3.connect(tmp_path / "old.db") as db:
            db.execute(old)
            db.execute("INSERT INTO ratings VALUES ('w', '2026-11-01', 1, 1, 'HT', '', '', 1, 3, 1)")
        store = SqliteStore(tmp_path / "old.db")
    assert "visits" in store.columns("ratings")
    with store.transaction():
        store.upsert(parse("rating", {"ward": WARD, **rating(4), "visits": 2}))
    assert sorted((r["ticket_id"], r["visits"]) for r in store.query("SELECT ticket_id, visits FROM ratings")) == \
        [(1, None), (5, 2)]
    store.close()
