# Bench: every bench in one go, one table - each figure, its target, and the machine's own bound from the same run.
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bench.figures import ENV

# Each bench as the table runs it (module and arguments), in order; bounds first, on the same machine.
RUNS: dict[str, list[str]] = {
    "bounds": ["bench.bounds"],
    "issue": ["bench.issue_throughput"],
    "issue_in_memory": ["bench.issue_throughput", "--dir", "/dev/shm"],
    "board": ["bench.board_latency"],
    "kiosk": ["bench.kiosk_print"],
    "collector_sqlite": ["bench.upstream_ingest", "--store", "sqlite"],
    "collector_postgres": ["bench.upstream_ingest", "--store", "postgres"],
    "unit": ["bench.c_unit"],
    "phone": ["bench.phone_fanout"],
}
PINNED_RUNS: dict[str, list[str]] = {  # one core, as a stand-in for a Raspberry Pi
    "bounds": ["bench.bounds", "--rate", "200", "--paced-seconds", "25"],
    "issue": ["bench.issue_throughput", "--rate", "200"],
    "issue_in_memory": ["bench.issue_throughput", "--rate", "200", "--dir", "/dev/shm"],
}
# Runs whose figures are kept under their own names: the issue bench again with the hub's database in memory.
KEY_PREFIX = {"issue_in_memory": "memory_"}


@dataclass(frozen=True)
class Row:
    label: str
    key: str
    at_most: bool  # the target is a ceiling (latency, size) rather than a floor (rate)
    target: float
    unit: str
    bound: str = ""  # what the bound is, in words; "" for none
    bound_keys: tuple[str, ...] = ()  # bounds figures summed

    def bound_of(self, bounds: dict[str, float]) -> float | None:
        values = [bounds.get(k) for k in self.bound_keys]
        return sum(values) if values and None not in values else None  # type: ignore[arg-type]


ROWS = (
    Row("issue, one at a time, p50", "issue_one_p50_ms", True, 1.5, "ms", "broker round trip p50 (C echo)",
        ("echo_p50_ms",)),
    Row("issue, paced 500/s, p99", "issue_paced_p99_ms", True, 20, "ms",
        "round trip p99 + the disk's p99 paced at 500/s", ("echo_p99_ms", "paced_commit_p99_ms")),
    Row("issue, paced 500/s: the VM's host's share of the cores meanwhile", "issue_paced_stolen_pct", True, 0,
        "%"),
    Row("issue, paced 500/s: the hub's slowest write (its own timing)", "issue_paced_slowest_write_ms", True, 0,
        "ms"),
    Row("issue, paced 500/s, p99, the hub's database in memory (/dev/shm)", "memory_issue_paced_p99_ms", True, 20,
        "ms", "broker round trip p99 (C echo)", ("echo_p99_ms",)),
    Row("issue, saturated", "issue_saturated_per_s", False, 2000, "/s", "broker round trips/s, window 32 (C echo)",
        ("echo_window_per_s",)),
    Row("issue, saturated: the hub's CPU per issue", "issue_saturated_hub_cpu_us", True, 0, "µs"),
    Row("issue, saturated: the broker's and the bench kiosk's CPU per issue", "issue_saturated_others_cpu_us", True,
        0, "µs"),
    Row("hub resident memory after 12,200 tickets", "hub_rss_mb", True, 30, "MB",
        "interpreter with paho and sqlite3 only", ("bare_rss_mb",)),
    Row("board: call to frame, p95", "board_call_frame_p95_ms", True, 35, "ms", "one frame at the board's rate",
        ("board_frame_period_ms",)),
    Row("board: idle CPU, notice scrolling", "board_idle_cpu_pct", True, 1, "% of a core"),
    Row("ticket job, standard ticket", "ticket_job_kb", True, 12, "KB"),
    Row("collector on SQLite, a record per message", "collector_sqlite_per_s", False, 20000, "records/s",
        "a paho client receiving at QoS 1, nothing done", ("paho_receive_per_s",)),
    Row("collector on SQLite, a record per message: its CPU a record", "collector_sqlite_cpu_us", True, 0, "µs",
        "that paho client's CPU a message", ("paho_receive_cpu_us",)),
    Row("collector on SQLite, a backlog in bundles", "collector_sqlite_bundled_per_s", False, 20000, "records/s"),
    Row("collector on PostgreSQL, a record per message", "collector_postgres_per_s", False, 10000, "records/s",
        "a paho client receiving at QoS 1, nothing done", ("paho_receive_per_s",)),
    Row("collector on PostgreSQL, a backlog in bundles", "collector_postgres_bundled_per_s", False, 10000,
        "records/s"),
    Row("C unit: key to answer on the unit, p95", "unit_press_p95_ms", True, 30, "ms"),
    Row("bridge resident memory", "bridge_rss_mb", True, 30, "MB", "interpreter with paho and sqlite3 only",
        ("bare_rss_mb",)),
    Row("phone pages: a call to 300 open pages, p95", "phone_p95_ms", True, 1000, "ms"),
    Row("console resident memory, 300 phone pages open", "phone_console_rss_mb", False, 0, "MB"),
)
PINNED_ROWS = (
    Row("one core: issue, paced 200/s, p99", "issue_paced_p99_ms", True, 20, "ms",
        "round trip p99 + the disk's p99 paced at 200/s, one core", ("echo_p99_ms", "paced_commit_p99_ms")),
    Row("one core: issue, paced 200/s: the VM's host's share of the cores meanwhile", "issue_paced_stolen_pct", True,
        0, "%"),
    Row("one core: issue, paced 200/s: the hub's slowest write (its own timing)", "issue_paced_slowest_write_ms",
        True, 0, "ms"),
    Row("one core: issue, paced 200/s, p99, the hub's database in memory (/dev/shm)", "memory_issue_paced_p99_ms",
        True, 20, "ms", "broker round trip p99, one core", ("echo_p99_ms",)),
    Row("one core: issue, saturated", "issue_saturated_per_s", False, 0, "/s",
        "broker round trips/s, window 32, one core", ("echo_window_per_s",)),
    Row("one core: issue, saturated: the hub's CPU per issue", "issue_saturated_hub_cpu_us", True, 0, "µs"),
)


