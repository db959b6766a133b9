# File printer backend: writes each job to a device node (/dev/usb/lp0) or, for a folder, to a new file per job.
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bus.config import opt
from kiosk.errors import PrinterError
from kiosk.printing.base import TicketPrinter
from kiosk.printing.status import PrinterStatus

SPEC = "file:FOLDER"


@dataclass(frozen=True)
class Options:
    path: str = opt(doc="a device node (/dev/usb/lp0) or a folder that gets one file per ticket")


def from_spec(where: str) -> dict[str, Any] | None:
    return {"path": where} if where else None


def make(section: Any) -> FilePrinter:
    return FilePrinter(section.options.path, section.profile)


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
