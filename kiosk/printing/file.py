# File printer backend: writes each job to a device node (/dev/usb/lp0) or, for a folder, to a new file per job.
from __future__ import annotations

import os
from pathlib import Path

from kiosk.errors import PrinterError
from kiosk.printing.base import TicketPrinter
from kiosk.printing.status import PrinterStatus


class FilePrinter(TicketPrinter):
    """No status can be read back through a plain file: the state is "unplugged" when the path is missing."""

    name = "file"

    def __init__(self, path: str, profile: str) -> None:
        super().__init__()
        self.path = Path(path)
        self.profile = profile
        self.count = 0

    def status(self) -> PrinterStatus:
        if self.path.is_dir() or self.path.exists() or self.path.parent.is_dir():
            return PrinterStatus.OK
        return PrinterStatus.UNPLUGGED

    def write(self, job: bytes) -> None:
        target = self.path
        if self.path.is_dir():
            self.count += 1
            target = self.path / f"ticket-{os.getpid()}-{self.count:05d}.bin"
        try:
            with open(target, "ab") as out:
                out.write(job)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise PrinterError(PrinterStatus.UNPLUGGED.value, f"file: {target}: {exc.strerror}") from exc