def run_all(runs: dict[str, list[str]], pin: str | None) -> dict[str, float]:
    """Runs each bench in its own process (under `taskset -c <pin>` when given; its broker, hub and other
    children inherit the affinity) and gathers the figures each hands back."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, module in runs.items():
            out = Path(tmp) / f"{name}.json"
            pinning = ["taskset", "-c", pin] if pin is not None else []
            print(f"--- {name}{' (pinned to core ' + pin + ')' if pin else ''}: python -m {' '.join(module)}",
                  flush=True)
            subprocess.run([*pinning, sys.executable, "-m", *module], env={**os.environ, ENV: str(out)}, check=True)
            prefix = KEY_PREFIX.get(name, "")
            figures.update({prefix + k: v for k, v in json.loads(out.read_text(encoding="utf-8")).items()})
    return figures


def table(rows: tuple[Row, ...], figures: dict[str, float]) -> list[str]:
    lines = ["| figure | target | measured | bound, same run | ratio to the bound |", "|---|---|---|---|---|"]
    for row in rows:
        value = figures.get(row.key)
        if value is None:
            continue
        target = f"{'≤' if row.at_most else '≥'} {_num(row.target)} {row.unit}" if row.target else "—"
        met = "" if not row.target else (" ✓" if (value <= row.target if row.at_most else value >= row.target)
                                         else " ✗")
        bound = row.bound_of(figures)
        shown = f"{_num(bound)} {row.unit} ({row.bound})" if bound is not None else "—"
        ratio = f"{value / bound:.2f}×" if bound else "—"
        lines.append(f"| {row.label} | {target} | **{_num(value)} {row.unit}**{met} | {shown} | {ratio} |")
    return lines


def _num(value: float) -> str:
    """1,234 for hundreds and more, 12.3 / 1.23 below."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    return (f"{platform.node()}: {cpu}, {os.cpu_count()} cores, Linux {platform.release()}, "
            f"Python {platform.python_version()}, {date.today().isoformat()}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Every bench, one table with targets and the machine's bounds.")
    parser.add_argument("--pin", default="0", help="the core the one-core runs are pinned to; '' skips them")
    parser.add_argument("--only", choices=sorted(RUNS), action="append", help="run only these benches (and bounds)")
    args = parser.parse_args()
    runs = {k: v for k, v in RUNS.items()
            if not args.only or k.removesuffix("_in_memory") in args.only or k == "bounds"}
    pinned_runs = dict(PINNED_RUNS)
    if not Path("/dev/shm").is_dir():  # no memory-backed directory: the in-memory runs are left out
        runs.pop("issue_in_memory", None)
        pinned_runs.pop("issue_in_memory", None)
    figures = run_all(runs, None)
    pinned: dict[str, Any] = {}
    if args.pin and shutil.which("taskset"):
        pinned = run_all(pinned_runs, args.pin)
    print(f"\n{machine()}\n")
    print("\n".join(table(ROWS, figures)))
    if pinned:
        print(f"\nPinned to one core (`taskset -c {args.pin}`: the benches, their broker, hub and collector share it), "
              "as a stand-in for a Raspberry Pi's core:\n")
        print("\n".join(table(PINNED_ROWS, pinned)))


if __name__ == "__main__":
    main()
