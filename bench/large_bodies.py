# Bench: a ward catalogue of N procedures as one message — its size plain and deflated, the cost to send and receive.
from __future__ import annotations

import argparse
import statistics
import time

import orjson

from bus import messages
from bus.errors import TooLarge
from devkit.big_catalogue import procedures_catalogue


def measure(count: int, runs: int) -> str:
    body = {"version": 1000, "catalogue": procedures_catalogue(count)}
    plain = len(orjson.dumps(body))
    send, receive, size = [], [], 0
    for _ in range(runs):
        began = time.process_time()
        try:
            payload = messages.make("catalogue.update", "hub", "abcd", 1, body).encode()
        except TooLarge:
            return f"{count:>5} procedures  {plain / 1024:7.1f} KiB plain   too large even deflated"
        middle = time.process_time()
        messages.decode(payload)
        send.append((middle - began) * 1e3)
        receive.append((time.process_time() - middle) * 1e3)
        size = len(payload)
    return (f"{count:>5} procedures  {plain / 1024:7.1f} KiB plain  {size / 1024:5.1f} KiB sent  "
            f"send {statistics.median(send):5.1f} ms  receive {statistics.median(receive):5.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description="A large catalogue as one message: sizes and CPU to send, receive.")
    parser.add_argument("--counts", default="14,90,150,300,350,400", help="procedures in each catalogue")
    parser.add_argument("--runs", type=int, default=5, help="runs of each; medians are reported (CPU time)")
    args = parser.parse_args()
    print("catalogue.update: make + encode (deflated past 64 KiB) and decode + checks, CPU ms, median")
    for count in (int(c) for c in args.counts.split(",")):
        print(measure(count, args.runs))


if __name__ == "__main__":
    main()
