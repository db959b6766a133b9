# The fake printer: records every job and can be told to run out of paper, open its cover, vanish or hang.
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from kiosk.errors import PrinterError
from kiosk.printing.base import TicketPrinter
from kiosk.printing.status import PrinterStatus

SPEC = ""


@dataclass(frozen=True)
class Options:
    """The fake printer has no options of its own."""


def from_spec(where: str) -> dict[str, Any] | None:
    return None


def make(section: Any) -> FakePrinter:
    return FakePrinter(section.profile, section.timeout_s)


class FakePrinter(TicketPrinter):
    """A real object with a printer's behaviour, shared by the tests and the demo. Set `state` to a PrinterStatus,
    `hang` to make the next write block until `release()` (or its timeout), `fail_mid_job` to lose the cable
    half-way through the next job."""

    name = "fake"

    def __init__(self, profile: str = "TM-T20II", timeout: float = 5.0) -> None:
        super().__init__()
        self.profile = profile
        self.timeout = timeout
        self.state = PrinterStatus.OK
        self.jobs: list[bytes] = []
        self.partial: list[bytes] = []
        self.fail_mid_job = False
        self._hang = threading.Event()
        self._released = threading.Event()

    def hang(self) -> None:
        self._released.clear()
        self._hang.set()

    def release(self) -> None:
        self._hang.clear()
        self._released.set()

    def status(self) -> PrinterStatus:
        if self._hang.is_set():
            return PrinterStatus.NO_ANSWER if not self._released.wait(self.timeout) else self.state
        return self.state

    def write(self, job: bytes) -> None:
        if self._hang.is_set() and not self._released.wait(self.timeout):
            raise PrinterError(PrinterStatus.NO_ANSWER.value, "fake: write timed out")
        if not self.state.can_print:
            raise PrinterError(self.state.value, f"fake: {self.state.en}")
        if self.fail_mid_job:
            self.fail_mid_job = False
            self.partial.append(job[: len(job) // 2])
            self.state = PrinterStatus.UNPLUGGED
            raise PrinterError(PrinterStatus.UNPLUGGED.value, "fake: cable pulled during the job")
        self.jobs.append(job)
