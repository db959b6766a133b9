# Printer status: ESC/POS real-time status bytes (DLE EOT) decoded into states a citizen can be told about.
from __future__ import annotations

from enum import StrEnum


class PrinterStatus(StrEnum):
    OK = "ok"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    NO_ANSWER = "no_answer"
    UNPLUGGED = "unplugged"

    @property
    def can_print(self) -> bool:
        return self in (PrinterStatus.OK, PrinterStatus.PAPER_LOW)

    @property
    def vi(self) -> str:
        return MESSAGES[self][0] + ("" if self.can_print else " " + ASK_STAFF[0])

    @property
    def en(self) -> str:
        return MESSAGES[self][1] + ("" if self.can_print else " " + ASK_STAFF[1])


MESSAGES = {
    PrinterStatus.OK: ("Máy in sẵn sàng", "Printer ready"),
    PrinterStatus.PAPER_LOW: ("Sắp hết giấy in", "Paper is running low"),
    PrinterStatus.PAPER_OUT: ("Máy in hết giấy.", "The printer is out of paper."),
    PrinterStatus.COVER_OPEN: ("Nắp máy in đang mở.", "The printer cover is open."),
    PrinterStatus.OFFLINE: ("Máy in đang tạm dừng.", "The printer is paused."),
    PrinterStatus.NO_ANSWER: ("Máy in không phản hồi.", "The printer does not answer."),
    PrinterStatus.UNPLUGGED: ("Chưa kết nối được máy in.", "The printer is not connected."),
}
ASK_STAFF = ("Vui lòng báo cán bộ.", "Please tell a staff member.")

# DLE EOT n: real-time status requests; each printer answers one byte.
DLE_EOT_PRINTER = b"\x10\x04\x01"
DLE_EOT_OFFLINE = b"\x10\x04\x02"
DLE_EOT_PAPER = b"\x10\x04\x04"


def decode(printer: int | None, offline: int | None, paper: int | None) -> PrinterStatus:
    """Decodes the answers to DLE EOT 1, 2 and 4 (None: no answer). The fixed bits (0x12) must be set, else the
    byte is not a status answer."""
    answers = (printer, offline, paper)
    if any(a is None for a in answers) or any((a & 0x93) != 0x12 for a in answers if a is not None):
        return PrinterStatus.NO_ANSWER
    assert printer is not None and offline is not None and paper is not None
    if paper & 0x60:
        return PrinterStatus.PAPER_OUT
    if offline & 0x04:
        return PrinterStatus.COVER_OPEN
    if offline & 0x20:
        return PrinterStatus.PAPER_OUT
    if printer & 0x08 or offline & 0x40:
        return PrinterStatus.OFFLINE
    if paper & 0x0C:
        return PrinterStatus.PAPER_LOW
    return PrinterStatus.OK
