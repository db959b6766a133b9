# An off-the-shelf RS-485 number board in software: a Modbus RTU slave whose holding registers are what it shows.
from __future__ import annotations

from pathlib import Path

from firmware_bridge import modbus
from firmware_bridge.errors import ProtocolError
from firmware_bridge.fake_line import FakeLine


class FakeModbusBoard(FakeLine):
    """Answers function 6 (write single register) for its unit address, as such boards do; `shown` records each
    value written to register 0. It can refuse (`refuse` = a Modbus exception code) or stay silent."""

    def __init__(self, folder: str | Path, name: str = "board", unit: int = 1) -> None:
        super().__init__(folder, name)
        self.unit = unit
        self.registers: dict[int, int] = {}
        self.shown: list[int] = []
        self.silent = False
        self.refuse = 0
        self._buffer = bytearray()

    def plug(self) -> FakeModbusBoard:
        super().plug()
        return self

    def booted(self) -> None:
        self.registers.clear()  # a board that lost power shows nothing until it is written again
        self._buffer.clear()

    def exchange(self, data: bytes) -> bytes:
        self._buffer += data
        if len(self._buffer) < 8:
            return b""
        request, self._buffer = bytes(self._buffer[:8]), self._buffer[8:]
        try:
            unit, function, register, value = modbus.parse_request(request)
        except ProtocolError:
            self._buffer.clear()  # a real slave waits for 3.5 character times of silence and starts over
            return b""
        if unit != self.unit or self.silent:
            return b""
        if self.refuse or function != modbus.WRITE_REGISTER:
            return modbus.frame(bytes((unit, function | 0x80, self.refuse or 1)))
        self.registers[register] = value
        if register == 0:
            self.shown.append(value)
        return request
