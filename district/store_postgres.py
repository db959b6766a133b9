# The collector's PostgreSQL store: one database shared by collectors on many machines, for a province or more.
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from district.errors import StoreError
from district.store import Key, Record, Store, upsert_sql


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
        """One statement marks the whole batch seen and returns the keys that were new; their records then go in
        one pipelined executemany per table. A key twice in one batch counts as new once."""
        if not items:
            return []
        marks = ", ".join(["(%s, %s, %s, %s, %s)"] * len(items))
        params = [v for key, _ in items for v in (*key, now)]
        new = {(r["ward"], r["device"], r["boot"], r["seq"]) for r in self.conn.execute(
            f"INSERT INTO seen(ward, device, boot, seq, at) VALUES {marks} ON CONFLICT DO NOTHING "
            "RETURNING ward, device, boot, seq", params)}
        fresh, by_sql = [], {}
        for key, record in items:
            fresh.append(key in new)
            if key in new:
                new.discard(key)
                by_sql.setdefault(upsert_sql(record), []).append(tuple(record.__dict__.values()))
        with self.conn.cursor() as cur:
            for sql, rows in by_sql.items():
                cur.executemany(_pg(sql), rows)
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
