# The console's people: accounts with roles and counters, argon2id passwords, sign-in throttling and the audit log.
from __future__ import annotations

import functools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bus.sqlite_repair import open_checked
from console.errors import AccountError

ROLES = ("officer", "admin", "it")
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
MIN_PASSWORD = 10
FREE_FAILURES = 5  # wrong passwords in a row before each further try must wait
FAILURE_WINDOW_S = 900.0  # failures older than this are forgotten
MAX_WAIT_S = 300.0
# argon2id with OWASP's parameters for a small machine: 19 MiB of memory, two passes (a Pi signs in within 0.2 s)
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
HASHING_AT_ONCE = 2  # passwords hashed at the same time: a flood of sign-ins costs 2 × 19 MiB, not one per thread

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY, display TEXT NOT NULL, role TEXT NOT NULL, counters TEXT NOT NULL DEFAULT '[]',
    hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL, changed REAL NOT NULL);
CREATE TABLE IF NOT EXISTS failures (who TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS failures_who ON failures(who, at);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, account TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
    detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Account:
    name: str
    display: str
    role: str
    counters: tuple[int, ...]
    disabled: bool
    password_at: float = 0.0  # when the password was last set: a session signed in before it has ended

    def may_work(self, counter: int) -> bool:
        """Officers act on their own counters only; an admin may step in at any counter."""
        return self.role == "admin" or counter in self.counters


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in failed; `wait_s` > 0 when the account or address must wait before trying again."""

    reason: str
    wait_s: float = 0.0


class Accounts:
    """A SQLite file of its own (WAL, synchronous=FULL, repaired on open like every motcua file)."""

    def __init__(self, path: str | Path, clock: Any = time.time) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db, self.repair = open_checked(Path(path), lambda db: db.executescript(SCHEMA))
        with self._db:  # a file from before sessions ended with a password change: its passwords date from 0
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(accounts)")}
            if "password_at" not in columns:
                self._db.execute("ALTER TABLE accounts ADD COLUMN password_at REAL NOT NULL DEFAULT 0")
        self._lock = threading.Lock()
        self._hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)
        self.clock = clock

    # -- accounts ------------------------------------------------------------------------------------------
    def add(self, name: str, display: str, role: str, password: str, counters: tuple[int, ...] = (),
            by: str = "cli") -> Account:
        _check(name, display, role, password, counters)
        now = self.clock()
        with self._lock, self._db:
            if self._db.execute("SELECT 1 FROM accounts WHERE name=?", (name,)).fetchone():
                raise AccountError(f"account {name!r} exists; change it instead")
            self._db.execute("INSERT INTO accounts(name, display, role, counters, hash, created, changed, "
                             "password_at) VALUES (?,?,?,?,?,?,?,?)",
                             (name, display, role, json.dumps(list(counters)), HASHER.hash(password), now, now, now))
        self.record(by, "account.add", name, {"role": role, "counters": list(counters)})
        return self.get(name)  # type: ignore[return-value]

    def change(self, name: str, by: str, *, display: str | None = None, role: str | None = None,
               counters: tuple[int, ...] | None = None, password: str | None = None,
               disabled: bool | None = None) -> Account:
        old = self.get(name)
        if old is None:
            raise AccountError(f"no account {name!r}")
        new = (display if display is not None else old.display, role or old.role,
               counters if counters is not None else old.counters)
        _check(name, *new[:2], password if password is not None else "x" * MIN_PASSWORD, new[2])
        with self._lock, self._db:
            self._db.execute("UPDATE accounts SET display=?, role=?, counters=?, changed=? WHERE name=?",
                             (new[0], new[1], json.dumps(list(new[2])), self.clock(), name))
            if password is not None:  # every session signed in before now ends (Console.user)
                self._db.execute("UPDATE accounts SET hash=?, password_at=? WHERE name=?",
                                 (HASHER.hash(password), self.clock(), name))
            if disabled is not None:
                self._db.execute("UPDATE accounts SET disabled=? WHERE name=?", (int(disabled), name))
        what = {k: v for k, v in (("display", display), ("role", role), ("disabled", disabled)) if v is not None}
        if counters is not None:
            what["counters"] = list(counters)
        if password is not None:
            what["password"] = "changed"
        self.record(by, "account.change", name, what)
        return self.get(name)  # type: ignore[return-value]

    def get(self, name: str) -> Account | None:
        with self._lock:
            row = self._db.execute("SELECT name, display, role, counters, disabled, password_at FROM accounts "
                                   "WHERE name=?", (name,)).fetchone()
        return None if row is None else Account(row[0], row[1], row[2], tuple(json.loads(row[3])), bool(row[4]),
                                                 row[5])

    def all(self) -> list[Account]:
        with self._lock:
            names = [r[0] for r in self._db.execute("SELECT name FROM accounts ORDER BY role, name")]
        return [a for a in (self.get(n) for n in names) if a is not None]

    # -- signing in ----------------------------------------------------------------------------------------
    def sign_in(self, name: str, password: str, address: str) -> Account | Refusal:
        """The account, or why not. After FREE_FAILURES wrong passwords in a row (for the account, or from the
        address) each try must wait twice as long as the last, up to 5 minutes: guessing is slowed, not locked
        out for good."""
        now = self.clock()
        for who in (f"account:{name}", f"address:{address}"):
            wait = self._wait(who, now)
            if wait > 0:
                return Refusal("too_many", wait)
        account = self.get(name)
        with self._lock:
            row = self._db.execute("SELECT hash FROM accounts WHERE name=?", (name,)).fetchone()
        stored = row[0] if row else _dummy()  # the same work for an unknown name: no hint which names exist
        try:
            with self._hashing:
                HASHER.verify(stored, password)
            ok = row is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or account is None or account.disabled:
            with self._lock, self._db:
                for who in (f"account:{name}", f"address:{address}"):
                    self._db.execute("INSERT INTO failures(who, at) VALUES (?,?)", (who, now))
            self.record(name, "sign_in.failed", address, {})
            return Refusal("disabled" if ok and account is not None else "wrong")
        with self._lock, self._db:
            self._db.execute("DELETE FROM failures WHERE who IN (?,?)", (f"account:{name}", f"address:{address}"))
            if HASHER.check_needs_rehash(stored):
                self._db.execute("UPDATE accounts SET hash=? WHERE name=?", (HASHER.hash(password), name))
        self.record(name, "sign_in", address, {})
        return account

    def _wait(self, who: str, now: float) -> float:
        with self._lock, self._db:
            self._db.execute("DELETE FROM failures WHERE at < ?", (now - FAILURE_WINDOW_S,))
            times = [r[0] for r in self._db.execute("SELECT at FROM failures WHERE who=? ORDER BY at", (who,))]
        if len(times) < FREE_FAILURES:
            return 0.0
        wait = min(MAX_WAIT_S, 2.0 ** (len(times) - FREE_FAILURES + 1))
        return max(0.0, times[-1] + wait - now)

    # -- audit ---------------------------------------------------------------------------------------------
    def record(self, account: str, action: str, target: str, detail: dict[str, Any]) -> None:
        """Every sign-in, action and change, for admins to read (never a password)."""
        with self._lock, self._db:
            self._db.execute("INSERT INTO audit(at, account, action, target, detail) VALUES (?,?,?,?,?)",
                             (self.clock(), account, action, target, json.dumps(detail, ensure_ascii=False)))

    def audit(self, limit: int = 200, account: str = "") -> list[dict[str, Any]]:
        sql = "SELECT at, account, action, target, detail FROM audit"
        args: tuple[Any, ...] = ()
        if account:
            sql, args = sql + " WHERE account=?", (account,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [{"at": r[0], "account": r[1], "action": r[2], "target": r[3], "detail": json.loads(r[4])}
                for r in rows]

    def secret(self, name: str) -> str:
        """A random secret kept in this file (the session and CSRF signing keys), made on first use."""
        with self._lock, self._db:
            row = self._db.execute("SELECT value FROM secrets WHERE name=?", (name,)).fetchone()
            if row:
                return row[0]
            value = secrets.token_urlsafe(48)
            self._db.execute("INSERT INTO secrets(name, value) VALUES (?,?)", (name, value))
            return value

    def close(self) -> None:
        with self._lock:
            self._db.close()


@functools.cache
def _dummy() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def parse_counters(text: str) -> tuple[int, ...]:
    """The counters an account may work, as typed ("1, 2"): numbers 0-9 between commas; anything else is refused
    naming it (str.isdigit() would take '²', which int() does not)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    wrong = next((p for p in parts if not (p.isascii() and p.isdigit() and len(p) <= 3)), None)
    if wrong is not None:
        raise AccountError(f"counters: {wrong[:20]!r} is not a counter number")
    return tuple(dict.fromkeys(int(p) for p in parts))


def _check(name: str, display: str, role: str, password: str, counters: tuple[int, ...]) -> None:
    if not NAME.fullmatch(name):
        raise AccountError(f"account name {name!r} must be 2-40 lowercase letters, digits, '.', '_' or '-'")
    if not display.strip() or len(display) > 80 or not display.isprintable():
        raise AccountError("the name shown must be 1-80 printable characters")
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if role == "officer" and not counters:
        raise AccountError("an officer needs the counters they may work (e.g. --counters 1,2)")
    if any(not 1 <= c <= 999 for c in counters):
        raise AccountError("counters are numbers from 1 to 999")
