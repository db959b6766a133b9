# `motcua chaos`: a ward's compressed working day with faults on a seeded schedule, then its invariants checked.
from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import psutil

from bus.client import BusClient
from bus.config import BrokerSection
from console.accounts import Accounts
from console.config import load_console
from devkit import chaos_faults
from devkit.broker import Broker, free_port
from devkit.chaos_bridge import ChaosBridge
from devkit.chaos_console import ConsoleOfficer
from devkit.chaos_day import OPEN_H, Arrivals
from devkit.chaos_kiosk import DrivenKiosk
from devkit.chaos_rating import COUNTER as RATING_COUNTER
from devkit.chaos_rating import GpioRating
from devkit.chaos_report import Observations, Sample, check, print_table
from devkit.clockshift import ClockShift
from devkit.configs import (
    add_upstream,
    write_console_config,
    write_display_config,
    write_district_config,
    write_hub_config,
    write_notify_config,
)
from devkit.demo import WARD, drain_upstream
from devkit.demo_bridge import COUNTER as BRIDGE_COUNTER
from devkit.processes import RoleProcess
from devkit.simulate import SERVICE_MIX, SimCounter, SimKiosk, Tally
from firmware_bridge.led_display import CLOSED, display_text
from notify.gateways.fake import FakeGateway, Options
from provisioning.fleet import wait_online

PASSWORD = "mật-khẩu-quầy-trong-ngày-hỗn-loạn"  # the console officers' accounts


@dataclass(frozen=True)
class ChaosOptions:
    seed: int = 1
    hours: float = OPEN_H  # simulated ward hours to run
    speed: float = 300.0  # ward seconds per real second
    citizens: int = 1100  # arrivals over a whole day (the profile has a morning and an after-lunch peak)
    kiosks: int = 2  # simulated ones; one real kiosk (its core, the fake printer) runs besides them
    counters: int = 10
    console_counters: int = 2  # the last ones, worked by officers through the web console's pages
    faults: int = 10  # every kind (ten) once
    kinds: tuple[str, ...] = chaos_faults.KINDS
    workdir: Path = Path("chaos-ward")


class ChaosKiosk(SimKiosk):
    """A simulated kiosk whose citizens follow the day's arrival profile; keeps the time of every attempt and
    whether a ticket came of it, for the longest time the kiosk could not issue."""

    def __init__(self, *args: Any, opened: float, citizens: float, **kw: Any) -> None:
        super().__init__(*args, arrivals_per_hour=1.0, **kw)
        self.arrivals = Arrivals(citizens, opened, self.speed, self.rng)
        self.attempts: list[tuple[float, bool, bool]] = []  # (time, a ticket came of it, numbered by the hub)

    def act(self) -> None:
        while not self.pause(self.arrivals.gap()):
            if self.arrivals.comes():
                reply = self.ask()
                issued = reply is not None and reply.type == "ticket.issued"
                self.attempts.append((time.monotonic(), issued, issued))


@dataclass
class ChaosWard:
    """The ward's processes, as the faults reach them."""

    name: str
    broker: Broker
    upstream: Broker
    hub: RoleProcess
    collector: RoleProcess
    board: RoleProcess
    clock: ClockShift
    console: RoleProcess  # the web console and the notifier live on the hub's machine: a power cut takes them too
    notify: RoleProcess
    bridge: ChaosBridge  # counter 1's serial units on the C firmware
    rating: GpioRating  # counter 2's GPIO rating keypad
    timezone: str = "Asia/Ho_Chi_Minh"  # the hub's, for where its day ends
    kiosk: DrivenKiosk | None = None
    flooded: int = 0
    clock_jumps: list[tuple[float, float, float]] = field(default_factory=list)  # (began, ended, offset s)
    faults_done: list[tuple[chaos_faults.Fault, float, float]] = field(default_factory=list)  # (fault, began, ended)


