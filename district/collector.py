# The district collector: validates, deduplicates and stores the wards' upstream records, acks after commit.
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

from bus import systemd
from bus.client import BusClient
from bus.config import DeviceConfig
from bus.device_commands import Device, DeviceCommands
from bus.errors import ContractError
from bus.messages import Message, iso_ts
from bus.numbering import LocalDay
from bus.own_loop import OwnLoop
from bus.reload import field_appliers
from bus.topics import WARD, Topics
from bus.topics import parse as parse_topic
from bus.upstream import DayStatsRecord, RatingRecord, parse
from district.config import DistrictSection, load_district
from district.store import open_store

log = logging.getLogger(__name__)
GATHER_S = 0.005
UNAVAILABLE_LOG_S = 60.0  # while the store refuses writes, one line in the log a minute
INBOX_MAX = 100000  # records handed in by another thread (the fuzzers) and not yet stored; past it that thread waits


class Collector:
    """Any number of collector processes may run in one shared-subscription group; the broker gives each record to
    one of them. A record is acknowledged only after the transaction holding it (and its seen-mark) committed, so a
    collector killed in between gets the record again and stores it once. One worker thread runs the network loop
    and stores what it read: it reads at most a batch (and the rest of a bundle) before storing it, and the broker
    holds the rest meanwhile."""

    def __init__(self, config: DeviceConfig, section: DistrictSection) -> None:
        self.config, self.section = config, section
        self.store = open_store(section, config.data_dir)
        self.bus = BusClient(config.broker, "district", config.device.id, "district", own_loop=True)
        self.network: OwnLoop = self.bus.loop  # type: ignore[assignment]
        live = field_appliers("district", ("wards", "batch", "max_future_days"), lambda loaded: loaded[1], self,
                              "section")
        self.commands = DeviceCommands(self.bus, Device(config, load_district, live))
        self.days = LocalDay(section.timezone, "2025-01-01")
        self.counts: Counter[str] = Counter()
        # a SimpleQueue: putting a record does not wake the worker while it gathers a batch (a Queue's would, each)
        self._inbox: queue.SimpleQueue[tuple[Message, str]] = queue.SimpleQueue()
        self.inbox_max = INBOX_MAX
        self._stop = threading.Event()
        self._refused, self._refused_logged = 0, -UNAVAILABLE_LOG_S  # records the store refused; last said when
        self.failing: tuple[str, float] | None = None  # why the store refuses writes, since when (wall clock)
        self.bus.state_detail = self._detail
        self._worker = threading.Thread(target=self._work, name="collector", daemon=True)
        plain = Topics.all_wards().upstream_record
        self.topic_filter = f"$share/{section.group}/{plain}" if section.group else plain

    def start(self) -> None:
        self.bus.subscribe(self.topic_filter, self._take)
        self.bus.start()  # the connection is made by the worker's first round of the network loop
        self._worker.start()
        systemd.notify("READY=1")

    def stop(self) -> None:
        self._stop.set()
        self.bus.stop_loop()
        self._worker.join(5)
        self.bus.stop()
        self.store.close()

    def health(self) -> str | None:
        """What stops this collector from working, for the watchdog: its worker or its bus path."""
        if not self._worker.is_alive():
            return "the collector's worker thread has stopped"
        return self.bus.health()

    def _take(self, msg: Message, topic: str) -> None:
        """Takes a record for the worker's next batch. On the worker's own network loop it never waits (the worker
        reads no more than a batch before storing); a thread handing records in directly waits while `inbox_max`
        wait, rather than let memory grow."""
        while self._inbox.qsize() >= self.inbox_max and not self._stop.is_set() \
                and threading.current_thread() is not self._worker:
            time.sleep(0.01)
        self._inbox.put((msg, topic))

    def _work(self) -> None:
        while not self._stop.is_set():
            batch = self.network.take(self._inbox, 0.5, self.section.batch, gather=GATHER_S)
            if not batch:
                continue
            try:
                self._commit(batch)
                self.network.pump(0)  # the acknowledgements are written now
                if self.failing is not None:
                    log.info("collector: the store takes writes again")
                    self.failing = None
                    self.bus.publish_state()
            except Exception as exc:  # service edge: nothing was acknowledged, so every sender resends; logged
                if self.store.unavailable(exc):  # the disk or the server: each record alone would fail the same
                    self._unavailable(exc, len(batch))
                    time.sleep(1)
                    continue
                log.exception("collector: storing a batch of %d failed", len(batch))
                if len(batch) > 1:  # one record's fault must not hold back the others: each alone, once
                    for one in batch:
                        self._commit_alone(one)
                else:
                    time.sleep(1)

    def _unavailable(self, exc: BaseException, records: int) -> None:
        """One line in the log a minute while the store refuses writes, with how many records it refused."""
        self._refused += records
        if self.failing is None:
            self.failing = (str(exc).strip()[:300], time.time())
            self.bus.publish_state()  # district IT sees it now, not at the next minute
        if time.monotonic() >= self._refused_logged + UNAVAILABLE_LOG_S:
            log.error("collector: the store cannot take writes (%s); %d record(s) refused since the last such line, "
                      "left unacknowledged for their wards to send again", str(exc).strip(), self._refused)
            self._refused, self._refused_logged = 0, time.monotonic()

    def _detail(self) -> dict[str, Any]:
        if self.failing is None:
            return {}
        reason, since = self.failing
        return {"store": {"failing": reason, "since": iso_ts(since)}}

    def _commit_alone(self, item: tuple[Message, str]) -> None:
        try:
            self._commit([item])
        except Exception:  # service edge: this record stays unacknowledged and is resent; logged with its trace
            log.exception("collector: storing a record from %s failed", item[0].device)

    def _commit(self, batch: list[tuple[Message, str]]) -> None:
        now = time.time()
        latest = self.days.local_date(now) + timedelta(days=self.section.max_future_days)
        acks: list[tuple[Message, str, dict[str, Any]]] = []
        accepted = []
        for msg, topic in batch:
            parsed = parse_topic(topic)
            ward = parsed.ward if parsed is not None and WARD.fullmatch(parsed.ward) else None
            if ward is None:  # no ward to answer on (the subscription's '+' took any level)
                self.bus.rejected.count("ward", f"rejected a record on {topic}: not a ward's upstream topic")
                continue
            reason, record = self._check(msg, ward, latest)
            if record is None:
                acks.append((msg, ward, {"stored": False, "reason": reason}))
                self.bus.rejected.count("record", f"rejected a record from {ward}/{msg.device}: {reason}")
            else:
                accepted.append(((ward, msg.device, msg.boot, msg.seq), record))
                acks.append((msg, ward, {"stored": True}))
        with self.store.transaction():
            for msg, ward, body in acks:
                if not body["stored"]:
                    self.store.reject(now, ward, msg.device, body["reason"])
            fresh = self.store.store_new(accepted, now)
        self.counts.update(rejected=len(acks) - len(accepted), stored=sum(fresh),  # only what committed
                           duplicates=len(fresh) - sum(fresh))
        stored: dict[tuple[str, str], list[str]] = {}
        for msg, ward, body in acks:  # only after the commit
            if body["stored"]:
                stored.setdefault((ward, msg.device), []).append(msg.corr or "")
                continue
            self.bus.publish(Topics(ward).reply(msg.device), self.bus.message("upstream.ack", body, corr=msg.corr))
        for (ward, device), corrs in stored.items():  # one acknowledgement per sender and transaction
            reply = self.bus.message("upstream.ack", {"stored": True, "corrs": corrs}, corr=corrs[-1])
            self.bus.publish(Topics(ward).reply(device), reply)

    def _check(self, msg: Message, ward: str, latest: date) -> tuple[str, RatingRecord | DayStatsRecord | None]:
        """(reason, None) for a record to refuse, else ("", the parsed record); `latest` is the last day a record
        may be for (today in the district's time zone plus max_future_days)."""
        if ward not in self.section.wards:
            return f"unknown ward {ward!r}", None
        if msg.type != "upstream.record" or msg.corr is None:
            return f"{msg.type} without a correlation id is not an upstream record", None
        try:
            record = parse(msg.body["kind"], msg.body["record"])
        except ContractError as exc:
            return str(exc), None
        if record.ward != ward:
            return f"record for ward {record.ward!r} sent on ward {ward!r}'s topic", None
        if date.fromisoformat(record.day) > latest:
            return f"day {record.day} is in the future", None
        return "", record
