# Simulated ward actors for the demo: citizens taking tickets at kiosks and officers serving at counters.
from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bus.client import BusClient
from bus.config import BrokerSection
from bus.messages import PRIORITY_GROUPS, Message

log = logging.getLogger(__name__)
# service code -> (share of arrivals, mean service minutes)
SERVICE_MIX = {"HT": (0.35, 9.0), "CT": (0.35, 4.5), "CU": (0.15, 9.0), "KD": (0.10, 13.0), "XH": (0.05, 13.0)}


def citizen(rng: random.Random) -> tuple[str, str | None]:
    """What a citizen comes for: a service, by SERVICE_MIX's shares, and a priority group (one in ten has one)."""
    codes = list(SERVICE_MIX)
    service = rng.choices(codes, [SERVICE_MIX[c][0] for c in codes])[0]
    return service, rng.choice(PRIORITY_GROUPS) if rng.random() < 0.1 else None


@dataclass
class Tally:
    """What the simulated actors saw, for the demo's summary."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    issued: dict[str, str] = field(default_factory=dict)  # request corr -> "day label"
    counts: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0

    def ticket(self, corr: str, day_label: str) -> None:
        with self.lock:
            if day_label in self.issued.values() and self.issued.get(corr) != day_label:
                self.duplicates += 1
            self.issued[corr] = day_label

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1


class Actor(threading.Thread):
    def __init__(self, name: str, broker: BrokerSection, ward: str, role: str, speed: float, seed: int,
                 stop: threading.Event, tally: Tally, outbox: Path | None = None,
                 counters: tuple[int, ...] = ()) -> None:
        super().__init__(name=name, daemon=True)
        self.bus = BusClient(broker, ward, name, role, outbox_path=outbox, counters=counters)
        self.speed = speed
        self.rng = random.Random(seed)
        self.halt = stop
        self.tally = tally

    def pause(self, sim_seconds: float) -> bool:
        """Sleeps for simulated seconds; True if the demo is stopping."""
        return self.halt.wait(sim_seconds / self.speed)

    def run(self) -> None:
        self.bus.start()
        try:
            self.bus.wait_connected(10)
            self.act()
        except Exception:  # edge of a simulated actor's thread: log it, the demo summary shows the shortfall
            log.exception("%s failed", self.name)
        finally:
            self.bus.stop()

    def act(self) -> None:
        raise NotImplementedError


class SimKiosk(Actor):
    """Citizens arrive at random (Poisson) and each takes one ticket."""

    def __init__(self, *args: object, arrivals_per_hour: float, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.rate = arrivals_per_hour / 3600.0

    def act(self) -> None:
        while not self.pause(self.rng.expovariate(self.rate)):
            self.ask()

    def ask(self) -> Message | None:
        """One citizen asks for a ticket; the hub's reply, None if none came."""
        service, priority = citizen(self.rng)
        body = {"service": service, **({"priority": priority} if priority else {})}
        reply = self.bus.request(self.bus.topics.ticket_request, "ticket.request", body, timeout=3.0)
        self._record(reply)
        return reply

    def _record(self, reply: Message | None) -> None:
        if reply is None:
            self.tally.count("kiosk_timeouts")
        elif reply.type == "ticket.issued":
            t = reply.body["ticket"]
            self.tally.ticket(reply.corr or "", f"{t['day']} {t['label']}")
        else:
            self.tally.count("kiosk_refused")


class SimCounter(Actor):
    """An officer: calls the next number, serves for a random time, sometimes sees a no-show or transfers. On the
    bus it is a bridge with a counter keypad and a rating keypad at its counter."""

    def __init__(self, *args: object, counter: int, no_show: float = 0.05, transfer: float = 0.02,
                 keypad: Callable[[int], None] | None = None, **kw: object) -> None:
        super().__init__(*args, counters=(counter,), **kw)  # type: ignore[arg-type]
        self.counter = counter
        self.keypad = keypad  # a serial rating keypad to press instead of sending the rating ourselves
        self.p_no_show = no_show
        self.p_transfer = transfer

    def command(self, action: str, **extra: object) -> Message | None:
        body = {"action": action, "counter": self.counter, **extra}
        reply = self.bus.request(self.bus.topics.counter_command(self.counter), "counter.command", body,
                                 timeout=3.0, durable=True)
        self.tally.count(f"{action}:{'ok' if reply and reply.type == 'counter.result' else 'other'}")
        return reply

    def rate(self) -> None:
        level = self.rng.choices((1, 2, 3), (0.6, 0.3, 0.1))[0]
        if self.keypad is not None:
            self.keypad(level)
            self.tally.count("ratings_pressed_serial")
            self.pause(5)  # the citizen presses, then the officer finishes
            return
        body = {"counter": self.counter, "level": level, "scale": 3}
        if self.rng.random() < 0.5:  # half the terminals ask how many visits the procedure took
            body["visits"] = self.rng.choices((1, 2, 3), (0.8, 0.15, 0.05))[0]
        reply = self.bus.request(self.bus.topics.rating, "rating.submit", body, timeout=3.0, durable=True)
        self.tally.count("ratings" if reply is not None and reply.type == "rating.recorded" else "ratings_refused")

    def act(self) -> None:
        self.command("open", officer=f"Cán bộ {self.counter}")
        while not self.halt.is_set():
            reply = self.command("call_next")
            ticket = reply.body.get("ticket") if reply and reply.type == "counter.result" else None
            if ticket is None:
                if self.pause(20):
                    break
                continue
            if self.rng.random() < self.p_no_show:
                if self.pause(60) or self.command("recall") is None or self.pause(60):
                    break
                self.command("no_show")
                continue
            self.command("start")
            mean = SERVICE_MIX.get(ticket["service"], (0, 8.0))[1] * 60
            if self.pause(self.rng.expovariate(1 / mean)):
                break
            if self.rng.random() < self.p_transfer:
                others = [c for c in SERVICE_MIX if c != ticket["service"]]
                self.command("transfer", service=self.rng.choice(others))
            elif self.rng.random() < 0.7:  # most citizens press the rating keypad while the officer finishes
                self.rate()
        self.command("done")
