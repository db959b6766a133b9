# Upstream forwarder: the hub's ratings and day statistics to the district collector, exactly once, after outages.
from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from typing import Any

from bus.client import BusClient
from bus.config import BrokerSection, DeviceConfig
from bus.errors import OutboxError
from bus.messages import Message, iso_ts
from bus.transaction import transaction
from bus.upstream import as_dict, parse
from hub.config import UpstreamSection
from hub.store import next_stats_version, records

log = logging.getLogger(__name__)


class UpstreamForwarder:
    """Records go through a durable outbox on the hub's own connection to the upstream broker; each leaves only
    when the collector acknowledges it after committing. (ward, boot, seq) identifies a record there."""

    def __init__(self, config: DeviceConfig, up: UpstreamSection, db: sqlite3.Connection) -> None:
        broker = BrokerSection(host=up.host, port=up.port, username=up.username, password=up.password,
                               tls=up.tls, ca_file=up.ca_file, keepalive=up.keepalive)
        self.ward, self.up, self.db = config.device.ward, up, db
        self.bus = BusClient(broker, self.ward, config.device.id, "hub",
                             outbox_path=config.data_dir / "upstream-outbox.db", retry_first=up.retry_s)
        self.bus.on_reply(self._on_ack)
        self.last_ack: float | None = None
        self.rejected = 0
        self._said = 0  # the backlog the hub's last state said
        self.drained = False  # an answer emptied a backlog the hub's last state said: its state is due again
        self._handed: list[tuple[int, int, int]] = []  # (version, ticket, counter) in the outbox, not yet noted

    def start(self) -> None:
        self.bus.start()

    def stop(self) -> None:
        self.bus.stop()

    def rating(self, r: dict[str, Any]) -> None:
        self._send("rating", {"ward": self.ward, "day": r["day"], "ticket_id": r["ticket_id"], "counter": r["counter"],
                              "service": r["service"], "level": r["level"], "scale": r["scale"],
                              "version": r["version"], "procedure": r["procedure"] or "",
                              "officer": r["officer"] or "", "visits": r.get("visits") or 0})
        self._handed.append((r["version"], r["ticket_id"], r["counter"]))

    def note_handed(self) -> None:
        """Notes in the hub's database, in one commit, the ratings whose records are in the outbox now (a rating's
        `upstream` column: the version handed over). A rating is committed first and handed to the outbox after;
        one the hub died between (kill -9, a power cut) is sent at the next start, one the outbox refused within the
        hour (`send_unsent`). Failing to note is not losing: the record is sent again and the collector keeps one."""
        if not self._handed:
            return
        try:
            with transaction(self.db):
                self.db.executemany("UPDATE ratings SET upstream=? WHERE upstream < ?1 AND ticket_id=? AND counter=?",
                                    self._handed)
            self._handed.clear()
        except sqlite3.Error as exc:
            log.warning("upstream: could not note %d ratings as handed over (%s); tried again later",
                        len(self._handed), exc)

    def send_unsent(self) -> int:
        """Every rating whose latest version never reached the outbox (ratings from before this was kept count as
        sent), at start before the worker runs and then hourly from the worker. Returns how many went; an outbox
        that still cannot be written is logged and tried again next time, never stops the hub."""
        unsent = list(records(self.db, "SELECT * FROM ratings WHERE upstream < version"))
        sent = 0
        try:
            for row in unsent:
                self.rating(row)
                sent += 1
        except (OutboxError, sqlite3.Error) as exc:
            log.error("upstream: the outbox refused a rating's record (%s); tried again within the hour", exc)
        if unsent:
            log.warning("upstream: %d ratings committed but never handed to the outbox (the hub stopped between, or "
                        "the outbox could not be written); %d sent now", len(unsent), sent)
        self.note_handed()
        return sent

    def day_stats(self, rows: list[dict[str, Any]]) -> int:
        """Sends each (day, service) row whose figures changed since it was last sent, as a new version."""
        sent = 0
        for row in rows:
            figures = {k: row[k] for k in ("issued", "served", "no_shows", "transfers", "wait_p50_min",
                                            "wait_p90_min", "level_1", "level_2", "level_3", "level_4", "level_5",
                                            "visits_recorded", "first_visits")}
            figures["within_target"] = round((row["within_target"] or 0) * row["served"])
            figures = {k: (-1.0 if v is None else v) for k, v in figures.items()}
            digest = hashlib.sha256(json.dumps(figures, sort_keys=True).encode()).hexdigest()[:16]
            version = next_stats_version(self.db, row["day"], row["group"], digest)
            if version is None:
                continue
            self._send("day_stats", {"ward": self.ward, "day": row["day"], "service": row["group"],
                                     "version": version, **figures})
            sent += 1
        return sent

    def _send(self, kind: str, fields: dict[str, Any]) -> None:
        """The record built by the collector's own schema (ContractError): a record the collector would refuse never
        enters the outbox, and a bundle never carries one."""
        record = as_dict(parse(kind, fields))
        self.bus.send_durable(self.bus.topics.upstream_record, "upstream.record", {"kind": kind, "record": record})

    def _on_ack(self, msg: Message, _: str) -> None:
        self.last_ack = time.time()
        if msg.type == "upstream.ack" and not msg.body["stored"]:
            self.rejected += 1
            log.error("the collector rejected an upstream record: %s", msg.body.get("reason"))
        if self._said and self.bus.outbox is not None and not self.bus.outbox.size():  # a record in flight as the
            self._said, self.drained = 0, True  # state was made must not show on the fleet page until the next one

    def status(self) -> dict[str, Any]:
        assert self.bus.outbox is not None
        last = iso_ts(self.last_ack) if self.last_ack else None
        return {"connected": self.bus.connected.is_set(), "backlog": self.bus.outbox.size(), "last_ack": last,
                "rejected": self.rejected}

    def stated(self) -> dict[str, Any]:
        """The status as the hub's device state says it, its backlog remembered (`drained` says when it is gone)."""
        status = self.status()
        self._said, self.drained = status["backlog"], False
        return status
