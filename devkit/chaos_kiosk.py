# The chaos run's real kiosk: the kiosk's own core (online and offline numbers, outbox, printer) on the fake printer.
from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devkit.chaos_day import Arrivals
from devkit.chaos_faults import REAL_KIOSK
from devkit.configs import write_kiosk_config
from devkit.damage import damage, pages_of
from devkit.simulate import citizen
from kiosk.config import load_kiosk
from kiosk.core import KioskCore
from kiosk.printing.fake import FakePrinter
from kiosk.printing.status import PrinterStatus

DISK_MB = 32  # the real kiosk's data disk in the chaos run: its files fit many times over
PHONE_SHARE = 0.3  # of the citizens with a ticket from the hub, those who leave a number for texts


class CoreKiosk(threading.Thread):
    """Citizens take tickets from a real KioskCore as the touch screen would: when the hub does not answer in time
    the kiosk prints an offline number from its own block and its outbox brings it to the hub later. Keeps every
    ticket printed (day and label, offline or not) and every attempt, for the invariants."""

    def __init__(self, workdir: Path, port: int, citizens: float, opened: float, speed: float, seed: int,
                 stop: threading.Event) -> None:
        super().__init__(name=REAL_KIOSK, daemon=True)
        self.disk = SmallDisk(workdir / REAL_KIOSK, DISK_MB)  # its data disk, small enough to fill (as root)
        self.config_path = write_kiosk_config(workdir, port, REAL_KIOSK, block=1, printer_backend="fake")
        self.core = self._core()
        self._lock = threading.Lock()  # a ticket being taken, or the kiosk being restarted
        self.rng, self.speed, self.halt = random.Random(seed), speed, stop
        self.arrivals = Arrivals(citizens, opened, speed, self.rng)
        self.printed: list[tuple[str, bool]] = []  # ("day label", offline)
        self.attempts: list[tuple[float, bool, bool]] = []  # (time, a ticket printed, numbered by the hub)
        self.problems = 0  # citizens told the printer cannot print
        self.restarts = 0
        self.subscribed: list[str] = []  # labels of the tickets whose citizens left a phone number
        self.disk_was_full = False  # its data disk really had no room left during the disk-full fault

    def _core(self) -> KioskCore:
        config, section, printer_cfg, _ = load_kiosk(str(self.config_path))
        if not hasattr(self, "printer"):
            self.printer = FakePrinter(printer_cfg.profile, printer_cfg.timeout_s)
        return KioskCore(config, dataclasses.replace(section, notify=True), printer_cfg, self.printer)

    def run(self) -> None:
        self.core.start()
        while not self.halt.wait(self.arrivals.gap() / self.speed):
            if self.arrivals.comes() and self.core.services:
                self.citizen()

    def citizen(self) -> None:
        """One citizen takes a ticket (the run's arrivals, and one sent by a fault while it lasts)."""
        service, priority = citizen(self.rng)
        with self._lock:
            outcome = self.core.take_ticket(service, priority)
            if outcome.state == "print_failed":
                self.core.cancel(outcome)  # nothing in the citizen's hand: the number never joins the queue
        ok = outcome.state == "printed"
        self.attempts.append((time.monotonic(), ok, ok and not outcome.offline))
        if ok:
            self.printed.append((f"{outcome.ticket['day']} {outcome.ticket['label']}", outcome.offline))
            if self.rng.random() < PHONE_SHARE and self.core.leave_phone(outcome, f"09{self.rng.randrange(10**8):08d}",
                                                                          "vi"):
                self.subscribed.append(outcome.ticket["label"])
        elif outcome.state == "printer_problem":
            self.problems += 1

    def paper_out(self, seconds: float) -> None:
        """The roll runs out; a member of staff puts a new one in `seconds` later."""
        self.printer.state = PrinterStatus.PAPER_OUT
        began = time.monotonic()
        self.citizen()  # somebody comes while it is empty
        time.sleep(max(0.0, seconds - (time.monotonic() - began)))
        self.printer.state = PrinterStatus.OK

    def damaged_restart(self, seconds: float) -> None:
        """The kiosk loses power and its SD card returns noise for the last page of its numbering file; it starts
        again `seconds` later on what can be read (bus/sqlite_repair.py), its offline numbers skipping ahead."""
        with self._lock:
            self.core.stop()
            numbering = self.core.config.data_dir / "kiosk.db"
            damage(numbering, [max(2, pages_of(numbering))], seed=int(time.monotonic()))
            time.sleep(seconds)
            self.core = self._core()
            self.core.start()
            self.restarts += 1

    def disk_full(self, seconds: float) -> None:
        """The kiosk's data disk fills up (a log gone wild, a failing card); `seconds` later the space is back. Its
        tickets from the hub still print (their confirmations wait in memory); an offline number that could not
        be kept is refused, never printed."""
        with self.disk.filled():
            self.disk_was_full = self.disk.mounted and shutil.disk_usage(self.disk.folder).free < 64 * 1024
            began = time.monotonic()
            self.citizen()  # somebody comes while it is full
            time.sleep(max(0.0, seconds - (time.monotonic() - began)))

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
        self.disk.close()


class SmallDisk:
    """A tmpfs of `size_mb` mounted on `folder` when this runs as root (else the folder stays on the main disk and
    `filled` does nothing: printed as such), which `filled` fills to the last byte for a while."""

    def __init__(self, folder: Path, size_mb: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        mount = ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(folder)]
        self.mounted = os.geteuid() == 0 and shutil.which("mount") is not None and subprocess.run(
            mount, capture_output=True).returncode == 0

    @contextmanager
    def filled(self) -> Iterator[None]:
        filler = self.folder / "filler"
        if self.mounted:
            with filler.open("wb") as out, contextlib.suppress(OSError):  # until the disk says it is full
                while True:
                    out.write(bytes(1 << 20))
                    out.flush()
        else:
            print("  (kiosk disk full needs root to mount a small disk: skipped)", flush=True)
        try:
            yield
        finally:
            filler.unlink(missing_ok=True)

    def close(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.folder)], capture_output=True)
            self.mounted = False
