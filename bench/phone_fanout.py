# Bench: one call reaching 300 open ticket pages on phones (live streams), the console's memory and CPU, the hub's.
from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from bench.figures import as_installed, emit
from bus.client import BusClient
from bus.config import BrokerSection
from bus.estimate import quantile
from devkit.broker import Broker, free_port, port_open
from devkit.configs import write_console_config, write_hub_config
from devkit.processes import RoleProcess
from provisioning.fleet import wait_online

WARD = "demo-ward"


def main() -> None:
    parser = argparse.ArgumentParser(description="Phone pages: a call -> every open ticket page updated; memory.")
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    as_installed()
    with tempfile.TemporaryDirectory() as tmp, Broker(Path(tmp), kind="mosquitto") as broker:
        hub = RoleProcess("hub", write_hub_config(tmp, broker.port), Path(tmp) / "hub.log").start()
        wait_online(BrokerSection(port=broker.port), WARD, "hub", timeout=20, alive=hub.check_alive)
        http = free_port()
        console = RoleProcess("console", write_console_config(tmp, broker.port, http), Path(tmp) / "console.log",
                              command=("run",)).start()
        try:
            while not port_open("127.0.0.1", http):
                console.check_alive()
                time.sleep(0.05)
            procs = {name: psutil.Process(p.proc.pid) for name, p in (("console", console), ("hub", hub))}  # type: ignore[union-attr]
            run(http, broker.port, args, procs)
        finally:
            console.stop()
            hub.stop()


def run(http: int, port: int, args: argparse.Namespace, procs: dict[str, psutil.Process]) -> None:
    section = BrokerSection(port=port)
    kiosk = BusClient(section, WARD, "bench-kiosk", "kiosk")
    officer = BusClient(section, WARD, "bench-officer", "bridge", counters=(1,))
    for c in (kiosk, officer):
        c.start()
        c.wait_connected(10)
    tokens = []
    for _ in range(args.calls + args.pages + 5):
        reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
        assert reply is not None and reply.type == "ticket.issued", reply
        tokens.append(reply.body["token"])
    officer.request(officer.topics.counter_command(1), "counter.command", {"action": "open", "counter": 1}, 5)
    time.sleep(1.0)
    idle = procs["console"].memory_info().rss / 2**20
    print(f"phone pages bench on {platform.node()} ({platform.processor() or platform.machine()}, "
          f"{psutil.cpu_count()} cores), Python {platform.python_version()}; console RSS with no page open "
          f"{idle:.1f} MB")
    sizes = {path: len(urllib.request.urlopen(f"http://127.0.0.1:{http}{path}").read())  # noqa: S310 - loopback
             for path in (f"/t/{tokens[-1]}", "/static/phone.css", "/static/phone.js")}
    print("page weight: " + ", ".join(f"{path.split('/')[-1] if 'static' in path else 'the page'} {n:,} B"
                                      for path, n in sizes.items()) + f"; {sum(sizes.values()) / 1024:.1f} KB in all")
    delays, rss, cpu = asyncio.run(follow(http, tokens[-args.pages:], officer, args.calls, procs))
    p50, p95 = statistics.median(delays), quantile(delays, 0.95)
    print(f"{args.pages} ticket pages open (plain HTTP streams, all behind the called tickets): a call reached "
          f"them all in p50 {p50:.0f} ms, p95 {p95:.0f} ms, slowest {delays[-1]:.0f} ms over {args.calls} calls "
          f"({len(delays)} updates; target p95 1,000 ms)")
    print(f"console RSS with {args.pages} pages open {rss:.1f} MB (+{rss - idle:.1f}); CPU per call: console "
          f"{cpu['console']:.0f} ms, hub {cpu['hub']:.0f} ms")
    emit({"phone_p95_ms": p95, "phone_console_rss_mb": rss, "phone_console_cpu_ms": cpu["console"],
          "phone_hub_cpu_ms": cpu["hub"]})
    for c in (kiosk, officer):
        c.stop()


async def follow(http: int, tokens: list[str], officer: BusClient, calls: int, procs: dict[str, psutil.Process]
                 ) -> tuple[list[float], float, dict[str, float]]:
    """Opens a live stream per token; for each call, how long until every page had its new place."""
    seen = [0] * len(tokens)
    got: list[list[float]] = [[] for _ in tokens]
    changed = asyncio.Event()

    async def page(i: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", http)
        writer.write(f"GET /t/{tokens[i]}/live HTTP/1.1\r\nHost: ward\r\nAccept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        while line := await reader.readline():
            if line.startswith(b"data:") and b'"view"' in line:
                seen[i] += 1
                got[i].append(time.perf_counter())
                changed.set()
        writer.close()

    tasks = [asyncio.create_task(page(i)) for i in range(len(tokens))]
    await until(lambda: all(seen), changed, 60)  # every page open, its first view shown
    await asyncio.sleep(1.0)
    rss = procs["console"].memory_info().rss / 2**20
    cpu0 = {name: sum(p.cpu_times()[:2]) for name, p in procs.items()}
    delays = []
    for call in range(1, calls + 1):
        started = time.perf_counter()
        await asyncio.to_thread(officer.request, officer.topics.counter_command(1), "counter.command",
                                {"action": "call_next", "counter": 1}, 5)
        await until(lambda c=call: all(n > c for n in seen), changed, 10)
        delays += [1000 * (times[call] - started) for times in got]
        await asyncio.sleep(0.3)
    cpu = {name: 1000 * (sum(p.cpu_times()[:2]) - cpu0[name]) / calls for name, p in procs.items()}
    for task in tasks:
        task.cancel()
    return sorted(delays), rss, cpu


async def until(done: object, changed: asyncio.Event, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        changed.clear()
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the pages did not all update in time")
        try:
            await asyncio.wait_for(changed.wait(), left)
        except TimeoutError:
            continue


if __name__ == "__main__":
    main()
