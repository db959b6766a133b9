# `motcua demo`: a whole ward on one machine with no hardware - broker, hub, simulated kiosks and counters.
from __future__ import annotations

import shutil
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bus.config import BrokerSection
from bus.estimate import quantile
from devkit.broker import Broker
from devkit.configs import add_upstream, write_display_config, write_district_config, write_hub_config
from devkit.demo_bridge import COUNTER as BRIDGE_COUNTER
from devkit.demo_bridge import DemoBridge
from devkit.demo_console import DemoConsole
from devkit.demo_kiosk import DemoKiosk
from devkit.errors import DevkitError
from devkit.processes import RoleProcess
from devkit.simulate import SimCounter, SimKiosk, Tally
from provisioning.fleet import FleetWatch, fleet_rows, wait_online
from provisioning.roles import CATALOGUE

WARD = "demo-ward"
WARD_NAME = "Phường Mẫu"  # as the district's config names it for the report
MARKER = ".motcua-demo"
COUNTERS = (1, 2, 3, 4)


@dataclass(frozen=True)
class DemoOptions:
    duration: float = 60.0
    speed: float = 60.0
    seed: int = 1
    workdir: Path = Path("demo-ward")
    broker: str = "auto"
    kiosks: int = 2
    arrivals_per_hour: float = 40.0
    fresh: bool = True
    kiosk_ui: bool = True
    board: bool = True
    bridge: bool = True
    console: bool = True
    headless: bool = True


def run_demo(opts: DemoOptions, out: TextIO = sys.stdout) -> dict[str, Any]:
    """Runs the demo ward for `opts.duration` real seconds and returns the summary it printed. The simulated
    kiosks and counters use the bus directly; one real kiosk (touch app, file printer) is tapped by simulated
    citizens, in a window or headless; counter 1's citizens rate on a serial keypad through the real bridge."""
    if opts.fresh and opts.workdir.exists():
        if not (opts.workdir / MARKER).exists() and any(opts.workdir.iterdir()):
            raise DevkitError(f"refusing to wipe {opts.workdir}: it is not empty and not a folder the demo made; "
                                    "choose another --workdir")
        shutil.rmtree(opts.workdir)
    opts.workdir.mkdir(parents=True, exist_ok=True)
    (opts.workdir / MARKER).write_text("made by motcua demo; wiped at the next run\n", encoding="utf-8")
    broker = Broker(opts.workdir, kind=opts.broker).start()
    print(f"motcua demo: {broker.kind} broker on 127.0.0.1:{broker.port}; files in {opts.workdir}/", file=out)
    upstream = Broker(opts.workdir / "district", kind=opts.broker).start()
    group = "collectors" if upstream.kind == "mosquitto" else ""  # amqtt has no shared subscriptions
    district_config = write_district_config(opts.workdir, upstream.port, [WARD], group=group, names={WARD: WARD_NAME})
    collector = RoleProcess("district", district_config, opts.workdir / "collector.log",
                            command=("district", "run")).start()
    hub_config = add_upstream(write_hub_config(opts.workdir, broker.port), upstream.port, retry_s=1.0,
                              stats_interval_s=5)
    hub = RoleProcess("hub", hub_config, opts.workdir / "hub.log").start()
    section = BrokerSection(port=broker.port)
    wait_online(section, WARD, "hub", timeout=20, alive=hub.check_alive)
    console = DemoConsole(opts.workdir, broker.port).start(not opts.headless) if opts.console else None
    if console is not None:
        print(console.banner(), file=out)
    stop, tally = threading.Event(), Tally()
    actors = [SimKiosk(f"kiosk-sim-{i}", section, WARD, "kiosk", opts.speed, opts.seed * 100 + i, stop, tally,
                       arrivals_per_hour=opts.arrivals_per_hour / opts.kiosks) for i in range(1, opts.kiosks + 1)]
    bridge = DemoBridge(opts.workdir, broker.port).start() if opts.bridge else None
    actors += [SimCounter(f"counter-sim-{c}", section, WARD, "bridge", opts.speed, opts.seed * 1000 + c, stop,
                          tally, outbox=opts.workdir / f"counter-{c}.outbox", counter=c,
                          keypad=bridge.press if bridge is not None and c == BRIDGE_COUNTER else None)
               for c in COUNTERS]
    db_path = opts.workdir / "hub" / "hub.db"
    board = None
    if opts.board:
        headless = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"} if opts.headless else {}
        board = RoleProcess("display", write_display_config(opts.workdir, broker.port), opts.workdir / "board.log",
                            env={**headless, "PYGAME_HIDE_SUPPORT_PROMPT": "1"}, command=("display", "run")).start()
    kiosk = DemoKiosk(opts.workdir, section, opts.speed, opts.seed, opts.arrivals_per_hour / 2, tally,
                      opts.headless, ticket_page=f"{console.address}t/{{token}}" if console else "") \
        if opts.kiosk_ui else None
    try:
        for actor in actors:
            actor.start()
        if kiosk is not None:
            kiosk.start(time.monotonic())
        _progress(opts, hub, db_path, out, kiosk)
        fleet = fleet_rows(section, WARD, settle_s=0.5)  # what ward IT would see now
    finally:
        stop.set()
        if kiosk is not None:
            kiosk.stop()
        if board is not None:
            board.stop()
        if console is not None:
            console.stop()
        for actor in actors:
            actor.join(10)
        if bridge is not None:
            time.sleep(0.5)  # the last press on the serial keypad reaches the hub
            bridge.stop()
        drain_upstream(section, hub)
        hub.stop()
        collector.stop()
        upstream.stop()
        broker.stop()
    summary = summarise(db_path, tally, opts.speed)
    summary.update(_upstream_summary(db_path, district_config, opts.workdir))
    if kiosk is not None:
        summary.update(kiosk_tickets_printed=tally.counts["kiosk_printed"], kiosk_print_jobs=kiosk.printed_files(),
                       kiosk_previews=kiosk.previews())
    if bridge is not None:
        summary.update(serial_keypad_presses=tally.counts["ratings_pressed_serial"], **bridge.summary())
    if board is not None:
        summary["board_screenshots"] = len(list((opts.workdir / "board-1" / "screens").glob("call-*.png")))
    summary["devices_online"] = f"{sum(r['status'] == 'online' for r in fleet)} of {len(fleet)}"
    _print_summary(summary, out)
    _print_fleet(fleet, out)
    return summary


