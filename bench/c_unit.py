# Bench: a key on the C firmware unit -> the hub's answer shown on it (real broker, hub and bridge), RSS, replug time.
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psutil

from bench.figures import as_installed, emit
from bus.config import BrokerSection
from bus.estimate import quantile
from devkit.broker import Broker
from devkit.c_unit import CUnit, build
from devkit.configs import write_bridge_config, write_hub_config
from devkit.processes import RoleProcess
from provisioning.fleet import FleetWatch, wait_online


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


def replug_to_ready(unit: CUnit, ward: BrokerSection, times: int) -> list[float]:
    """Seconds from plugging the unit back in (its program started again on the same path) until the bridge's
    state says the unit is ready, after each of `times` unplugs."""
    def unit_state(watch: FleetWatch) -> str:
        msg = watch.states.get("bridge-1")
        units = (msg.body.get("detail") or {}).get("units", []) if msg else []
        return units[0].get("state", "") if units else ""

    found = []
    with FleetWatch(ward, "demo-ward") as watch:
        for _ in range(times):
            unit.unplug()
            deadline = time.monotonic() + 10
            while unit_state(watch) == "ready" and time.monotonic() < deadline:
                time.sleep(0.01)
            started = time.perf_counter()
            unit.plug()
            while unit_state(watch) != "ready":
                if time.perf_counter() - started > 10:
                    raise SystemExit("the unit did not come back within 10 s")
                time.sleep(0.005)
            found.append(time.perf_counter() - started)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="C unit key -> hub answer latency through the bridge; bridge RSS.")
    parser.add_argument("--presses", type=int, default=300)
    parser.add_argument("--replugs", type=int, default=5)
    args = parser.parse_args()
    as_installed()
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
            back = replug_to_ready(unit, ward, args.replugs)
        finally:
            bridge.stop()
            hub.stop()
            unit.close()
    ms = sorted(t * 1000 for t in times)
    print(f"C unit key -> hub answer on the unit ({len(ms)} presses): p50 {quantile(ms, 0.5):.1f} ms, "
          f"p95 {quantile(ms, 0.95):.1f} ms, max {ms[-1]:.1f} ms; bridge RSS {rss:.1f} MB")
    print(f"unplugged and plugged back in {len(back)} times: ready again after "
          f"{', '.join(f'{s:.2f}' for s in back)} s (median {quantile(sorted(back), 0.5):.2f} s)")
    emit({"unit_press_p95_ms": quantile(ms, 0.95), "bridge_rss_mb": rss, "unit_replug_s": quantile(sorted(back), 0.5)})


if __name__ == "__main__":
    main()
