# Bench: how long a device takes to stop (systemd's stop, an update's restart): hub, kiosk, collector, console.
from __future__ import annotations

import argparse
import http.client
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bus.config import BrokerSection
from console.accounts import Accounts
from console.config import load_console
from console.main import ConsoleService
from devkit.broker import Broker, free_port
from devkit.configs import write_console_config, write_district_config, write_hub_config, write_kiosk_config
from district.collector import Collector
from district.config import load_district
from hub.config import load_hub
from hub.service import HubService
from kiosk.config import load_kiosk
from kiosk.core import KioskCore
from kiosk.printing.fake import FakePrinter
from provisioning.fleet import wait_online

WARD = "demo-ward"


def _wait(predicate: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + 10
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)


def _timed_stop(service: Any, idle_s: float) -> float:
    time.sleep(idle_s)  # a device at rest, as systemd finds it: its threads in their waits
    began = time.perf_counter()
    service.stop()
    return (time.perf_counter() - began) * 1000


def one_round(folder: Path, port: int, idle_s: float) -> dict[str, float]:
    """Starts a hub, a kiosk beside it, a collector and a console with a phone page open on the same broker, then
    stops each in turn: ms each."""
    config, section = load_hub(str(write_hub_config(folder, port)))
    hub = HubService(config, section)
    hub.start()
    wait_online(BrokerSection(port=port), WARD, config.device.id, timeout=10)
    k_config, k_section, printer_cfg, _ = load_kiosk(str(write_kiosk_config(folder, port, printer_backend="fake")))
    kiosk = KioskCore(k_config, k_section, printer_cfg, FakePrinter())
    kiosk.start()
    _wait(lambda: kiosk.services and kiosk.hub_ok, "the kiosk to learn the services")
    d_config, d_section = load_district(write_district_config(folder, port, [WARD]))
    collector = Collector(d_config, d_section)
    collector.start()
    _wait(collector.bus.connected.is_set, "the collector to connect")
    console, page = _console_with_a_page(folder, port, kiosk)
    times = {"kiosk": _timed_stop(kiosk, idle_s), "collector": _timed_stop(collector, idle_s),
             "console": _timed_stop(console, idle_s), "hub": _timed_stop(hub, idle_s)}
    page.close()
    return times


def _console_with_a_page(folder: Path, port: int, kiosk: KioskCore) -> tuple[ConsoleService, Any]:
    """A console and one phone page following a ticket live (its stream open, as a citizen's phone keeps it)."""
    path = write_console_config(folder, port, free_port())
    config, section = load_console(str(path))
    Accounts(config.data_dir / section.accounts).close()
    console = ConsoleService(str(path))
    console.start()
    token = kiosk.take_ticket("HT").ticket["token"]
    page = http.client.HTTPConnection("127.0.0.1", section.port, timeout=10)
    page.request("GET", f"/t/{token}/live")
    answer = page.getresponse()
    while not answer.readline().startswith(b"data:"):
        pass
    _wait(lambda: console.followers.following == 1, "the page to be followed")
    return console, page


def main() -> None:
    parser = argparse.ArgumentParser(description="How long a hub, a kiosk, a collector and a console take to stop.")
    parser.add_argument("--runs", type=int, default=9, help="rounds; the median is reported")
    parser.add_argument("--idle", type=float, default=0.7, help="seconds each device rests before it is stopped")
    args = parser.parse_args()
    logging.getLogger("bus").setLevel(logging.ERROR)
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp) / "broker", kind="mosquitto").start()
        try:
            for k in range(args.runs):
                rounds.append(one_round(Path(tmp) / f"round-{k}", broker.port, args.idle))
        finally:
            broker.stop()
    print(f"a device's stop() from rest ({args.idle} s idle), median of {args.runs} rounds, ms:")
    for role in ("hub", "kiosk", "collector", "console"):
        times = [r[role] for r in rounds]
        print(f"  {role:<10} median {statistics.median(times):7.1f}  slowest {max(times):7.1f}")


if __name__ == "__main__":
    main()