def drain_upstream(section: BrokerSection, hub: RoleProcess, timeout: float = 20.0) -> None:
    """Waits until the hub's device state says its upstream backlog is empty (it re-sends its state every 5 s)."""
    with FleetWatch(section, WARD, "demo-upstream-watch") as fleet:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hub.check_alive()
            state = fleet.states.get("hub")
            upstream = state.body.get("detail", {}).get("upstream", {}) if state else {}
            if upstream.get("backlog") == 0 and upstream.get("last_ack"):
                return
            time.sleep(0.2)


def _upstream_summary(hub_db: Path, district_config: Path, workdir: Path) -> dict[str, Any]:
    """Ratings as the ward counted them, as the district stored them, and the district's report."""
    from district.config import load_district

    with sqlite3.connect(f"file:{hub_db}?mode=ro", uri=True) as db:
        ward = db.execute("SELECT COUNT(*), SUM(level <= 2) FROM ratings").fetchone()
    out: dict[str, Any] = {"ratings": ward[0], "satisfied": ward[1] or 0}
    config, section = load_district(str(district_config))
    district_db = Path(config.data_dir) / section.database
    if district_db.exists():
        from district import report
        from district.store_sqlite import SqliteStore

        store = SqliteStore(district_db, read_only=True)
        try:
            out["ratings_at_district"] = next(store.query("SELECT COUNT(*) AS n FROM ratings"))["n"]
            days = next(store.query("SELECT MIN(day) AS first, MAX(day) AS last FROM day_stats"))
            if days["first"]:
                page = report.write(store, days["first"], days["last"], workdir / "district-report",
                                    report.procedure_names(CATALOGUE), section.ward_names())
                out["district_report"] = str(page)
        finally:
            store.close()
    return out


