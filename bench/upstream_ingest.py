# Bench: collector ingest per process, and draining a week of one ward's upstream backlog after an outage.
from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psutil

from bench.figures import emit
from bus.bundle import pack
from bus.client import BusClient
from bus.config import BrokerSection
from bus.messages import decode
from bus.outbox import Entry
from devkit.broker import Broker
from devkit.configs import write_district_config
from devkit.postgres import PostgresServer
from devkit.processes import RoleProcess
from provisioning.fleet import wait_online

WARD = "demo-ward"


def rating(i: int, day: str = "2026-11-23") -> dict:
    return {"kind": "rating", "record": {"ward": WARD, "day": day, "ticket_id": i + 1, "counter": 1 + i % 4,
                                         "service": "HT", "level": 1 + i % 3, "scale": 3, "version": 1,
                                         "procedure": "1.001193", "officer": "Cán bộ"}}


def day_stats(day: str, service: str, version: int) -> dict:
    return {"kind": "day_stats", "record": {"ward": WARD, "day": day, "service": service, "version": version,
                                            "issued": 80, "served": 75, "no_shows": 5, "transfers": 1,
                                            "within_target": 70, "wait_p50_min": 12.0, "wait_p90_min": 31.0,
                                            "level_1": 40, "level_2": 20, "level_3": 5}}


class Acks:
    """The collector's acknowledgements as `mosquitto_sub` (C) receives them on the sender's reply topic: the corrs
    still unacknowledged. Read outside any BusClient, which answers only replies to requests it made itself."""

    def __init__(self, port: int, topic: str, corrs: list[str]) -> None:
        self.pending = dict.fromkeys(corrs)
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic,
                                      "-i", f"bench-acks-{time.monotonic_ns()}"], stdout=subprocess.PIPE)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            payload = json.loads(line)
            with self.lock:
                for corr in payload.get("body", {}).get("corrs") or [payload.get("corr")]:
                    self.pending.pop(corr, None)

    def left(self) -> list[str]:
        with self.lock:
            return list(self.pending)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def ingest(port: int, count: int, sender_kind: str, collectors: list[psutil.Process],
           bundled: bool = False) -> tuple[float, int, float]:
    """Records per second the collector processes store and acknowledge. The records are made and encoded first;
    `mosquitto_pub` (C) then publishes them and `mosquitto_sub` (C) takes the acknowledgements, so the measure is
    the collector's and not a Python sender's sharing the same two cores (with `python` a BusClient publishes
    them). `bundled` packs them as an outbox sends a backlog (bus/bundle.py). Like the hub's outbox, the bench
    resends what was not acknowledged after a quiet spell; returns the rate, the resends and the collectors' CPU
    time per record in µs (user and system, all the processes: less moved than the rate by a busy neighbour on a
    shared machine)."""
    client = BusClient(BrokerSection(port=port), WARD, "bench-hub", "hub")
    client.start()
    client.wait_connected(10)
    topic = client.topics.upstream_record
    batch = {f"{client.boot}.{i}": client.message("upstream.record", rating(i), corr=f"{client.boot}.{i}")
             for i in range(count)}
    acks = Acks(port, client.topics.reply(client.device), list(batch))
    time.sleep(0.5)  # mosquitto_sub subscribed
    entries = [Entry(corr, topic, msg.encode(), 0.0, 0) for corr, msg in batch.items()]
    payloads = ([p for _, p in pack(entries, lambda held: client.message("bundle", {"messages": held}))] if bundled
                else [e.payload for e in entries])
    outgoing = [decode(p) for p in payloads] if sender_kind == "python" else []
    cpu_before = sum(sum(c.cpu_times()[:2]) for c in collectors)
    started = time.perf_counter()
    if sender_kind == "mosquitto_pub":
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic, "-l",
                        "-i", "bench-sender"], input=b"\n".join(payloads) + b"\n", check=True)
    else:
        for msg in outgoing:
            client.publish(topic, msg)
    resent, last, last_change = 0, -1, time.perf_counter()
    while left := acks.left():
        time.sleep(0.01)
        if len(left) != last:
            last, last_change = len(left), time.perf_counter()
        elif time.perf_counter() - last_change > 3:
            for corr in left:
                client.publish(topic, batch[corr])
            resent += len(left)
            last_change = time.perf_counter()
        if time.perf_counter() - started > 300:
            raise SystemExit(f"{len(left)} of {count} still unacknowledged after 300 s")
    elapsed = time.perf_counter() - started
    cpu_us = (sum(sum(c.cpu_times()[:2]) for c in collectors) - cpu_before) / count * 1e6
    acks.stop()
    client.stop()
    return count / elapsed, resent, cpu_us


