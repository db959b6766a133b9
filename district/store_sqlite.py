# The collector's SQLite store: one file, enough for a district; collectors on one machine may share it.
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from bus.transaction import storage_error, transaction
from district.errors import StoreError
from district.store import Key, Record, Store, upsert_sql

CHUNK = 1000  # rows per INSERT: 5,000 parameters, well inside SQLite's limit
RETURNING = sqlite3.sqlite_version_info >= (3, 35)  # Debian 12 and Raspberry Pi OS 12 have 3.40


class SqliteStore(Store):
    """WAL and synchronous=FULL: a committed record survives a power cut. BEGIN IMMEDIATE takes the write lock at
    the start of a batch, so two collectors sharing the file wait for each other instead of failing mid-batch."""

    KEYED_TABLE_SUFFIX = " WITHOUT ROWID"  # the rows live in the key's own B-tree: one tree to write, not two

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only:
            if not self.path.exists():
                raise StoreError(f"no collector database at {self.path}")
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA busy_timeout=10000")
            self.create_tables()

    def transaction(self) -> AbstractContextManager[None]:
        return transaction(self.db)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return self.db.execute(sql, params).rowcount

    def unavailable(self, exc: BaseException) -> bool:
        return storage_error(exc)  # full, read-only, I/O, damaged, locked past busy_timeout

    def store_new(self, items: list[tuple[Key, Record]], now: float) -> list[bool]:
        """A batch in a few statements: the seen-marks as multi-row INSERTs that return the keys they added (a key
        twice in the batch is added once, so only its first item is new), then each new record's upsert, in order
        (of two versions of one record, the newer stays)."""
        if not RETURNING:
            return super().store_new(items, now)
        added: set[Key] = set()
        for start in range(0, len(items), CHUNK):
            chunk = items[start:start + CHUNK]
            sql = ("INSERT INTO seen(ward, device, boot, seq, at) VALUES " + ",".join(["(?,?,?,?,?)"] * len(chunk))
                   + " ON CONFLICT DO NOTHING RETURNING ward, device, boot, seq")
            params = [value for key, _ in chunk for value in (*key, now)]
            added.update(tuple(row) for row in self.db.execute(sql, params))
        fresh, new = [], []
        for key, record in items:
            fresh.append(key in added)
            if fresh[-1]:
                added.discard(key)
                new.append(record)
        for kind in {type(record) for record in new}:
            self.db.executemany(upsert_sql(kind), [tuple(r.__dict__.values()) for r in new if type(r) is kind])
        return fresh

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[dict[str, Any]]:
        cur = self.db.execute(sql, params)
        names = [d[0] for d in cur.description]
        for row in cur:
            yield dict(zip(names, row, strict=True))

    def columns(self, table: str) -> set[str]:
        return {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}

    def close(self) -> None:
        self.db.close()
