# Exceptions raised by the kiosk package.
from __future__ import annotations


class KioskError(Exception):
    """Base class for kiosk errors."""


class PrinterError(KioskError):
    """A print job could not be written; `status` says why, as far as the printer told."""

    def __init__(self, status: str, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"{status}: {detail}")