def run_chaos(opts: ChaosOptions, out: TextIO = sys.stdout) -> Observations:
    """Runs the day, with its faults, and returns what was observed; `check` turns it into the invariants."""
    work = opts.workdir
    work.mkdir(parents=True, exist_ok=True)
    broker = Broker(work, kind="mosquitto").start()
    upstream = Broker(work / "district", kind="mosquitto").start()
    clock = ClockShift(work / "clock")  # the ward's machines' wall clock, for the clock jumps
    collector = RoleProcess("district", write_district_config(work, upstream.port, [WARD]), work / "collector.log",
                            command=("district", "run"), env=clock.env()).start()
    hub_config = add_upstream(_more_counters(write_hub_config(work, broker.port), opts.counters), upstream.port,
                              retry_s=1.0, stats_interval_s=5)
    hub = RoleProcess("hub", hub_config, work / "hub.log", env=clock.env()).start()
    section = BrokerSection(port=broker.port)
    wait_online(section, WARD, "hub", timeout=20, alive=hub.check_alive)
    board = RoleProcess("display", write_display_config(work, broker.port), work / "board.log", command=("run",),
                        env={"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1",
                             **clock.env()}).start()
    http = free_port()
    console = RoleProcess("console", _console_config(work, broker.port, http, opts), work / "console.log",
                          command=("run",), env=clock.env()).start()
    notify = RoleProcess("notify", write_notify_config(work, broker.port), work / "notify.log", command=("run",),
                         env=clock.env()).start()
    bridge = ChaosBridge(work, broker.port, clock.env()).start()
    rating = GpioRating(work, broker.port, {}).start()
    ward = ChaosWard(WARD, broker, upstream, hub, collector, board, clock, console, notify, bridge, rating)
    watch = BusClient(section, WARD, "chaos-board-watch", "display")  # what reaches the board, and when
    board_states: list[float] = []
    watch.subscribe(watch.topics.board_state, lambda m, t: board_states.append(time.time()))
    watch.start()
    faults = chaos_faults.schedule(opts.seed, opts.hours, opts.faults, opts.kinds)
    print(f"motcua chaos: seed {opts.seed}, {opts.hours:g} ward hours at {opts.speed:g}x "
          f"({opts.hours * 3600 / opts.speed:.0f} s), {len(faults)} faults; files in {work}/", file=out, flush=True)
    stop, tally, opened = threading.Event(), Tally(), time.monotonic()
    share = opts.citizens / (opts.kiosks + 1)
    kiosks = [ChaosKiosk(f"kiosk-sim-{i}", section, WARD, "kiosk", opts.speed, opts.seed * 100 + i, stop, tally,
                         opened=opened, citizens=share) for i in range(1, opts.kiosks + 1)]
    ward.kiosk = DrivenKiosk(work, broker.port, share, opened, opts.speed, opts.seed, stop)
    keypads = {BRIDGE_COUNTER: bridge.press, RATING_COUNTER: rating.press}  # the rest rate on the bus
    at_console = range(opts.counters - opts.console_counters + 1, opts.counters + 1)
    counters: list[threading.Thread] = [
        SimCounter(f"counter-sim-{c}", section, WARD, "bridge", opts.speed, opts.seed * 1000 + c, stop, tally,
                   outbox=work / f"counter-{c}.outbox", counter=c, keypad=keypads.get(c))
        for c in range(1, at_console.start)]
    officers = [ConsoleOfficer(f"http://127.0.0.1:{http}", f"officer-{c}", PASSWORD, c, opts.speed,
                               opts.seed * 1000 + c, stop) for c in at_console]
    samples: list[Sample] = []
    try:
        for actor in (*kiosks, *counters, *officers, ward.kiosk):
            actor.start()
        _day(opts, ward, faults, opened, samples, out)
    finally:
        stop.set()
        for actor in (*kiosks, *counters, *officers, ward.kiosk):
            actor.join(10)
    left = ward.kiosk.drain(60)  # the offline tickets it printed reach the hub
    ward.kiosk.close()
    _board_caught_up(work / "hub" / "hub.db", board_states, timeout=10)  # the last calls, still in flight at the end
    watch.stop()
    time.sleep(1.0)  # the texts of the last calls leave the notifier; the display shows the last call
    units = _units(work / "hub" / "hub.db", bridge)
    gpio = {"presses": rating.presses, "lost": rating.lost}
    alive = {name: proc.proc is not None and proc.proc.poll() is None
             for name, proc in (("hub", hub), ("collector", collector), ("board", board), ("console", console),
                                ("notifier", notify))}
    alive.update({"broker": broker.running, "upstream broker": upstream.running})
    try:
        drain_upstream(section, hub, timeout=60)
        time.sleep(6)  # the hub's next day statistics (every 5 s) reach the district
    finally:
        for proc in (board, console, notify):
            proc.stop()
        bridge.stop()
        rating.stop()
        hub.stop()
        collector.stop()
        upstream.stop()
        broker.stop()
    attempts = {k.name: k.attempts for k in (*kiosks, ward.kiosk)}
    return Observations(work / "hub" / "hub.db", work / "district" / "district.db", tally, attempts,
                        ward.faults_done, samples, alive, ward.flooded, ward.kiosk.printed, left, ward.kiosk.problems,
                        board_states, ward.clock_jumps, {o.counter: (o.calls, dict(o.answers)) for o in officers},
                        ward.kiosk.subscribed, FakeGateway(work / "notify-1" / Options().path).sent(),
                        ward.kiosk.disk_was_full, units, ward.kiosk.cut_mid_ticket, ward.kiosk.starts, gpio,
                        phones_in_the_dark=ward.kiosk.phones_in_the_dark)