def _progress(opts: DemoOptions, hub: RoleProcess, db_path: Path, out: TextIO, kiosk: DemoKiosk | None) -> None:
    start = time.monotonic()
    tty = out.isatty()
    last_line = last_check = 0.0
    while (elapsed := time.monotonic() - start) < opts.duration:
        if kiosk is not None:
            kiosk.step(time.monotonic())
            time.sleep(1 / 30)
        else:
            time.sleep(0.25)
        if elapsed - last_check < 0.25:
            continue
        last_check = elapsed
        hub.check_alive()
        if not tty and elapsed - last_line < 5:
            continue
        last_line = elapsed
        counts = _status_counts(db_path)
        sim_min = elapsed * opts.speed / 60
        line = (f"[{elapsed:5.1f}s | ward time +{int(sim_min // 60)}h{int(sim_min % 60):02d}] "
                f"issued {sum(counts.values()):4d}  waiting {counts.get('issued', 0):3d}  "
                f"at counters {counts.get('called', 0) + counts.get('serving', 0):2d}  "
                f"served {counts.get('done', 0):4d}  no-shows {counts.get('no_show', 0):3d}")
        print(("\r" + line) if tty else line, end="" if tty else "\n", file=out, flush=True)
    if tty:
        print(file=out)


def _status_counts(db_path: Path) -> dict[str, int]:
    if not db_path.exists():
        return {}
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
        try:
            return dict(db.execute("SELECT status, COUNT(*) FROM tickets GROUP BY status").fetchall())
        except sqlite3.OperationalError:
            return {}


def summarise(db_path: Path, tally: Tally, speed: float) -> dict[str, Any]:
    """Counts from the hub's own database, cross-checked against what the simulated kiosks were given."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        counts = _status_counts(db_path)
        waits = sorted(r[0] * speed / 60 for r in db.execute(
            "SELECT called_at - issued_at FROM tickets WHERE called_at IS NOT NULL"))
        db_dupes = db.execute("SELECT COUNT(*) FROM (SELECT 1 FROM tickets GROUP BY day, issued_service, number "
                              "HAVING COUNT(*) > 1)").fetchone()[0]
        double_done = db.execute("SELECT COUNT(*) FROM (SELECT ticket_id FROM events WHERE kind IN "
                                 "('done', 'no_show') GROUP BY ticket_id HAVING COUNT(*) > 1)").fetchone()[0]
        transferred = db.execute("SELECT COUNT(*) FROM events WHERE kind='transferred'").fetchone()[0]
        labels = {r[0] for r in db.execute("SELECT day || ' ' || label FROM tickets")}
    finally:
        db.close()
    missing = sum(1 for day_label in tally.issued.values() if day_label not in labels)
    return {
        "issued": sum(n for status, n in counts.items() if status not in ("held", "void")),
        "served": counts.get("done", 0), "no_shows": counts.get("no_show", 0),
        "transferred": transferred, "still_waiting": counts.get("issued", 0),
        "failed_prints_voided": counts.get("void", 0), "held_at_end": counts.get("held", 0),
        "wait_p50_min": round(quantile(waits, 0.5), 1) if waits else None,
        "wait_p90_min": round(quantile(waits, 0.9), 1) if waits else None,
        "tickets_given_to_kiosks": len(tally.issued), "kiosk_timeouts": tally.counts["kiosk_timeouts"],
        "missing_in_hub": missing, "duplicates": tally.duplicates + db_dupes + double_done,
    }


def _print_fleet(rows: list[dict[str, Any]], out: TextIO) -> None:
    print("\nward devices at the end (as `motcua fleet status` shows them)", file=out)
    for r in rows:
        print(f"  {r['device']:<14} {r['role']:<9} {r['status']:<8} {'; '.join(r['problems']) or 'ok'}", file=out)


def _print_summary(summary: dict[str, Any], out: TextIO) -> None:
    print("\nmotcua demo summary", file=out)
    names = {"wait_p50_min": "wait p50 (ward minutes)", "wait_p90_min": "wait p90 (ward minutes)"}
    for key, value in summary.items():
        print(f"  {names.get(key, key.replace('_', ' ')):<26} {value if value is not None else '-'}", file=out)
