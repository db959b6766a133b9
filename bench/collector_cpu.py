# Bench: the collector's own work a record, in process with no broker or socket: receive path, then the store.
from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time

from bench.upstream_ingest import WARD, rating
from bus import messages
from bus.topics import Topics
from devkit.configs import write_district_config
from district.collector import Collector
from district.config import load_district


def payloads(count: int, start: int) -> list[bytes]:
    """Upstream records from one ward's hub, encoded as they arrive, one a message."""
    return [messages.make("upstream.record", "bench-hub", "abcd1234", start + i, rating(start + i),
                          corr=f"abcd1234.{start + i}").encode() for i in range(count)]


def one_run(collector: Collector, topic: str, arrived: list[bytes], batch: int) -> tuple[float, float]:
    """CPU µs a record for the receive path (`bus.deliver`: decode, checks, dispatch, the worker's inbox) and for
    the worker's store step (`_commit`: the record's schema, the seen-marks and upserts, the commit, the acks
    queued), a batch at a time as the worker takes them."""
    receive = store = 0.0
    for start in range(0, len(arrived), batch):
        began = time.process_time()
        for payload in arrived[start:start + batch]:
            collector.bus.deliver(topic, payload)
        taken = collector.network.take(collector._inbox, 0, batch)  # nothing to read: no connection
        middle = time.process_time()
        collector._commit(taken)
        receive, store = receive + middle - began, store + time.process_time() - middle
    return receive / len(arrived) * 1e6, store / len(arrived) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description="The collector's CPU a record in process (no broker, no socket).")
    parser.add_argument("--count", type=int, default=20000, help="records a run")
    parser.add_argument("--runs", type=int, default=5, help="runs; the median is reported")
    parser.add_argument("--batch", type=int, default=500, help="records the worker takes at a time (district.batch)")
    args = parser.parse_args()
    logging.getLogger("bus").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        config, section = load_district(write_district_config(tmp, 1, [WARD]))  # port 1: never connected
        collector = Collector(config, section)
        collector.bus.subscribe(collector.topic_filter, collector._take)
        topic = Topics(WARD).upstream_record
        runs = [one_run(collector, topic, payloads(args.count, k * args.count), args.batch) for k in range(args.runs)]
        stored = collector.counts["stored"]
        collector.store.close()
    if stored != args.count * args.runs:
        raise SystemExit(f"stored {stored} of {args.count * args.runs} records")
    receive, store = (statistics.median(r[i] for r in runs) for i in (0, 1))
    print(f"district collector in process (SQLite WAL synchronous=FULL, {args.batch} records a batch), "
          f"median of {args.runs} runs of {args.count} records")
    print(f"  receive path (decode, checks, dispatch) {receive:.1f} µs a record; store step {store:.1f} µs; "
          f"together {receive + store:.1f} µs ({', '.join(f'{a + b:.1f}' for a, b in runs)})")


if __name__ == "__main__":
    main()
