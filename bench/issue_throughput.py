# Bench: ticket issue through a real mosquitto to a hub process with durable commits - throughput, latency, RSS.
from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from bench.figures import as_installed, emit, stolen_seconds
from bus.client import BusClient
from bus.config import BrokerSection
from bus.estimate import quantile
from bus.messages import Message
from devkit.broker import Broker
from devkit.configs import write_hub_config
from devkit.processes import RoleProcess
from provisioning.fleet import send_command, wait_online

WARD = "demo-ward"
current_phase: list[Callable[[Message, str], None]] = [lambda m, t: None]


def run_phase(kiosk: BusClient, count: int, window: int, rate: float = 0) -> tuple[float, list[float]]:
    """Sends `count` ticket requests keeping at most `window` unanswered, paced at `rate` per second when given;
    returns elapsed seconds and latencies."""
    slots = threading.Semaphore(window)
    sent: dict[str, float] = {}
    latencies: list[float] = []
    done = threading.Event()
    lock = threading.Lock()

    def on_reply(msg: Message, _: str) -> None:
        with lock:
            start = sent.pop(msg.corr or "", None)
            if start is None:
                return
            latencies.append(time.perf_counter() - start)
            if len(latencies) == count:
                done.set()
        slots.release()

    current_phase[0] = on_reply
    services = ["HT", "CT", "CU", "KD", "XH"]
    began = time.perf_counter()
    for i in range(count):
        if rate:
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        slots.acquire()
        with lock:
            msg = kiosk.send_request(kiosk.topics.ticket_request, "ticket.request", {"service": services[i % 5]})
            sent[msg.corr or ""] = time.perf_counter()
    if not done.wait(120):
        raise SystemExit(f"only {len(latencies)} of {count} replies arrived")
    return time.perf_counter() - began, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description="Ticket issue throughput and latency through a real broker.")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--window", type=int, default=32, help="unanswered requests allowed in the saturation run")
    parser.add_argument("--rate", type=float, default=500, help="offered load of the paced run, issues/s")
    parser.add_argument("--dir", type=Path, help="where the broker's and the hub's files go (default: the system's "
                        "temporary directory); /dev/shm keeps the hub's database in memory, the disk taken out")
    args = parser.parse_args()
    as_installed()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp, Broker(Path(tmp), kind="mosquitto") as broker:
        section = BrokerSection(port=broker.port)
        hub = RoleProcess("hub", write_hub_config(tmp, broker.port), Path(tmp) / "hub.log", command=("run",)).start()
        try:
            wait_online(section, WARD, "hub", alive=hub.check_alive)
            proc = psutil.Process(hub.proc.pid)  # type: ignore[union-attr]
            rss_idle = proc.memory_info().rss / 2**20
            kiosk = BusClient(section, WARD, "bench-kiosk", "kiosk")
            kiosk.on_reply(lambda m, t: current_phase[0](m, t))
            kiosk.start()
            kiosk.wait_connected(10)
            run_phase(kiosk, 200, 1)  # warm-up
            _, one_by_one = run_phase(kiosk, min(args.count, 2000), 1)
            stolen0 = stolen_seconds()
            paced_seconds, paced = run_phase(kiosk, args.count, 10000, rate=args.rate)
            stolen = (stolen_seconds() - stolen0) / paced_seconds / psutil.cpu_count() * 100
            hub_state = send_command(section, WARD, "hub", "status")["result"]
            slowest_write = hub_state["detail"]["database"]["slowest_commit_ms"]  # the hub's own timing, so far
            procs = {"hub": proc, "broker": psutil.Process(broker.pid), "bench's kiosk": psutil.Process()}
            cpu0 = {name: sum(p.cpu_times()[:2]) for name, p in procs.items()}
            elapsed, windowed = run_phase(kiosk, args.count, args.window)
            cpu = {name: (sum(p.cpu_times()[:2]) - cpu0[name]) / args.count * 1e6 for name, p in procs.items()}
            rss_busy = proc.memory_info().rss / 2**20
            kiosk.stop()
        finally:
            hub.stop()
    seq_ms = sorted(x * 1000 for x in one_by_one)
    win_ms = sorted(x * 1000 for x in windowed)
    paced_ms = sorted(x * 1000 for x in paced)
    print(f"ticket issue via mosquitto, hub with synchronous=FULL commits ({broker.kind})")
    print(f"  one at a time ({len(seq_ms)} requests): p50 {quantile(seq_ms, .5):.2f} ms, "
          f"p99 {quantile(seq_ms, .99):.2f} ms")
    print(f"  paced at {args.rate:.0f} issues/s ({args.count} requests): p50 {quantile(paced_ms, .5):.2f} ms, "
          f"p99 {quantile(paced_ms, .99):.2f} ms, slowest {paced_ms[-1]:.1f} ms; "
          f"the VM's host took {stolen:.1f} % of the cores meanwhile")
    print(f"  the hub's slowest write so far (its own timing, database.slowest_commit_ms): {slowest_write:.1f} ms")
    print(f"  saturated ({args.count} requests, window {args.window}): {args.count / elapsed:.0f} issues/s, "
          f"p50 {quantile(win_ms, .5):.2f} ms, p99 {quantile(win_ms, .99):.2f} ms")
    print("  CPU per issue while saturated (user + system): "
          + ", ".join(f"{name} {us:.0f} µs" for name, us in cpu.items()))
    print(f"  hub RSS: {rss_idle:.1f} MB idle, {rss_busy:.1f} MB after {2 * args.count + 2200} tickets")
    emit({"issue_one_p50_ms": quantile(seq_ms, .5), "issue_paced_p99_ms": quantile(paced_ms, .99),
          "issue_paced_rate": args.rate,
          "issue_paced_stolen_pct": stolen, "issue_paced_slowest_write_ms": slowest_write,
          "issue_saturated_per_s": args.count / elapsed, "hub_rss_mb": rss_busy,
          "issue_saturated_hub_cpu_us": cpu["hub"],
          "issue_saturated_others_cpu_us": cpu["broker"] + cpu["bench's kiosk"]})


if __name__ == "__main__":
    main()
