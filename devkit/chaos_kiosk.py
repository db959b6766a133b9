# The chaos run's real kiosk: the kiosk's own core (online and offline numbers, outbox, printer) on the fake printer.
from __future__ import annotations

import random
import threading
import time
from pathlib import Path
from typing import Any

from bus.messages import PRIORITY_GROUPS
from devkit.configs import write_kiosk_config
from devkit.simulate import SERVICE_MIX
from kiosk.config import load_kiosk
from kiosk.core import KioskCore
from kiosk.printing.fake import FakePrinter
from kiosk.printing.status import PrinterStatus


class CoreKiosk(threading.Thread):
    """Citizens take tickets from a real KioskCore as the touch screen would: when the hub does not answer in time
    the kiosk prints an offline number from its own block and its outbox brings it to the hub later. Keeps every
    ticket printed (day and label, offline or not) and every attempt, for the invariants."""

    def __init__(self, workdir: Path, port: int, rate_at: Any, speed: float, seed: int, stop: threading.Event,
                 opened: float) -> None:
        super().__init__(name="kiosk-1", daemon=True)
        path = write_kiosk_config(workdir, port, "kiosk-1", block=1, printer_backend="fake")
        config, section, printer_cfg, _ = load_kiosk(str(path))
        self.printer = FakePrinter(printer_cfg.profile, printer_cfg.timeout_s)
        self.core = KioskCore(config, section, printer_cfg, self.printer)
        self.rate_at, self.speed, self.rng, self.halt, self.opened = rate_at, speed, random.Random(seed), stop, opened
        self.printed: list[tuple[str, bool]] = []  # ("day label", offline)
        self.attempts: list[tuple[float, bool, bool]] = []  # (time, a ticket printed, numbered by the hub)
        self.problems = 0  # citizens told the printer cannot print

    def run(self) -> None:
        self.core.start()
        peak = max(self.rate_at(h / 10) for h in range(100))
        codes = list(SERVICE_MIX)
        weights = [SERVICE_MIX[c][0] for c in codes]
        while not self.halt.wait(self.rng.expovariate(peak / 3600) / self.speed):
            hour = (time.monotonic() - self.opened) * self.speed / 3600
            if self.rng.random() > self.rate_at(hour) / peak or not self.core.services:
                continue
            priority = self.rng.choice(PRIORITY_GROUPS) if self.rng.random() < 0.1 else None
            outcome = self.core.take_ticket(self.rng.choices(codes, weights)[0], priority)
            ok = outcome.state == "printed"
            self.attempts.append((time.monotonic(), ok, ok and not outcome.offline))
            if ok:
                self.printed.append((f"{outcome.ticket['day']} {outcome.ticket['label']}", outcome.offline))
            elif outcome.state == "print_failed":
                self.core.cancel(outcome)  # nothing in the citizen's hand: the number never joins the queue
            elif outcome.state == "printer_problem":
                self.problems += 1

    def paper_out(self, seconds: float) -> None:
        """The roll runs out; a member of staff puts a new one in `seconds` later."""
        self.printer.state = PrinterStatus.PAPER_OUT
        time.sleep(seconds)
        self.printer.state = PrinterStatus.OK

    def drain(self, timeout: float) -> int:
        """Waits for the kiosk's outbox to deliver what it holds (offline tickets, confirmations); returns what is
        left."""
        outbox = self.core.bus.outbox
        deadline = time.monotonic() + timeout
        while outbox is not None and outbox.size() and time.monotonic() < deadline:
            time.sleep(0.2)
        return outbox.size() if outbox is not None else 0

    def close(self) -> None:
        self.core.stop()
