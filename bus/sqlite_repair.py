# A damaged SQLite file (an SD card after a power cut) is found on open, set aside, and its readable rows kept.
from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bus.messages import iso_ts

log = logging.getLogger(__name__)

DAMAGE_CODES = ("SQLITE_CORRUPT", "SQLITE_NOTADB")  # the error names that mean the file itself is damaged
BATCH = 512
MAX_JUMP = 1 << 24  # how far past unreadable rows the salvage looks for readable ones

RESTORED = ".restored"  # beside a database `motcua restore` put back: the note its service's first start reads
Connect = Callable[[Path], sqlite3.Connection]
Schema = Callable[[sqlite3.Connection], None]


@dataclass
class Repair:
    """What opening a damaged file did. `moved_to` holds the damaged original (None when a REINDEX was enough);
    `kept` counts rows copied per table; `unreadable` counts the stretches of rows (or whole tables) that could not
    be read - zero means nothing was lost."""

    path: Path
    problem: str
    moved_to: Path | None = None
    kept: dict[str, int] = field(default_factory=dict)
    unreadable: int = 0
    at: float = field(default_factory=time.time)

    def summary(self) -> dict[str, Any]:
        return {"file": str(self.path), "problem": self.problem, "at": iso_ts(self.at),
                "damaged_copy": str(self.moved_to) if self.moved_to else None,
                "rows_kept": sum(self.kept.values()), "unreadable": self.unreadable}


def leave_restored_note(path: str | Path, backup: str, made: Any) -> None:
    """Beside database `path`, just put back by `motcua restore`: which backup it came from and when that was made."""
    Path(f"{path}{RESTORED}").write_text(json.dumps({"backup": backup, "made": made}), encoding="utf-8")


def forget_restored_note(path: str | Path) -> None:
    """Once its service has acted on it (the hub's numbering has jumped)."""
    Path(f"{path}{RESTORED}").unlink(missing_ok=True)


def restored_note(path: str | Path) -> dict[str, Any] | None:
    """The note `motcua restore` left beside database `path` (the backup's name and when it was made), or None. The
    file is older than what its service had written before: what came after the backup is not in it."""
    note = Path(f"{path}{RESTORED}")
    try:
        found = json.loads(note.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return {"backup": f"unreadable note {note.name} ({exc})"}
    return found if isinstance(found, dict) else {"backup": f"unreadable note {note.name}"}


def damaged_copies(folder: Path) -> list[str]:
    """The damaged files earlier repairs set aside in `folder` (their -wal and -shm companions not counted)."""
    try:
        names = [p.name for p in folder.glob("*.damaged-*")]
    except OSError:
        return []
    return sorted(n for n in names if not n.endswith(("-wal", "-shm")))


def is_damage(exc: sqlite3.Error) -> bool:
    """True for errors that say the file is damaged; not for a locked, missing or unwritable one."""
    name = getattr(exc, "sqlite_errorname", "")
    return name in DAMAGE_CODES or "malformed" in str(exc) or "not a database" in str(exc)


def problem(conn: sqlite3.Connection) -> str | None:
    """What `PRAGMA quick_check` finds wrong with an open database, or None when it is sound."""
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise
        return str(exc)
    found = [" ".join(row[0].replace("*** in database main ***", "").split()) for row in rows if row[0] != "ok"]
    if not found:
        return None
    more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
    return "; ".join(found[:3]) + more


def durable_connection(path: Path) -> sqlite3.Connection:
    """A connection for files that must survive kill -9 and power cuts: WAL, synchronous=FULL, autocommit unless a
    transaction is begun, usable from any thread (callers serialise their own use)."""
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


def open_checked(path: str | Path, schema: Schema,
                 connect: Connect = durable_connection) -> tuple[sqlite3.Connection, Repair | None]:
    """Opens `path` with `connect`, checks it and applies `schema`. A damaged file is moved aside as
    `<name>.damaged-<time>` and every readable row is copied into a fresh file with the same schema (indexes are
    rebuilt, so damage confined to an index loses nothing). Errors that are not damage (locked, unwritable,
    missing folder) are raised."""
    path = Path(path)
    conn = None
    try:
        conn = connect(path)
        trouble = problem(conn)
        if trouble is None:
            schema(conn)
            return conn, None
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        if not is_damage(exc):
            raise
        trouble = str(exc)
    else:
        conn.close()
    return salvage(path, trouble, connect, schema)


def salvage(path: Path, trouble: str, connect: Connect, schema: Schema) -> tuple[sqlite3.Connection, Repair]:
    """Moves the damaged file (and its WAL) aside and copies what can still be read into a new one."""
    repair = Repair(path, trouble, moved_to=_aside(path))
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.rename(f"{repair.moved_to}{suffix}")
    conn = connect(path)
    schema(conn)
    old = sqlite3.connect(str(repair.moved_to))
    try:
        _add_their_tables(old, conn)
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                             "AND name NOT LIKE 'sqlite_%'")]
        conn.execute("BEGIN")
        for table in tables:
            repair.kept[table] = _copy(old, conn, table, repair)
    except sqlite3.DatabaseError as exc:  # its list of tables is unreadable too: what was copied is kept
        repair.unreadable += 1
        log.debug("salvage of %s stopped: %s", repair.moved_to, exc)
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
        old.close()
    log.error("%s was damaged (%s): moved to %s; kept %d rows, %d unreadable stretches lost", path, trouble,
              repair.moved_to, sum(repair.kept.values()), repair.unreadable)
    return conn, repair


