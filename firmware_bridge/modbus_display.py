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
from firmware_bridge.link import PORT_ERRORS, REOPEN_MAX, REOPEN_MIN, Opener, close_quietly, open_port, same_device

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
        self.bus, self.cfg, self.opener = bus, cfg, opener
        self.state = "closed"
        self.last_error = ""
        self.value = 0
        self.writes = self.failures = self.opened = 0
        self._shown: int | None = None
        self._written_at = 0.0
        self._port: Any = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        bus.subscribe(bus.topics.counter_state(cfg.counter), self._counter_state)

    # -- the unit interface the bridge service uses --------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"modbus {self.cfg.port}", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread is None or self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._close()

    def owns(self, corr: str | None) -> bool:
        return False

    def reply(self, msg: Message) -> None:
        """Displays send no requests, so there are no replies to take."""

    def status(self) -> dict[str, Any]:
        return {"kind": self.cfg.kind, "counter": self.cfg.counter, "port": self.cfg.port, "state": self.state,
                "last_error": self.last_error, "showing": self._shown, "writes": self.writes,
                "failures": self.failures, "opened": self.opened}

    # -- inside ------------------------------------------------------------------------------------------
    def _counter_state(self, msg: Message, _: str) -> None:
        ticket = msg.body.get("ticket")
        self.value = ticket["number"] if isinstance(ticket, dict) and isinstance(ticket.get("number"), int) else 0
        self._wake.set()

    def _run(self) -> None:
        backoff = REOPEN_MIN
        while not self._stop.is_set():
            if self._port is None and not self._open():
                self._stop.wait(backoff)
                backoff = min(backoff * 2, REOPEN_MAX)
                continue
            backoff = REOPEN_MIN
            if not same_device(self._port, self.cfg.port):
                self._failed("the device behind the port changed (unplugged and plugged back?)")
                continue
            if self._shown != self.value or time.monotonic() - self._written_at >= REFRESH:
                try:
                    self._show(self.value)
                except PORT_ERRORS as exc:
                    self._failed(str(exc) or type(exc).__name__)
                    continue
                except Exception:  # service edge: the board must keep being served; logged, port reopened
                    log.exception("bridge: writing to %s failed", self.cfg.port)
                    self._failed("unexpected error (see the log)")
                    continue
            self._wake.wait(1.0)
            self._wake.clear()

    def _failed(self, reason: str) -> None:
        self.last_error = reason
        log.warning("bridge: %s failed: %s (reopening)", self.cfg.port, reason)
        self._close()
        self.state = "closed"
        self._stop.wait(REOPEN_MIN)

    def _open(self) -> bool:
        try:
            self._port = self.opener(self.cfg.port, self.cfg.baud)
        except (*PORT_ERRORS, ValueError) as exc:
            self.last_error = str(exc)
            return False
        self.opened += 1
        self._shown = None
        return True

    def _show(self, value: int) -> None:
        request = modbus.write_register(self.cfg.modbus_unit, self.cfg.register, value)
        self._written_at = time.monotonic()
        for _ in range(TRIES):
            self._port.reset_input_buffer()
            self._port.write(request)
            try:
                modbus.check_reply(request, self._read_answer())
            except ProtocolError as exc:
                self.failures += 1
                self.last_error = str(exc)
                self.state = "refused" if "refused" in str(exc) else "no_answer"
                continue
            self.writes += 1
            self._shown, self.state, self.last_error = value, "ready", ""
            return
        log.warning("bridge: board on %s did not take %d: %s", self.cfg.port, value, self.last_error)

    def _read_answer(self) -> bytes:
        answer = b""
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while time.monotonic() < deadline and len(answer) < 8:
            answer += self._port.read(8 - len(answer))
            if len(answer) == 5 and answer[1] & 0x80:  # an exception answer is five bytes
                break
        return answer

    def _close(self) -> None:
        port, self._port = self._port, None
        close_quietly(port, self.cfg.port)