def week_backlog(tmp: Path, port: int, broker: Broker, procs: list[RoleProcess]) -> tuple[int, float]:
    """A week of a busy ward (400 ratings a day, 5 services' statistics re-sent hourly) queued while upstream
    was down, then the broker and collector come back: seconds until the hub's outbox is empty."""
    broker.stop()
    for proc in procs:
        proc.stop()
    hub = BusClient(BrokerSection(port=port), WARD, "bench-week", "hub", outbox_path=tmp / "week-outbox.db")
    hub.start()
    n = 0
    for d in range(7):
        day = f"2026-11-{16 + d:02d}"
        for i in range(400):
            hub.send_durable(hub.topics.upstream_record, "upstream.record", rating(d * 1000 + i, day))
            n += 1
        for hour in range(24):
            for service in ("HT", "CT", "CU", "KD", "XH"):
                hub.send_durable(hub.topics.upstream_record, "upstream.record", day_stats(day, service, hour + 1))
                n += 1
    assert hub.outbox is not None and hub.outbox.size() == n
    broker.start()
    for proc in procs:
        proc.start()
    started = time.perf_counter()
    while hub.outbox.size():
        time.sleep(0.05)
        if time.perf_counter() - started > 600:
            raise SystemExit(f"{hub.outbox.size()} records still waiting after 600 s")
    elapsed = time.perf_counter() - started
    hub.stop()
    return n, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description="Collector ingest rate and week-backlog drain time.")
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3, help="ingest runs; the median is reported")
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite",
                        help="postgres starts a throwaway local PostgreSQL server (Debian package postgresql)")
    parser.add_argument("--sender", choices=("auto", "mosquitto_pub", "python"), default="auto",
                        help="who publishes the records: auto takes mosquitto_pub (Debian package mosquitto-clients) "
                             "when installed")
    parser.add_argument("--processes", type=int, default=1,
                        help="collector processes in one shared-subscription group (district.group), one store")
    args = parser.parse_args()
    logging.getLogger("bus").setLevel(logging.ERROR)  # the sender's client logs each ack it did not ask for itself
    if not shutil.which("mosquitto_sub"):
        raise SystemExit("the bench reads acknowledgements with mosquitto_sub: apt install mosquitto-clients")
    sender = args.sender if args.sender != "auto" else "mosquitto_pub" if shutil.which("mosquitto_pub") else "python"
    pg = PostgresServer().start() if args.store == "postgres" else None
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        broker = Broker(tmp / "broker", kind="mosquitto").start()
        names, dsn = [f"collector-{i + 1}" for i in range(args.processes)], pg.dsn if pg else ""
        procs = [RoleProcess("district", write_district_config(tmp, broker.port, [WARD], name, dsn=dsn),
                             tmp / f"{name}.log", command=("district", "run")).start() for name in names]
        try:
            for name, proc in zip(names, procs, strict=True):
                wait_online(BrokerSection(port=broker.port), "district", name, alive=proc.check_alive)
            collectors = [psutil.Process(proc.proc.pid) for proc in procs]  # type: ignore[union-attr]
            results = [ingest(broker.port, args.count, sender, collectors) for _ in range(args.runs)]
            rates = sorted(r for r, _, _ in results)
            rate, resent = statistics.median(rates), sum(n for _, n, _ in results)
            in_bundles = [ingest(broker.port, args.count, sender, collectors, bundled=True) for _ in range(args.runs)]
            bundled_rates = sorted(r for r, _, _ in in_bundles)
            bundled_rate, resent = statistics.median(bundled_rates), resent + sum(n for _, n, _ in in_bundles)
            cpu, bundled_cpu = (statistics.median(c for _, _, c in runs) for runs in (results, in_bundles))
            n, drain = week_backlog(tmp, broker.port, broker, procs)
        finally:
            for proc in procs:
                proc.stop()
            broker.stop()
            if pg is not None:
                pg.remove()
    store = "PostgreSQL 15 on loopback, fsync on" if pg else "SQLite WAL synchronous=FULL"
    how_many = "one process" if args.processes == 1 else f"{args.processes} processes in one group, one store"
    print(f"district collector ({how_many}, {store}, mosquitto; records published by {sender})")
    print(f"  ingest: {args.count} rating records stored and acknowledged at {rate:.0f} records/s (median of "
          f"{args.runs} runs, {rates[0]:.0f}-{rates[-1]:.0f}), collector CPU {cpu:.1f} µs a record"
          + (f"; {resent} resent after a lost connection" if resent else ""))
    print(f"  the same in bundles, as an outbox sends its backlog: {bundled_rate:.0f} records/s "
          f"({bundled_rates[0]:.0f}-{bundled_rates[-1]:.0f}), collector CPU {bundled_cpu:.1f} µs a record")
    print(f"  a week of one busy ward ({n} records) queued during an outage: drained in {drain:.1f} s "
          "after the broker and collector returned")
    emit({f"collector_{args.store}_per_s": rate, f"collector_{args.store}_bundled_per_s": bundled_rate,
          f"collector_{args.store}_cpu_us": cpu, f"collector_{args.store}_bundled_cpu_us": bundled_cpu,
          f"collector_{args.store}_backlog_s": drain})


if __name__ == "__main__":
    main()
