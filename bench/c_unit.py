# Bench: a key on the C firmware unit -> the hub's answer shown on it (real broker, hub and bridge processes), RSS.
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psutil

from bus.config import BrokerSection
from devkit.broker import Broker
from devkit.c_unit import CUnit, build
from devkit.configs import write_bridge_config, write_hub_config
from devkit.processes import RoleProcess
from hub.estimate import quantile
from provisioning.fleet import wait_online


def press_to_answer(unit: CUnit, key: int, timeout: float = 10.0) -> float:
    """Seconds from the key reaching the unit's firmware until the hub's answer lights its LED."""
    before = len(unit.feedback)
    started = time.perf_counter()
    unit.press(key)
    while len(unit.feedback) == before:
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"no answer to key {key}")
        time.sleep(0.0002)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description="C unit key -> hub answer latency through the bridge; bridge RSS.")
    parser.add_argument("--presses", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Broker(Path(tmp), kind="mosquitto") as broker:
        folder = Path(tmp)
        program = build(folder)
        unit = CUnit(program, "counter_keypad", folder, "keys1", serial_no="BENCH01").plug()
        hub = RoleProcess("hub", write_hub_config(folder, broker.port), folder / "hub.log").start()
        config = write_bridge_config(folder, broker.port, [{"port": str(unit.path), "kind": "counter_keypad",
                                                            "counter": 1, "hold_off_s": 0.2}])
        bridge = RoleProcess("bridge", config, folder / "bridge.log", command=("run",)).start()
        try:
            ward = BrokerSection(port=broker.port)
            wait_online(ward, "demo-ward", "hub", alive=hub.check_alive)
            wait_online(ward, "demo-ward", "bridge-1", alive=bridge.check_alive)
            for _ in range(10):  # open the counter, once the unit is ready behind the bridge
                try:
                    press_to_answer(unit, 7, timeout=3)
                    break
                except TimeoutError:
                    time.sleep(1.1)  # past the key's hold-off
            else:
                raise SystemExit("the unit never answered behind the bridge")
            times = []
            for i in range(args.presses):  # call next and recall in turn, each key once per 0.24 s (its hold-off)
                times.append(press_to_answer(unit, 1 + i % 2))
                time.sleep(max(0.0, 0.12 - times[-1]))
            assert bridge.proc is not None
            rss = psutil.Process(bridge.proc.pid).memory_info().rss / 2**20
        finally:
            bridge.stop()
            hub.stop()
            unit.close()
    ms = sorted(t * 1000 for t in times)
    print(f"C unit key -> hub answer on the unit ({len(ms)} presses): p50 {quantile(ms, 0.5):.1f} ms, "
          f"p95 {quantile(ms, 0.95):.1f} ms, max {ms[-1]:.1f} ms; bridge RSS {rss:.1f} MB")


if __name__ == "__main__":
    main()
