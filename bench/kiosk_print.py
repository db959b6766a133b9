# Bench: kiosk tap -> print job written (real broker, hub process, file printer), job size, kiosk RSS, start time.
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import psutil  # noqa: E402
import pygame  # noqa: E402

from bench.figures import as_installed, emit
from bus.config import BrokerSection  # noqa: E402
from bus.estimate import quantile  # noqa: E402
from devkit.broker import Broker  # noqa: E402
from devkit.configs import write_hub_config, write_kiosk_config  # noqa: E402
from devkit.processes import RoleProcess  # noqa: E402
from kiosk.config import load_kiosk  # noqa: E402
from kiosk.core import KioskCore  # noqa: E402
from kiosk.printing import make_printer  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402
from provisioning.fleet import wait_online  # noqa: E402


def tap_to_print(app: KioskApp, printed: Path, service: str) -> tuple[float, int]:
    """Posts a tap on a one-procedure service tile and steps the app until the job file is complete."""
    before = set(printed.iterdir())
    x, y = app.button(f"service:{service}").rect.center
    started = time.perf_counter()
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(x, y), touch=False))
    while app.view.name != "ticket":
        app.step()
        time.sleep(0.002)  # the real loop sleeps between frames; a busy loop would starve the worker thread
        if app.view.name == "problem" or time.perf_counter() - started > 10:
            raise SystemExit(f"no ticket: view {app.view.name}, outcome {app.view.outcome}")
    elapsed = time.perf_counter() - started
    new = set(printed.iterdir()) - before
    size = sum(p.stat().st_size for p in new)
    app.act("done")
    app.step()
    return elapsed, size


def start_time(config: Path, log: Path, runs: int) -> list[float]:
    """`motcua kiosk run` as a process: seconds from spawn until it logs that its first screen is up."""
    times = []
    for _ in range(runs):
        with open(log, "wb") as out:
            started = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "provisioning", "kiosk", "run", "--config", str(config)],
                                    stdout=out, stderr=subprocess.STDOUT)
        while b"kiosk ready" not in log.read_bytes():
            if proc.poll() is not None or time.perf_counter() - started > 30:
                raise SystemExit(f"kiosk did not start: {log.read_text()}")
            time.sleep(0.01)
        times.append(time.perf_counter() - started)
        proc.terminate()
        proc.wait(10)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description="Kiosk tap-to-print latency, job size, memory and start time.")
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    as_installed()
    with tempfile.TemporaryDirectory() as tmp, Broker(Path(tmp), kind="mosquitto") as broker:
        hub = RoleProcess("hub", write_hub_config(tmp, broker.port), Path(tmp) / "hub.log").start()
        try:
            wait_online(BrokerSection(port=broker.port), "demo-ward", "hub", alive=hub.check_alive)
            path = write_kiosk_config(tmp, broker.port, "kiosk-1", printer_backend="file")
            config, section, printer_cfg, _ = load_kiosk(str(path))
            core = KioskCore(config, section, printer_cfg, make_printer(printer_cfg))
            core.start()
            while not (core.services and core.hub_ok):
                time.sleep(0.01)
            app = KioskApp(core, section, size=(1024, 600))
            app.step()
            printed = config.data_dir / "printed"
            for _ in range(10):
                tap_to_print(app, printed, "KD")
            results = [tap_to_print(app, printed, "KD" if i % 2 else "XH") for i in range(args.tickets)]
            rss = psutil.Process().memory_info().rss / 2**20
            app.close()
            core.stop()
            other = write_kiosk_config(tmp, broker.port, "kiosk-2", block=2, printer_backend="file")
            starts = start_time(other, Path(tmp) / "kiosk-2.log", args.starts)
        finally:
            hub.stop()
    ms = sorted(r[0] * 1000 for r in results)
    sizes = [r[1] for r in results]
    print("kiosk: tap -> ticket job fully written (mosquitto, hub process, file printer with fsync)")
    print(f"  {len(ms)} tickets: p50 {quantile(ms, .5):.1f} ms, p95 {quantile(ms, .95):.1f} ms, "
          f"max {ms[-1]:.1f} ms")
    print(f"  job size: {min(sizes) / 1024:.1f}-{max(sizes) / 1024:.1f} KB")
    print(f"  kiosk RSS (UI, bus, printer, this bench): {rss:.1f} MB")
    print(f"  process start -> first screen: {', '.join(f'{s:.2f}' for s in starts)} s "
          f"(median {sorted(starts)[len(starts) // 2]:.2f} s)")
    emit({"ticket_job_kb": max(sizes) / 1024, "kiosk_tap_print_p95_ms": quantile(ms, .95)})


if __name__ == "__main__":
    main()
