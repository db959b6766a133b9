# Serial printer backend (pyserial): exclusive open, read and write timeouts, reopened after an unplug.
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import serial

from bus.config import opt
from kiosk.printing.base import StreamPrinter

SPEC = "serial:PORT"


@dataclass(frozen=True)
class Options:
    path: str = opt(doc="the serial port: best a stable /dev/serial/by-id/... link")
    baudrate: int = opt(19200, lo=1200, hi=921600)


def from_spec(where: str) -> dict[str, Any] | None:
    return {"path": where} if where else None


def make(section: Any) -> SerialPrinter:
    return SerialPrinter(section.options.path, section.options.baudrate, section.profile, section.timeout_s)


class SerialPrinter(StreamPrinter):
    name = "serial"

    def __init__(self, port: str, baudrate: int, profile: str, timeout: float) -> None:
        super().__init__(timeout)
        self.port = port
        self.baudrate = baudrate
        self.profile = profile
        self._serial: serial.Serial | None = None

    def _open(self) -> None:
        self._serial = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=min(self.timeout, 0.5),
                                             write_timeout=self.timeout, exclusive=True)

    def _send(self, data: bytes) -> None:
        assert self._serial is not None
        self._serial.write(data)
        self._serial.flush()

    def _recv(self, size: int) -> bytes:
        assert self._serial is not None
        return self._serial.read(size)

    def _shut(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None