def _units(hub_db: Path, bridge: ChaosBridge) -> dict[str, Any]:
    """Counter 1's serial units at the end: the keypad's presses (and those lost to a pulled cable), what the hub
    says the counter's display should show (the number it serves, blank or '--') and what the LED display showed
    last, once it had a few seconds to catch up."""
    with closing(sqlite3.connect(f"file:{hub_db}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT c.status, t.label FROM counters c LEFT JOIN tickets t ON t.id = c.ticket_id "
                         "WHERE c.id = ?", (BRIDGE_COUNTER,)).fetchone()
    expected = display_text(*row) if row else CLOSED
    deadline = time.monotonic() + 5
    while bridge.display.shown[-1:] != [expected] and time.monotonic() < deadline:
        time.sleep(0.1)
    return {"presses": bridge.presses, "lost": bridge.lost, "expected": expected,
            "shown": bridge.display.shown[-3:], "answers": len(bridge.keypad.feedback)}


def _console_config(work: Path, port: int, http: int, opts: ChaosOptions) -> Path:
    """The console's config on loopback `http`, with an officer's account for each counter worked at it."""
    path = write_console_config(work, port, http)
    config, section = load_console(str(path))
    accounts = Accounts(config.data_dir / section.accounts)
    for c in range(opts.counters - opts.console_counters + 1, opts.counters + 1):
        accounts.add(f"officer-{c}", f"Cán bộ quầy {c}", "officer", PASSWORD, (c,))
    accounts.close()
    return path


def _board_caught_up(hub_db: Path, board_states: list[float], timeout: float) -> None:
    """Waits until a board state has followed the hub's last call: commands sent just before the day's end are
    committed after it, and their board state (at most BOARD_INTERVAL later) must be watched, not cut off."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with closing(sqlite3.connect(f"file:{hub_db}?mode=ro", uri=True)) as db:
            last = db.execute("SELECT MAX(at) FROM events WHERE kind IN ('called', 'recalled')").fetchone()[0]
        if last is None or (board_states and board_states[-1] >= last):
            return
        time.sleep(0.2)


def _more_counters(hub_config: Path, count: int) -> Path:
    """The demo ward's hub config (four counters) with counters 5 to `count` added, each serving every service."""
    services = ", ".join(f'"{code}"' for code in SERVICE_MIX)
    with open(hub_config, "a", encoding="utf-8") as out:
        for c in range(5, count + 1):
            out.write(f'\n[[hub.counters]]\nid = {c}\nname_vi = "Quầy {c}"\nname_en = "Counter {c}"\n'
                      f"services = [{services}]\n")
    return hub_config


def _day(opts: ChaosOptions, ward: ChaosWard, faults: list[chaos_faults.Fault], opened: float,
         samples: list[Sample], out: TextIO) -> None:
    """Runs the ward until the day's end and every fault has been applied, each at its ward time (or as soon as the
    one before has ended), sampling every process's resources twice a second meanwhile — faults included: in a short
    day they run back to back, and a sampler that waited for a quiet moment would see only the first seconds."""
    end = opened + opts.hours * 3600 / opts.speed
    pending = list(faults)
    done = threading.Event()
    sampler = threading.Thread(target=_sampling, args=(ward, samples, done), name="sampler", daemon=True)
    sampler.start()
    try:
        while (now := time.monotonic()) < end or pending:  # a fault that ran late still runs
            hour = (now - opened) * opts.speed / 3600
            if pending and hour >= pending[0].at_h:
                fault = pending.pop(0)
                print(f"  +{hour:5.2f}h {fault.describe()}", file=out, flush=True)
                began = time.monotonic()
                chaos_faults.apply(fault, ward)
                ward.faults_done.append((fault, began, time.monotonic()))
                continue
            time.sleep(0.1)
    finally:
        done.set()
        sampler.join(5)


def _sampling(ward: ChaosWard, samples: list[Sample], done: threading.Event) -> None:
    while not done.wait(0.5):
        samples.extend(_sample(ward, time.monotonic()))


def _sample(ward: ChaosWard, now: float) -> Iterator[Sample]:
    """Memory and open files of every process of the ward that is running."""
    roles = {"hub": ward.hub, "collector": ward.collector, "board": ward.board, "console": ward.console,
             "notifier": ward.notify, "bridge": ward.bridge.process, "rating keypad": ward.rating.process,
             **({"kiosk": ward.kiosk.process} if ward.kiosk is not None else {})}
    for role, process in roles.items():
        child = process.proc
        if child is None or child.poll() is not None:
            continue
        try:
            proc = psutil.Process(child.pid)
            yield now, role, proc.pid, proc.memory_info().rss / 2**20, proc.num_fds()
        except psutil.NoSuchProcess:  # gone since: a fault's kill
            pass


def run_and_report(opts: ChaosOptions, out: TextIO = sys.stdout) -> list[dict[str, Any]]:
    """The whole run, then the invariants as a table; returns the rows (each with `ok`)."""
    observed = run_chaos(opts, out)
    rows = check(observed)
    print_table(rows, out)
    return rows
