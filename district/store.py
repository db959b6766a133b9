# The collector's SQLite store: records seen (for dedup), ratings and day statistics by version, rejections.
from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from bus.upstream import DayStatsRecord, RatingRecord


def open_store(path: str | Path) -> Database:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = Database(sqlite3.connect(str(path), isolation_level=None, check_same_thread=False))
    db.enable_wal()
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=10000")  # collectors on one machine may share the file
    db["seen"].create({"ward": str, "device": str, "boot": str, "seq": int, "at": float},
                      pk=("ward", "device", "boot", "seq"), if_not_exists=True)
    db["ratings"].create({"ward": str, "day": str, "ticket_id": int, "counter": int, "service": str,
                          "procedure": str, "officer": str, "level": int, "scale": int, "version": int},
                         pk=("ward", "ticket_id", "counter"), if_not_exists=True)
    db["day_stats"].create({"ward": str, "day": str, "service": str, "version": int, "issued": int, "served": int,
                            "no_shows": int, "transfers": int, "within_target": int, "wait_p50_min": float,
                            "wait_p90_min": float, "level_1": int, "level_2": int, "level_3": int, "level_4": int,
                            "level_5": int}, pk=("ward", "day", "service"), if_not_exists=True)
    db["rejects"].create({"at": float, "ward": str, "device": str, "reason": str}, if_not_exists=True)
    return db


def is_new(db: Database, ward: str, device: str, boot: str, seq: int, now: float) -> bool:
    """Records the message as seen; False if it was seen before (a resend after a lost ack)."""
    cur = db.execute("INSERT OR IGNORE INTO seen(ward, device, boot, seq, at) VALUES (?,?,?,?,?)",
                     (ward, device, boot, seq, now))
    return cur.rowcount == 1


def upsert(db: Database, record: RatingRecord | DayStatsRecord) -> None:
    """Stores a record unless a newer version of it is already stored: corrections replace, never add."""
    values = record.__dict__
    table, key = ("ratings", ("ward", "ticket_id", "counter")) if isinstance(record, RatingRecord) else \
        ("day_stats", ("ward", "day", "service"))
    cols = ", ".join(values)
    marks = ", ".join("?" * len(values))
    updates = ", ".join(f"{c}=excluded.{c}" for c in values if c not in key)
    db.execute(f"INSERT INTO {table}({cols}) VALUES ({marks}) ON CONFLICT({', '.join(key)}) DO UPDATE SET {updates} "
               f"WHERE excluded.version > {table}.version", tuple(values.values()))
