# The chaos run's real kiosk: the kiosk's own core in its own process (kill -9 by a power cut) on the fake printer.
from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devkit.chaos_day import Arrivals
from devkit.chaos_faults import REAL_KIOSK
from devkit.configs import write_kiosk_config
from devkit.damage import damage, pages_of
from devkit.errors import DevkitError
from devkit.processes import DrivenProcess
from devkit.simulate import citizen
from kiosk.printing.status import PrinterStatus

DISK_MB = 32  # the real kiosk's data disk in the chaos run: its files fit many times over
PHONE_SHARE = 0.3  # of the citizens with a ticket from the hub, those who leave a number for texts


class DrivenKiosk(threading.Thread):
    """Citizens take tickets from a real kiosk as its touch screen would: its core (online and offline numbers,
    outbox, print journal) runs as its own process (devkit/kiosk_driver.py) on the fake printer, so a power cut
    kills it with -9 like the rest of the ward. When the hub does not answer in time it prints an offline number
    from its own block and its outbox brings it to the hub later. Keeps every ticket printed (day and label,
    offline or not) and every attempt, for the invariants."""

    def __init__(self, workdir: Path, port: int, citizens: float, opened: float, speed: float, seed: int,
                 stop: threading.Event) -> None:
        super().__init__(name=REAL_KIOSK, daemon=True)
        self.disk = SmallDisk(workdir / REAL_KIOSK, DISK_MB)  # its data disk, small enough to fill (as root)
        config = write_kiosk_config(workdir, port, REAL_KIOSK, block=1, printer_backend="fake")
        self.data = workdir / REAL_KIOSK
        self.process = DrivenProcess("devkit.kiosk_driver", config, workdir / f"{REAL_KIOSK}.log")
        self._lock = threading.Lock()  # one citizen at the screen at a time, or the kiosk being started
        self.rng, self.speed, self.halt = random.Random(seed), speed, stop
        self.arrivals = Arrivals(citizens, opened, speed, self.rng)
        self.printed: list[tuple[str, bool]] = []  # ("day label", offline)
        self.attempts: list[tuple[float, bool, bool]] = []  # (time, a ticket printed, numbered by the hub)
        self.problems = 0  # citizens told the printer cannot print
        self.cut_mid_ticket = 0  # citizens at the screen when the power went (what came out of the printer unknown)
        self.subscribed: list[str] = []  # labels of the tickets whose citizens left a phone number
        self.phones_in_the_dark: list[str] = []  # numbers typed at the screen when the power went (kept or not)
        self.disk_was_full = False  # its data disk really had no room left during the disk-full fault
        self.starts = 0
        self.power_on()

    def power_on(self, timeout: float = 30.0) -> None:
        """Starts the kiosk's process and waits until it is up (its core started, its outbox open)."""
        with self._lock:
            self.process.start()
            if self.process.read() is None:
                raise DevkitError(f"the real kiosk did not start; see {self.process.log_path}")
            self.starts += 1

    def power_off(self) -> None:
        """kill -9, whatever it is doing (a citizen mid-ticket included): a power cut does not wait."""
        self.process.kill()

    def run(self) -> None:
        while not self.halt.wait(self.arrivals.gap() / self.speed):
            if self.arrivals.comes():
                self.citizen()

    def citizen(self) -> None:
        """One citizen takes a ticket (the run's arrivals, and one sent by a fault while it lasts); a kiosk that
        is off gives none."""
        service, priority = citizen(self.rng)
        phone = f"09{self.rng.randrange(10**8):08d}" if self.rng.random() < PHONE_SHARE else None
        with self._lock:
            running = self.process.proc is not None
            answer = self._ask({"do": "ticket", "service": service, "priority": priority, "phone": phone})
        if answer is None:
            self.cut_mid_ticket += running
            if running and phone is not None:
                self.phones_in_the_dark.append(phone)
            self.attempts.append((time.monotonic(), False, False))
            return
        if answer["state"] == "no_services":  # not yet heard from the hub: its screen offers nothing to take
            return
        ok = answer["state"] == "printed"
        self.attempts.append((time.monotonic(), ok, ok and not answer["offline"]))
        if ok:
            self.printed.append((answer["ticket"], answer["offline"]))
            if answer["subscribed"]:
                self.subscribed.append(answer["label"])
        elif answer["state"] == "printer_problem":
            self.problems += 1

    def _ask(self, command: dict[str, Any]) -> dict[str, Any] | None:
        line = self.process.ask(json.dumps(command))
        return json.loads(line) if line is not None else None

    def paper_out(self, seconds: float) -> None:
        """The roll runs out; a member of staff puts a new one in `seconds` later."""
        with self._lock:
            self._ask({"do": "paper", "state": PrinterStatus.PAPER_OUT.value})
        began = time.monotonic()
        self.citizen()  # somebody comes while it is empty
        time.sleep(max(0.0, seconds - (time.monotonic() - began)))
        with self._lock:
            self._ask({"do": "paper", "state": PrinterStatus.OK.value})

    def damaged_restart(self, seconds: float) -> None:
        """The kiosk loses power and its SD card returns noise for the last page of its numbering file; it starts
        again `seconds` later on what can be read (bus/sqlite_repair.py), its offline numbers skipping ahead."""
        self.power_off()
        numbering = self.data / "kiosk.db"
        damage(numbering, [max(2, pages_of(numbering))], seed=int(time.monotonic()))
        time.sleep(seconds)
        self.power_on()

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
        left (-1: the kiosk is not running)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                answer = self._ask({"do": "outbox"})
            if answer is None or not answer["size"] or time.monotonic() > deadline:
                return -1 if answer is None else answer["size"]
            time.sleep(0.2)

    def close(self) -> None:
        self.process.stop()
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
