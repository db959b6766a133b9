# Bench: the hub's CPU per issue with its worker fed directly (a real broker, no kiosk).
from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bus import messages
from bus.messages import Message
from devkit.broker import Broker
from devkit.configs import write_hub_config
from hub.config import load_hub
from hub.service import HubService

SERVICES = ("HT", "CT", "CU", "KD", "XH")


def requests(topic: str) -> Callable[[int], list[tuple[Message, str]]]:
    """Makes batches of ticket requests from one kiosk, as the hub's network thread would have queued them."""
    seq = itertools.count(1)

    def batch(n: int) -> list[tuple[Message, str]]:
        made = []
        for _ in range(n):
            k = next(seq)
            made.append((messages.make("ticket.request", "kiosk-1", "benchkiosk01", k, {"service": SERVICES[k % 5]},
                                       corr=f"benchkiosk01.{k}"), topic))
        return made
    return batch


def cpu_per_issue(hub: HubService, batch: Callable[[int], list[tuple[Message, str]]], count: int,
                  size: int) -> tuple[float, float]:
    """Whole-process CPU and system time per issue (µs) for `count` issues handled `size` at a time, each batch
    followed by what the worker's turn does after it: the network loop writes the answers, the states are published."""
    mqtt = hub.bus._mqtt  # the bench reads paho's count of messages not yet acknowledged, to end when all went out
    before = os.times()
    for _ in range(count // size):
        hub._handle_batch(batch(size))
        hub.network.pump(0)
        hub._publish_changes()
    while mqtt._out_messages:  # every reply and event acknowledged by the broker
        hub.network.pump(0.01)
    after = os.times()
    cpu = after.user + after.system - before.user - before.system
    return cpu / count * 1e6, (after.system - before.system) / count * 1e6


def measure(count: int, size: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp, Broker(Path(tmp), kind="mosquitto") as broker:
        config, section = load_hub(write_hub_config(tmp, broker.port))
        hub = HubService(config, section)
        hub.bus.start()  # the bench is the hub's worker: it runs the network loop (bus/own_loop.py)
        deadline = time.monotonic() + 10
        while not hub.bus.connected.is_set():
            if time.monotonic() > deadline:
                raise SystemExit("the broker did not answer")
            hub.network.pump(0.05)
        batch = requests(hub.bus.topics.ticket_request)
        try:
            cpu_per_issue(hub, batch, 300, 1)  # warm-up: statements prepared, caches filled
            return cpu_per_issue(hub, batch, count, size)
        finally:
            hub.bus.stop()
            hub.db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="The hub's CPU per issue, its worker fed directly.")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    print("hub CPU per issue, worker fed directly, real mosquitto, synchronous=FULL commits (µs, whole process)")
    for size in (32, 1):
        for run in range(args.runs):
            start = time.perf_counter()
            cpu, system = measure(args.count if size > 1 else args.count // 2, size)
            print(f"  batches of {size:2d}: {cpu:.0f} µs (system {system:.0f}), run {run + 1}, "
                  f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
