# Bench: the board - call published -> frame showing it, idle CPU with the notice scrolling, resident memory.
from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import psutil  # noqa: E402
import pygame  # noqa: E402

from bench.figures import as_installed, emit
from bus.client import BusClient  # noqa: E402
from bus.config import BrokerSection  # noqa: E402
from bus.estimate import quantile  # noqa: E402
from devkit import samples  # noqa: E402
from devkit.broker import Broker  # noqa: E402
from devkit.configs import write_display_config  # noqa: E402
from display.config import load_display  # noqa: E402
from display.service import BoardService  # noqa: E402

STATE = {"day": "2026-11-23", "ward_vi": "Phường Mẫu", "notice": "Công dân vui lòng chuẩn bị giấy tờ trước.",
         "counters": [{"counter": c, "status": "open", "name_vi": f"Quầy {c}"} for c in range(1, 5)],
         "recent": [], "waiting": []}


def calls_to_frames(service: BoardService, feeder: BusClient, calls: int, first: int,
                    wait: Callable[[], object]) -> list[float]:
    """Publishes `calls` calls 0.25 s apart while the screen loop runs with `wait` between frames; each call's
    milliseconds from publishing to the frame that shows it."""
    sent: dict[str, float] = {}
    stop = threading.Event()

    def publish() -> None:
        time.sleep(1.0)
        for i in range(first, first + calls):
            label = f"A{i:03d}"
            sent[f"{1 + i % 4}:{label}"] = time.monotonic()
            feeder.send(feeder.topics.ticket_event, "ticket.event", samples.call(label, 1 + i % 4))
            time.sleep(0.25)
        stop.set()

    threading.Thread(target=publish, daemon=True).start()
    while not stop.is_set():
        service.step()
        wait()
    for _ in range(40):
        service.step()
        wait()
    return sorted((service.board.shown[k] - t) * 1000 for k, t in sent.items() if k in service.board.shown)


def main() -> None:
    parser = argparse.ArgumentParser(description="Board latency, idle CPU and memory.")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle measurement")
    args = parser.parse_args()
    as_installed()
    with tempfile.TemporaryDirectory() as tmp, Broker(Path(tmp), kind="mosquitto") as broker:
        config, display, voice, audio = load_display(str(write_display_config(tmp, broker.port, audio="none")))
        service = BoardService(config, display, dataclasses.replace(voice, speak=False), audio, size=(1920, 1080))
        feeder = BusClient(BrokerSection(port=broker.port), "demo-ward", "bench-hub", "hub")
        feeder.start()
        feeder.wait_connected(10)
        feeder.send(feeder.topics.board_state, "board.state", STATE, retain=True)
        service.start()
        clock = pygame.time.Clock()
        ticked = calls_to_frames(service, feeder, args.calls, 0, lambda: clock.tick(display.fps))  # the old loop
        paced = calls_to_frames(service, feeder, args.calls, args.calls, service.pace)  # the service's own loop
        time.sleep(display.highlight_s + 1)  # let the last call stop blinking: the board is idle
        proc = psutil.Process()
        cpu0, wall0 = proc.cpu_times(), time.monotonic()
        while time.monotonic() - wall0 < args.idle:
            service.step()
            service.pace()
        cpu1 = proc.cpu_times()
        idle_cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (time.monotonic() - wall0) * 100
        rss = proc.memory_info().rss / 2**20
        service.stop()
        feeder.stop()
    print(f"board at 1920x1080, {display.fps} fps loop, SDL dummy driver, mosquitto")
    for name, latencies in (("waiting for the next tick (before)", ticked), ("woken by the call (now)", paced)):
        print(f"  call published -> frame showing it, {name} ({len(latencies)} of {args.calls} calls): "
              f"p50 {quantile(latencies, .5):.1f} ms, p95 {quantile(latencies, .95):.1f} ms, "
              f"max {latencies[-1]:.1f} ms")
    print(f"  idle CPU with the notice scrolling: {idle_cpu:.1f} % of one core over {args.idle:.0f} s")
    print(f"  board RSS: {rss:.1f} MB")
    emit({"board_call_frame_p95_ms": quantile(paced, .95), "board_idle_cpu_pct": idle_cpu,
          "board_frame_period_ms": 1000 / display.fps})


if __name__ == "__main__":
    main()
