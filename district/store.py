# The collector's store: what the collector and the report need from a database, and the choice of backend.
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from bus.upstream import DayStatsRecord, RatingRecord
from district.config import DistrictSection

Record = RatingRecord | DayStatsRecord
Key = tuple[str, str, str, int]  # (ward, device, boot, seq) of the message that carried a record

# Table shapes shared by the backends: (table, columns with SQL types, primary key).
TABLES: tuple[tuple[str, dict[str, str], tuple[str, ...]], ...] = (
    ("seen", {"ward": "TEXT", "device": "TEXT", "boot": "TEXT", "seq": "BIGINT", "at": "DOUBLE PRECISION"},
     ("ward", "device", "boot", "seq")),
    ("ratings", {"ward": "TEXT", "day": "TEXT", "ticket_id": "BIGINT", "counter": "INTEGER", "service": "TEXT",
                 "procedure": "TEXT", "officer": "TEXT", "level": "INTEGER", "scale": "INTEGER",
                 "version": "INTEGER", "visits": "INTEGER"}, ("ward", "ticket_id", "counter")),
    ("day_stats", {"ward": "TEXT", "day": "TEXT", "service": "TEXT", "version": "INTEGER", "issued": "INTEGER",
                   "served": "INTEGER", "no_shows": "INTEGER", "transfers": "INTEGER", "within_target": "INTEGER",
                   "wait_p50_min": "DOUBLE PRECISION", "wait_p90_min": "DOUBLE PRECISION", "level_1": "INTEGER",
                   "level_2": "INTEGER", "level_3": "INTEGER", "level_4": "INTEGER", "level_5": "INTEGER",
                   "visits_recorded": "INTEGER", "first_visits": "INTEGER"},
     ("ward", "day", "service")),
    ("rejects", {"at": "DOUBLE PRECISION", "ward": "TEXT", "device": "TEXT", "reason": "TEXT"}, ()),
)


class Store:
    """A backend keeps the tables in TABLES and implements these methods. Statements use `?` placeholders; a
    backend whose driver wants another style translates them. Every write happens inside `transaction()`."""

    KEYED_TABLE_SUFFIX = ""  # what a backend adds to CREATE TABLE for a table with a primary key

    def transaction(self) -> AbstractContextManager[None]:
        """Commits when the block ends, rolls back if it raises. Writes of concurrent collectors on the same
        database serialise on the seen-mark, so a record resent to two collectors is stored once."""
        raise NotImplementedError

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Runs one statement; returns the number of rows it changed."""
        raise NotImplementedError

    def unavailable(self, exc: BaseException) -> bool:
        """Whether `exc` says the store cannot take writes now (a full disk, a server gone), whatever the records."""
        return False

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[dict[str, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def columns(self, table: str) -> set[str]:
        """The columns a table has now (to upgrade a database an earlier version made)."""
        raise NotImplementedError

    # -- the collector's operations, in terms of the above -----------------------------------------------------
    def create_tables(self) -> None:
        for table, columns, key in TABLES:
            cols = ", ".join(f"{name} {kind}" for name, kind in columns.items())
            pk = f", PRIMARY KEY ({', '.join(key)})" if key else ""
            suffix = self.KEYED_TABLE_SUFFIX if key else ""
            self.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols}{pk}){suffix}")
            for name in columns.keys() - self.columns(table):  # added by a later version: nothing is dropped
                self.execute(f"ALTER TABLE {table} ADD COLUMN {name} {columns[name]}")

    def is_new(self, ward: str, device: str, boot: str, seq: int, now: float) -> bool:
        """Marks the message as seen; False if it was seen before (a resend after a lost ack)."""
        return self.execute("INSERT INTO seen(ward, device, boot, seq, at) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
                            (ward, device, boot, seq, now)) == 1

    def upsert(self, record: Record) -> None:
        """Stores a record unless a newer version of it is already stored: corrections replace, never add."""
        self.execute(upsert_sql(type(record)), tuple(record.__dict__.values()))

    def store_new(self, items: list[tuple[Key, Record]], now: float) -> list[bool]:
        """Stores each record whose message key was not seen before; says, per item, whether it was new. A
        backend may override this to do a whole batch in fewer round trips."""
        fresh = []
        for key, record in items:
            fresh.append(self.is_new(*key, now))
            if fresh[-1]:
                self.upsert(record)
        return fresh

    def reject(self, now: float, ward: str, device: str, reason: str) -> None:
        self.execute("INSERT INTO rejects(at, ward, device, reason) VALUES (?,?,?,?)", (now, ward, device, reason))


def table_of(kind: type) -> tuple[str, tuple[str, ...]]:
    """The table a record class is stored in, and that table's primary key."""
    table = "ratings" if kind is RatingRecord else "day_stats"
    return table, next(key for name, _, key in TABLES if name == table)


@functools.cache
def upsert_sql(kind: type) -> str:
    """The statement storing a record of class `kind` (its fields in order) unless a newer version is stored."""
    names = [f.name for f in dataclasses.fields(kind)]
    table, key = table_of(kind)
    updates = ", ".join(f"{c}=excluded.{c}" for c in names if c not in key)
    return (f"INSERT INTO {table}({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
            f"ON CONFLICT({', '.join(key)}) DO UPDATE SET {updates} WHERE excluded.version > {table}.version")


def open_store(section: DistrictSection, data_dir: str | Path, read_only: bool = False) -> Store:
    """The store the config names: a SQLite file under `data_dir`, or a PostgreSQL server."""
    if section.store == "postgres":
        from district.store_postgres import PostgresStore

        return PostgresStore(section.dsn, read_only=read_only)
    from district.store_sqlite import SqliteStore

    return SqliteStore(Path(data_dir) / section.database, read_only=read_only)
