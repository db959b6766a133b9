# The chaos run's faults: what each does to the ward, and a seeded schedule of them over the simulated day.
from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from devkit.hostile import flood, raw_client

if TYPE_CHECKING:
    from devkit.chaos import ChaosWard

# faults of the real kiosk alone (its name: REAL_KIOSK)
KIOSK_FAULTS = ("paper_out", "kiosk_file_damaged", "kiosk_disk_full")
REAL_KIOSK = "kiosk-1"
KINDS = ("broker_restart", "hub_kill", "power_cut", "upstream_down", "hostile_flood", "paper_out",
         "kiosk_file_damaged", "kiosk_disk_full", "clock_jump", "unit_unplugged")
PAST_MIDNIGHT_S = 600.0  # where the wall clock of the ward's machines jumps to: this far into the next day


@dataclass(frozen=True)
class Fault:
    at_h: float  # simulated hours after the ward opens
    kind: str
    down_s: float  # real seconds the fault lasts before the ward is given back what it lost

    def describe(self) -> str:
        return f"{self.kind} at +{int(self.at_h)}h{int(self.at_h % 1 * 60):02d} for {self.down_s:.1f} s"


def schedule(seed: int, hours: float, count: int, kinds: tuple[str, ...] = KINDS) -> list[Fault]:
    """`count` faults at seeded random times, every kind at least once when `count` allows, none in the first or
    last tenth of the day (the ward settles in; the invariants are checked on a ward that had time to recover)."""
    rng = random.Random(seed)
    chosen = list(kinds[:count]) + [rng.choice(kinds) for _ in range(max(0, count - len(kinds)))]
    rng.shuffle(chosen)
    times = sorted(rng.uniform(0.1 * hours, 0.85 * hours) for _ in chosen)
    lasting = {"upstream_down": (4.0, 8.0), "hostile_flood": (1.0, 2.0), "paper_out": (2.0, 5.0),
               "clock_jump": (3.0, 6.0), "kiosk_disk_full": (2.0, 5.0), "unit_unplugged": (1.0, 4.0)}
    return [Fault(at, kind, round(rng.uniform(*lasting.get(kind, (0.5, 2.0))), 1)) for at, kind in zip(times, chosen,
                                                                                                       strict=True)]


def apply(fault: Fault, ward: ChaosWard) -> None:
    """Does the fault, waits out its length, then gives back what it took (as the ward's power, ward IT or systemd
    would: processes restart, the link comes back)."""
    ACTIONS[fault.kind](ward, fault.down_s)


def _broker_restart(ward: ChaosWard, down_s: float) -> None:
    ward.broker.kill()
    time.sleep(down_s)
    ward.broker.start()


def _hub_kill(ward: ChaosWard, down_s: float) -> None:
    ward.hub.kill()  # kill -9: no clean-up, a batch may be half done
    _meanwhile(ward, down_s)  # systemd's RestartSec
    ward.hub.start()


def _meanwhile(ward: ChaosWard, down_s: float) -> None:
    """While the hub is down: somebody takes a ticket at the real kiosk (its offline path), then the wait goes on."""
    began = time.monotonic()
    if ward.kiosk is not None:
        ward.kiosk.citizen()
    time.sleep(max(0.0, down_s - (time.monotonic() - began)))


def _power_cut(ward: ChaosWard, down_s: float) -> None:
    """Every process of the ward's machines at once, with kill -9: the hub's machine (hub, broker, board, console,
    notifier), counter 1's bridge, counter 2's rating keypad, the real kiosk (a citizen may be at its screen, a
    ticket half printed); then they come back in boot order. A citizen who comes meanwhile finds the kiosk dark."""
    if ward.kiosk is not None:
        ward.kiosk.power_off()
    for proc in (ward.hub, ward.collector, ward.board, ward.console, ward.notify, ward.bridge.process,
                 ward.rating.process):
        proc.kill()
    ward.broker.kill()
    ward.upstream.kill()
    _meanwhile(ward, down_s)
    ward.broker.start()
    ward.upstream.start()
    for proc in (ward.hub, ward.collector, ward.board, ward.console, ward.notify, ward.bridge.process,
                 ward.rating.process):
        proc.start()
    if ward.kiosk is not None:
        ward.kiosk.power_on()


def _upstream_down(ward: ChaosWard, down_s: float) -> None:
    """The district's link is gone (its broker unreachable); the ward must keep working and forward it all later."""
    ward.upstream.kill()
    time.sleep(down_s)
    ward.upstream.start()


def _hostile_flood(ward: ChaosWard, down_s: float) -> None:
    """Garbage on every topic of the ward for `down_s` seconds, as a broken or hostile device would send."""
    client = raw_client(ward.broker.port, "chaos-attacker")
    topics = [f"motcua/v1/{ward.name}/{t}" for t in ("ticket/request", "ticket/confirm", "ticket/offline", "rating",
                                                     "counter/1/command", "admin/request", "stats/request",
                                                     "ticket/lookup", "board/state", "device/hub/state",
                                                     "reply/kiosk-sim-1")]
    deadline = time.monotonic() + down_s
    sent = 0
    while time.monotonic() < deadline:
        sent += flood(client, topics, 200, seed=sent)
    client.loop_stop()
    client.disconnect()
    ward.flooded += sent


def _paper_out(ward: ChaosWard, down_s: float) -> None:
    """The real kiosk's roll runs out; staff refill it `down_s` seconds later."""
    if ward.kiosk is not None:
        ward.kiosk.paper_out(down_s)


def _kiosk_file_damaged(ward: ChaosWard, down_s: float) -> None:
    """The real kiosk loses power and comes back with a damaged numbering file."""
    if ward.kiosk is not None:
        ward.kiosk.damaged_restart(down_s)


def _kiosk_disk_full(ward: ChaosWard, down_s: float) -> None:
    """The real kiosk's data disk is full for `down_s` seconds."""
    if ward.kiosk is not None:
        ward.kiosk.disk_full(down_s)


def _unit_unplugged(ward: ChaosWard, down_s: float) -> None:
    """Counter 1's serial units (the C firmware's rating keypad and LED display) lose their cables for a while."""
    ward.bridge.unplug(down_s)


def _clock_jump(ward: ChaosWard, down_s: float) -> None:
    """The wall clock of the ward's machines (hub, board, collector) jumps into the next day, then back `down_s`
    seconds later: as a Pi's does when NTP reaches it mid-morning after it booted on the evening's saved time, or
    someone sets it by hand. Citizens wait meanwhile, so the hub stays on its day (docs/queue.md)."""
    tz = ZoneInfo(ward.timezone)
    now = datetime.now(tz)
    to_midnight = (datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tz) - now).total_seconds()
    offset = to_midnight + PAST_MIDNIGHT_S
    began = time.time()
    ward.clock.set(offset)
    time.sleep(down_s)
    ward.clock.set(0)
    ward.clock_jumps.append((began, time.time(), offset))


ACTIONS: dict[str, Callable[[ChaosWard, float], None]] = {
    "broker_restart": _broker_restart, "hub_kill": _hub_kill, "power_cut": _power_cut,
    "upstream_down": _upstream_down, "hostile_flood": _hostile_flood, "paper_out": _paper_out,
    "kiosk_file_damaged": _kiosk_file_damaged, "kiosk_disk_full": _kiosk_disk_full, "clock_jump": _clock_jump,
    "unit_unplugged": _unit_unplugged,
}
