# Bench: the hub after months of service - do issuing, the board, ratings and statistics stay as fast as on day one?
from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bus.estimate import quantile
from bus.transaction import transaction
from devkit.configs import write_hub_config
from hub import stats as ward_stats
from hub.board import board_state
from hub.config import HubSection, load_hub
from hub.queue import Queue
from hub.store import open_db, open_repaired, prune_handled

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_DAY = datetime(2025, 1, 6, tzinfo=VN)  # a Monday


class Clock:
    def __init__(self) -> None:
        self.now = FIRST_DAY.timestamp()

    def __call__(self) -> float:
        return self.now


class Ward:
    """The demo ward's queue on one database file, driven through Queue.handle as the hub's worker drives it."""

    def __init__(self, path: Path, hub: HubSection, clock: Clock) -> None:
        self.path, self.hub, self.clock = path, hub, clock
        self.keys = (("bench", f"b{n}", 0) for n in range(10**9))
        self.open()

    def open(self) -> None:
        self.db = open_db(self.path)
        self.queue = Queue(self.db, self.hub, self.clock, uptime=self.clock)  # the months pass: no clock jumps

    def do(self, op: str, **args: object) -> dict:
        key = next(self.keys)
        out = self.queue.handle(key, op, **args)
        return out.reply


def working_days(count: int) -> Iterator[datetime]:
    day = FIRST_DAY
    while count:
        if day.weekday() < 5:  # Monday to Friday
            yield day
            count -= 1
        day += timedelta(days=1)


def run_day(ward: Ward, day: datetime, per_day: int, rng: random.Random,
            timed: dict[str, list[float]] | None = None) -> None:
    """One working day: counters open at 07:30, `per_day` citizens over eight hours, each called, served and
    mostly rated; a few no-shows and transfers. With `timed`, each operation's wall time is kept by kind."""
    services = [s.code for s in ward.hub.services]
    counters = [c.id for c in ward.hub.counters]

    def op(kind: str, **args: object) -> dict:
        began = time.perf_counter()
        reply = ward.do(kind, **args)
        if timed is not None:
            timed.setdefault(kind, []).append(time.perf_counter() - began)
        return reply

    ward.clock.now = day.replace(hour=7, minute=30).timestamp()
    for c in counters:
        op("open", counter=c, officer=f"Cán bộ {c}")
    step = 8 * 3600 / per_day
    for _ in range(per_day):
        ward.clock.now += step
        op("issue", service=rng.choice(services), device="kiosk-1")
        counter = rng.choice(counters)
        reply = op("call_next", counter=counter)
        if "ticket" not in reply:
            continue
        roll = rng.random()
        if roll < 0.05:
            op("no_show", counter=counter)
            continue
        if roll < 0.08:
            others = [s for s in services if s != reply["ticket"]["service"]]
            op("transfer", counter=counter, service=rng.choice(others))
            continue
        op("start", counter=counter)
        op("done", counter=counter)
        if rng.random() < 0.6:
            op("rate", counter=counter, level=rng.choice((1, 1, 2, 2, 2, 3)), scale=3, device=f"rating-{counter}")
    ward.clock.now = day.replace(hour=17, minute=0).timestamp()
    for c in counters:
        op("close", counter=c)
    prune_handled(ward.db, ward.clock.now)  # as the hub does every hour


def seed(ward: Ward, days: int, per_day: int, rng: random.Random, progress: Callable[[int], None]) -> None:
    """Fills the database with `days` working days, one transaction per day and no fsync (not measured)."""
    ward.db.execute("PRAGMA synchronous=OFF")
    for n, day in enumerate(working_days(days), 1):
        with transaction(ward.db):
            run_day(ward, day, per_day, rng)
        if n % 25 == 0:
            progress(n)
    ward.db.close()
    ward.open()  # back to synchronous=FULL, as the hub runs


def ms(values: list[float], q: float) -> str:
    return f"{quantile(sorted(values), q) * 1000:.2f}" if values else "-"


