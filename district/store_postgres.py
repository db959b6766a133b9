# The collector's PostgreSQL store: one database shared by collectors on many machines, for a province or more.
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row

from district.errors import StoreError
from district.store import TABLES, Key, Record, Store, table_of


class PostgresStore(Store):
    """One connection per collector process, in explicit transactions. Two collectors that get the same resent
    record both insert its seen-mark; the second waits for the first to commit and then finds the conflict, so the
    record is stored once (READ COMMITTED is enough for that)."""

    def __init__(self, dsn: str, read_only: bool = False) -> None:
        self.dsn, self.read_only = dsn, read_only
        self.conn = self._connect()
        if not read_only:
            self.create_tables()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self.dsn, autocommit=True, row_factory=dict_row, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to PostgreSQL ({_safe(self.dsn)}): {str(exc).strip()}") from None
        if self.read_only:
            conn.execute("SET default_transaction_read_only = on")
        return conn

    def unavailable(self, exc: BaseException) -> bool:
        # the server gone, refusing (its disk full among them) or not taking a new connection (StoreError)
        return isinstance(exc, psycopg.OperationalError | StoreError)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.conn.broken or self.conn.closed:  # the server restarted or the network dropped: connect again
            self.conn.close()
            self.conn = self._connect()
        with self.conn.transaction():
            yield

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        return self.conn.execute(_pg(sql), params).rowcount

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> Iterator[dict[str, Any]]:
        yield from self.conn.execute(_pg(sql), params)

    def store_new(self, items: list[tuple[Key, Record]], now: float) -> list[bool]:
        """A whole batch in one statement per table, each taking its rows as one array per column (`unnest`):
        mark every key seen, returning the new ones, then upsert the new records. A key twice in one batch counts
        as new once; of two versions of one record in a batch only the newer is written, as one by one would. The
        arrays go in binary (`%b`): psycopg writes them in C, where the text form quoted each value in Python, at
        about 15 µs of CPU a record (docs/performance.md)."""
        if not items:
            return []
        with self.conn.cursor(row_factory=tuple_row) as cur:
            columns = [list(c) for c in zip(*(key for key, _ in items), strict=True)]
            new = set(cur.execute(_SEEN_SQL, (now, *columns)))
            fresh, newest = [], {}
            for key, record in items:
                fresh.append(key in new)
                if key in new:
                    new.discard(key)
                    table, names, pk = _shape(type(record))
                    ident = (table, *(getattr(record, c) for c in pk))
                    if ident not in newest or record.version > newest[ident].version:
                        newest[ident] = record
            by_table: dict[type, list[Record]] = {}
            for record in newest.values():
                by_table.setdefault(type(record), []).append(record)
            for kind, records in by_table.items():
                _, names, _ = _shape(kind)
                cur.execute(_upsert_sql(kind), [[getattr(r, c) for r in records] for c in names])
        return fresh

    def columns(self, table: str) -> set[str]:
        return {r["column_name"] for r in self.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND table_schema = "
            "current_schema()", (table,))}

    def close(self) -> None:
        self.conn.close()


def _pg(sql: str) -> str:
    """Our statements use `?` and no literal question marks or percent signs; psycopg wants `%s`."""
    return sql.replace("?", "%s")


def _safe(dsn: str) -> str:
    """The DSN without its password, for error messages and logs."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "an unreadable dsn"
    parts.pop("password", None)
    return make_conninfo(**{k: v for k, v in parts.items() if v is not None})


_SEEN_SQL = ("INSERT INTO seen(ward, device, boot, seq, at) SELECT w, d, b, s, %s FROM unnest(%b::text[], %b::text[], "
             "%b::text[], %b::bigint[]) AS u(w, d, b, s) ON CONFLICT DO NOTHING RETURNING ward, device, boot, seq")


@functools.cache
def _shape(kind: type) -> tuple[str, list[str], tuple[str, ...]]:
    """A record class's table, its columns in field order, and the table's primary key."""
    table, pk = table_of(kind)
    return table, [f.name for f in dataclasses.fields(kind)], pk


@functools.cache
def _upsert_sql(kind: type) -> str:
    """INSERT ... SELECT FROM unnest(one typed array per column), replacing a stored record only by a newer
    version (the same rule as district.store.upsert_sql, for a batch)."""
    table, names, pk = _shape(kind)
    types = next(columns for name, columns, _ in TABLES if name == table)
    arrays = ", ".join(f"%b::{types[c].lower()}[]" for c in names)
    updates = ", ".join(f"{c}=excluded.{c}" for c in names if c not in pk)
    return (f"INSERT INTO {table}({', '.join(names)}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT({', '.join(pk)}) DO UPDATE SET {updates} WHERE excluded.version > {table}.version")