def _aside(path: Path) -> Path:
    """A free name for the damaged file next to it: `<name>.damaged-<local time>`, numbered if taken."""
    base = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def _add_their_tables(old: sqlite3.Connection, new: sqlite3.Connection) -> None:
    """Tables (and their indexes) the damaged file had and the schema does not create, such as those a service
    adds as it runs, are created from the damaged file's own definitions when those can still be read."""
    ours = {r[0] for r in new.execute("SELECT name FROM sqlite_master")}
    theirs = old.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE "
                         "'sqlite_%' ORDER BY type = 'index'").fetchall()
    for kind, name, table, sql in theirs:
        if name not in ours and kind in ("table", "index") and (kind == "table" or table not in ours):
            new.execute(sql)


def _copy(old: sqlite3.Connection, new: sqlite3.Connection, table: str, repair: Repair) -> int:
    """Copies `table`'s readable rows (the columns both files have, rowids kept) in rowid order, reading one row at a
    time near damage and jumping past rows that cannot be read."""
    try:
        theirs = {r[1] for r in old.execute(f'PRAGMA table_info("{table}")')}
    except sqlite3.DatabaseError:
        repair.unreadable += 1
        return 0
    columns = [r[1] for r in new.execute(f'PRAGMA table_info("{table}")') if r[1] in theirs]
    if not columns:
        return 0
    names = ", ".join(f'"{c}"' for c in columns)
    read = f'SELECT rowid, {names} FROM "{table}" WHERE rowid > ? ORDER BY rowid LIMIT ?'
    write = f'INSERT OR IGNORE INTO "{table}"(rowid, {names}) VALUES ({", ".join("?" * (len(columns) + 1))})'
    kept, after, limit = 0, -(1 << 63), BATCH
    while True:
        try:
            rows = old.execute(read, (after, limit)).fetchall()
        except sqlite3.DatabaseError:
            if limit > 1:  # read up to the damage one row at a time, then jump past it
                limit = 1
                continue
            repair.unreadable += 1
            after = _past_damage(old, table, after)
            if after is None:
                return kept
            limit = BATCH
            continue
        if not rows:
            return kept
        kept += new.executemany(write, rows).rowcount
        after = rows[-1][0]


def _past_damage(old: sqlite3.Connection, table: str, after: int) -> int | None:
    """The smallest jump past `after` from which rows can be read again; None when there is nothing readable left."""
    jump = 1
    while jump <= MAX_JUMP:
        try:
            rows = old.execute(f'SELECT rowid FROM "{table}" WHERE rowid > ? ORDER BY rowid LIMIT 1',
                               (after + jump,)).fetchall()
        except sqlite3.DatabaseError:
            jump *= 2
            continue
        return after + jump if rows else None
    return None
