# An off-the-shelf RS-485 number board (Modbus RTU) at a counter: shows the number called there.
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from bus.client import BusClient
from bus.messages import Message
from firmware_bridge import modbus
from firmware_bridge.config import UnitSection
from firmware_bridge.errors import ProtocolError
from firmware_bridge.port import Opener, Port, open_port

log = logging.getLogger(__name__)

ANSWER_TIMEOUT = 0.3
TRIES = 3
REFRESH = 10.0


class ModbusDisplayUnit:
    """Writes the called ticket's number (0 when nobody is called) to the board's holding register, with three
    tries per write. The board echoes each write, so every answer is also a health check; the value is written
    again every 10 s, which puts it back after the board lost power. States: closed (port not open), ready, and
    no_answer or refused (the board did not take the last write; the reason is in last_error)."""

    def __init__(self, bus: BusClient, cfg: UnitSection, opener: Opener = open_port) -> None:
        self.bus, self.cfg = bus, cfg
        self.state = "closed"
        self.value = 0
        self.writes = self.failures = 0
        self._shown: int | None = None
        self._written_at = 0.0
        self._wake = threading.Event()
        self.port = Port(cfg.port, cfg.baud, self, opener)
        bus.subscribe(bus.topics.counter_state(cfg.counter), self._counter_state)

    # -- the unit interface the bridge service uses --------------------------------------------------------
    def start(self) -> None:
        self.port.start()

    def alive(self) -> bool:
        return self.port.alive()

    def stop(self) -> None:
        self._wake.set()
        self.port.stop()

    @property
    def last_error(self) -> str:
        return self.port.last_error

    def owns(self, corr: str | None) -> bool:
        return False

    def reply(self, msg: Message) -> None:
        """Displays send no requests, so there are no replies to take."""

    def status(self) -> dict[str, Any]:
        return {"kind": self.cfg.kind, "counter": self.cfg.counter, "port": self.cfg.port, "state": self.state,
                "last_error": self.last_error, "showing": self._shown, "writes": self.writes,
                "failures": self.failures, "opened": self.port.opened}

    # -- inside ------------------------------------------------------------------------------------------
    def _counter_state(self, msg: Message, _: str) -> None:
        ticket = msg.body.get("ticket")
        self.value = ticket["number"] if isinstance(ticket, dict) and isinstance(ticket.get("number"), int) else 0
        self._wake.set()

    # -- the port's driver: on the port's thread ----------------------------------------------------------
    def on_open(self, port: Any) -> None:
        self._shown = None

    def step(self, port: Any) -> None:
        """Writes the value when it changed or is due again, then waits up to a second for a change."""
        if self._shown != self.value or time.monotonic() - self._written_at >= REFRESH:
            self._show(port, self.value)
        self._wake.wait(1.0)
        self._wake.clear()

    def on_close(self, reason: str) -> None:
        self.state = "closed"

    def _show(self, port: Any, value: int) -> None:
        request = modbus.write_register(self.cfg.modbus_unit, self.cfg.register, value)
        self._written_at = time.monotonic()
        for _ in range(TRIES):
            port.reset_input_buffer()
            port.write(request)
            try:
                modbus.check_reply(request, self._read_answer(port))
            except ProtocolError as exc:
                self.failures += 1
                self.port.last_error = str(exc)
                self.state = "refused" if "refused" in str(exc) else "no_answer"
                continue
            self.writes += 1
            self._shown, self.state, self.port.last_error = value, "ready", ""
            return
        log.warning("bridge: board on %s did not take %d: %s", self.cfg.port, value, self.last_error)

    @staticmethod
    def _read_answer(port: Any) -> bytes:
        answer = b""
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while time.monotonic() < deadline and len(answer) < 8:
            answer += port.read(8 - len(answer))
            if len(answer) == 5 and answer[1] & 0x80:  # an exception answer is five bytes
                break
        return answer
