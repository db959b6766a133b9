# One atomic change to a SQLite file (BEGIN IMMEDIATE ... COMMIT, or a savepoint); which of its errors the disk made.
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


def storage_error(exc: BaseException) -> bool:
    """Errors that come from the disk or the file (full, read-only, I/O, damaged, locked), not from our own SQL."""
    return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One atomic state change on a connection in autocommit mode (`durable_connection`): BEGIN IMMEDIATE (the
    write lock taken at once, so it never fails half-way for want of it) ... COMMIT, rolled back on any exception.
    Inside a transaction already open (the hub's group commit) it is a savepoint, so a failure undoes only its own
    change."""
    if db.in_transaction:
        db.execute("SAVEPOINT change")
        try:
            yield
        except BaseException:
            if db.in_transaction:  # SQLite itself rolls everything back on some errors (disk full, I/O)
                db.execute("ROLLBACK TO change")
                db.execute("RELEASE change")
            raise
        db.execute("RELEASE change")
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # also when COMMIT itself failed (disk full): never leave it open
            db.execute("ROLLBACK")
        raise
