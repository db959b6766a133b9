# The printer interface every backend implements, and the shared byte-stream logic (status queries, timeouts).
from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

from kiosk.errors import PrinterError
from kiosk.printing import status as st
from kiosk.printing.status import PrinterStatus

log = logging.getLogger(__name__)


class TicketPrinter(ABC):
    """A ticket printer. Backends must implement status() and write(); both must return or raise within their
    timeouts, never block for ever. `print_job` checks the status before and after writing."""

    name = "printer"
    profile = "TM-T20II"
    native_qr = True

    def __init__(self) -> None:
        self.last_status = PrinterStatus.OK
        self.lock = threading.Lock()

    @abstractmethod
    def status(self) -> PrinterStatus:
        """The printer's state now; NO_ANSWER or UNPLUGGED when it cannot be asked."""

    @abstractmethod
    def write(self, job: bytes) -> None:
        """Sends the whole job or raises PrinterError."""

    def close(self) -> None:  # noqa: B027 - optional for backends that hold no port
        """Releases the port; the next call reopens it."""

    def check(self) -> PrinterStatus:
        """Asks the printer and remembers the answer in `last_status` (reported in the device state)."""
        self.last_status = self.status()
        return self.last_status

    def print_job(self, job: bytes) -> PrinterStatus:
        """Writes `job` if the printer can print; returns the status after it, raises PrinterError if not written."""
        with self.lock:
            before = self.check()
            if not before.can_print:
                raise PrinterError(before.value, f"{self.name}: {before.en}")
            try:
                self.write(job)
            except PrinterError as exc:
                self.last_status = PrinterStatus(exc.status)
                raise
            after = self.check()
            if after in (PrinterStatus.PAPER_OUT, PrinterStatus.COVER_OPEN):
                raise PrinterError(after.value, f"{self.name}: job written but the printer stopped: {after.en}")
            return after


class StreamPrinter(TicketPrinter):
    """A printer on a byte stream (serial, TCP, USB): status by DLE EOT, reopened after an error."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        self._open_ok = False

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _send(self, data: bytes) -> None: ...

    @abstractmethod
    def _recv(self, size: int) -> bytes: ...

    @abstractmethod
    def _shut(self) -> None: ...

    def _ensure_open(self) -> None:
        if not self._open_ok:
            self._open()
            self._open_ok = True

    def status(self) -> PrinterStatus:
        try:
            self._ensure_open()
        except OSError as exc:
            log.info("%s: cannot open: %s", self.name, exc)
            return PrinterStatus.UNPLUGGED
        answers: list[int | None] = []
        try:
            for query in (st.DLE_EOT_PRINTER, st.DLE_EOT_OFFLINE, st.DLE_EOT_PAPER):
                self._send(query)
                got = self._recv(1)
                answers.append(got[0] if got else None)
        except OSError as exc:
            log.info("%s: status query failed: %s", self.name, exc)
            self.close()
            return PrinterStatus.UNPLUGGED
        return st.decode(*answers)

    def write(self, job: bytes) -> None:
        try:
            self._ensure_open()
            self._send(job)
        except OSError as exc:
            self.close()
            raise PrinterError(PrinterStatus.UNPLUGGED.value, f"{self.name}: {exc}") from exc

    def close(self) -> None:
        if self._open_ok:
            self._open_ok = False
            try:
                self._shut()
            except OSError as exc:
                log.debug("%s: close failed: %s", self.name, exc)
