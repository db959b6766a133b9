# The ward's settings as they stand: the TOML's first, then each version an admin made, each checked like the TOML.
from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bus import catalogue as cat
from bus import hours
from bus.config import build, opt
from bus.errors import ConfigError
from bus.messages import ADMIN_ACTIONS
from hub.config import CounterConfig, HubSection, ServiceConfig, check
from hub.errors import QueueRefused
from hub.line import LIVE
from hub.outcome import Outcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NoticeEdit:
    notice: str = opt(max_len=2000, doc="the board's scrolling notice")


@dataclass(frozen=True)
class HoursEdit:
    hours: list[str] = hours.option()


@dataclass(frozen=True)
class Current:
    """The settings in force: the hub section and the catalogue message body (None: no catalogue)."""

    hub: HubSection
    catalogue: dict[str, Any] | None


class Settings:
    """Every change an admin makes (through the console: `admin.command`) is checked by the rules the TOML is
    checked by, stored as a new version with who made it and when, and applied by the hub after the commit. On
    start the latest version of each kind is laid over the TOML, so changes survive restarts."""

    def __init__(self, db: sqlite3.Connection, base: HubSection, catalogue: dict[str, Any] | None,
                 today: Callable[[], str]) -> None:
        self.db, self.today = db, today
        self.current = Current(base, catalogue)
        for kind in ADMIN_ACTIONS:
            row = db.execute("SELECT version, data FROM settings WHERE kind=? ORDER BY version DESC LIMIT 1",
                             (kind,)).fetchone()
            if row is None:
                continue
            try:
                self.current = self._changed(kind, json.loads(row[1]), f"settings version {row[0]}")
            except ConfigError as exc:  # stored by an older version under other rules: keep what holds
                log.error("hub: settings version %s no longer holds (%s); the one before it stays", row[0], exc)

    def op_admin(self, now: float, action: str, data: Any, by: str, device: str = "") -> Outcome:
        """Checks and stores one change; the reply carries its version, `settings` what to apply after the commit."""
        try:
            changed = self._changed(action, data, f"{action} from {by}")
        except ConfigError as exc:
            raise QueueRefused("invalid", f"{exc.key}: {exc.problem}") from None
        self._still_in_use(changed.hub)
        cur = self.db.execute("INSERT INTO settings(kind, data, by, device, at) VALUES (?,?,?,?,?)",
                              (action, json.dumps(data, ensure_ascii=False), by, device, now))
        log.info("hub: %s changed %s (version %d)", by, action, cur.lastrowid)
        return Outcome("admin.result", {"action": action, "version": cur.lastrowid}, settings=changed)

    def history(self, limit: int = 50) -> list[dict[str, Any]]:
        cur = self.db.execute("SELECT version, kind, by, device, at FROM settings ORDER BY version DESC LIMIT ?",
                              (limit,))
        return [dict(zip(("version", "kind", "by", "device", "at"), row, strict=True)) for row in cur]

    def _changed(self, kind: str, data: Any, source: str) -> Current:
        hub, catalogue = self.current.hub, self.current.catalogue
        if kind == "services":
            hub = dataclasses.replace(hub, services=_each(ServiceConfig, data, source, "services"))
        elif kind == "counters":
            hub = dataclasses.replace(hub, counters=_each(CounterConfig, data, source, "counters"))
        elif kind == "notice":
            hub = dataclasses.replace(hub, notice=build(NoticeEdit, data, source, "notice").notice)
        elif kind == "hours":
            hub = dataclasses.replace(hub, hours=build(HoursEdit, data, source, "hours").hours)
        else:
            made = cat.parse(data, source)
            version = max(made.version, (catalogue or {}).get("version", 0) + 1)
            catalogue = cat.fitting({"version": version, "catalogue": {**made.to_dict(), "version": version}}, source)
        check(hub, source)
        return Current(hub, catalogue)

    def _still_in_use(self, hub: HubSection) -> None:
        """A service with citizens waiting, or a counter with a ticket at it, cannot be removed today."""
        kept = {s.code for s in hub.services}
        for (service,) in self.db.execute(f"SELECT DISTINCT service FROM tickets WHERE day=? AND status IN "
                                          f"({','.join('?' * len(LIVE))})", (self.today(), *LIVE)):
            if service not in kept:
                raise QueueRefused("in_use", f"service {service} still has tickets today; keep it until they are "
                                             "served or moved")
        ids = {c.id for c in hub.counters}
        for (counter,) in self.db.execute("SELECT id FROM counters WHERE ticket_id IS NOT NULL"):
            if counter not in ids:
                raise QueueRefused("in_use", f"counter {counter} has a ticket at it; finish it first")


def _each(cls: type, data: Any, source: str, where: str) -> list[Any]:
    if not isinstance(data, list):
        raise ConfigError(source, where, f"expected a list, got {type(data).__name__}")
    return [build(cls, item, source, f"{where}[{i}]") for i, item in enumerate(data)]