def measure(ward: Ward, day: datetime, per_day: int, rng: random.Random) -> dict[str, str]:
    """Restart, one measured working day, then the reads the hub and ward IT make on top of it."""
    out: dict[str, str] = {}
    ward.db.close()
    began = time.perf_counter()
    ward.open()
    board_state(ward.queue, ward.hub)
    out["hub start (open + first board)"] = f"{(time.perf_counter() - began) * 1000:.1f} ms"
    timed: dict[str, list[float]] = {}
    run_day(ward, day, per_day, rng, timed)
    for kind in ("issue", "call_next", "done", "rate"):
        out[f"{kind} p50 / p99"] = f"{ms(timed[kind], 0.5)} / {ms(timed[kind], 0.99)} ms"
    board = []
    for _ in range(50):
        began = time.perf_counter()
        board_state(ward.queue, ward.hub)
        board.append(time.perf_counter() - began)
    out["board state p50 / p99"] = f"{ms(board, 0.5)} / {ms(board, 0.99)} ms"
    today = day.date().isoformat()
    for label, start in (("day stats for upstream (2 days)", day - timedelta(days=1)),
                         ("motcua stats, last 30 days", day - timedelta(days=30)),
                         ("motcua stats, last year", day - timedelta(days=365))):
        began = time.perf_counter()
        ward_stats.compute(ward.db, ward.hub, start.date().isoformat(), today, "service")
        out[label] = f"{(time.perf_counter() - began) * 1000:.1f} ms"
    old = ward.db.execute("SELECT id, counter FROM tickets WHERE status='done' ORDER BY id LIMIT 1").fetchone()
    began = time.perf_counter()
    ward.do("rate", counter=old[1], level=1, scale=3, ticket_id=old[0], left_s=5.0, device="rating-late")
    out["late rating for the oldest ticket"] = f"{(time.perf_counter() - began) * 1000:.1f} ms"
    tickets, events = (ward.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("tickets", "events"))
    out["tickets / events in the database"] = f"{tickets:,} / {events:,}"
    size = sum(p.stat().st_size for p in ward.path.parent.glob(ward.path.name + "*"))
    out["database size"] = f"{size / 1e6:.1f} MB"
    out["start on a damaged file (repair)"] = repair_time(ward)
    return out


def repair_time(ward: Ward) -> str:
    """A copy of the database with three pages of noise in the middle, opened as the hub opens it."""
    ward.db.close()
    copy = ward.path.with_name("damaged.db")
    shutil.copyfile(ward.path, copy)
    pages = copy.stat().st_size // 4096
    with copy.open("r+b") as f:
        for page in (pages // 3, pages // 2, pages // 2 + 1):
            f.seek(page * 4096)
            f.write(random.Random(page).randbytes(4096))
    began = time.perf_counter()
    db, repair = open_repaired(copy)
    took = time.perf_counter() - began
    db.close()
    ward.open()
    kept = sum(repair.kept.values()) if repair else 0
    return f"{took * 1000:.0f} ms, {kept:,} rows kept"


def main() -> None:
    parser = argparse.ArgumentParser(description="The hub on a fresh database and after months of history.")
    parser.add_argument("--days", type=int, default=250, help="working days of history (250 = a year)")
    parser.add_argument("--per-day", type=int, default=300, help="citizens per day")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _, hub = load_hub(str(write_hub_config(tmp, 1883)))
        results = {}
        for label, days in (("day one", 0), (f"after {args.days} days", args.days)):
            ward = Ward(Path(tmp) / label.replace(" ", "-") / "hub.db", hub, Clock())
            rng = random.Random(args.seed)
            began = time.perf_counter()
            seed(ward, days, args.per_day, rng,
                        lambda n, b=began: print(f"  seeded {n} days ({time.perf_counter() - b:.0f} s)", flush=True))
            measured_day = list(working_days(days + 1))[-1]  # the next working day
            results[label] = measure(ward, measured_day, args.per_day, rng)
            ward.db.close()
    labels = list(results)
    print(f"\nhub history bench: {args.per_day} citizens a day, 4 counters, the demo ward's 5 services")
    print(f"{'':40} {labels[0]:>22} {labels[1]:>22}")
    for metric in results[labels[0]]:
        print(f"{metric:40} {results[labels[0]][metric]:>22} {results[labels[1]][metric]:>22}")


if __name__ == "__main__":
    main()
