# A microcontroller in software on the far end of a pseudo-terminal: the same protocol, for tests, demo and bench.
from __future__ import annotations

import threading
import time
from pathlib import Path

from firmware_bridge import protocol as p
from firmware_bridge.fake_line import FakeLine
from firmware_bridge.session import Session


class FakeMcu(FakeLine):
    """Speaks the bridge protocol as the firmware does (see FakeLine for plugging and unplugging). It records what
    it was told to show and signal, and can add noise, lose blocks or fall silent."""

    def __init__(self, kind: str, folder: str | Path, *, keys: int = 3, firmware: tuple[int, int] = (1, 2),
                 serial_no: str = "FAKE0001", name: str = "mcu") -> None:
        super().__init__(folder, name)
        self.kind, self.keys, self.firmware, self.serial_no = kind, keys, firmware, serial_no
        self.shown: list[str] = []
        self.feedback: list[str] = []
        self.received: list[p.Msg] = []
        self.silent = False
        self.drop_blocks = 0
        self._lock = threading.Lock()
        self.session = Session(time.monotonic, device_side=True)

    def plug(self) -> FakeMcu:
        super().plug()
        return self

    def booted(self) -> None:
        self.reboot()

    def reboot(self) -> None:
        """The firmware restarts: its counters start at 0 and it announces a RESET, as after a watchdog reset."""
        with self._lock:
            self.session = Session(time.monotonic, device_side=True)
            self.session.reset()

    def press(self, key: int) -> None:
        with self._lock:
            self.session.queue(p.key(key))

    def fault(self, text: str) -> None:
        with self._lock:
            self.session.queue(p.Msg(p.FAULT, text.encode("ascii")[:40]))

    def exchange(self, data: bytes) -> bytes:
        with self._lock:
            for msg in [] if self.silent else self.session.receive(data):
                self._handle(msg)
        return b""

    def idle(self) -> bytes:
        with self._lock:
            out = b"" if self.silent else self.session.poll()
        if out and self.drop_blocks > 0:
            self.drop_blocks -= 1
            return b""
        return out

    def _handle(self, msg: p.Msg) -> None:
        self.received.append(msg)
        if msg.id == p.IDENTIFY:
            self.session.queue(p.identity(self.kind, self.firmware, self.keys, self.serial_no))
        elif msg.id == p.PING:
            self.session.queue(p.Msg(p.PONG))
        elif msg.id == p.SHOW:
            self.shown.append(msg.args.decode("ascii", errors="replace"))
        elif msg.id == p.FEEDBACK:
            names = {v: k for k, v in p.FEEDBACK_CODES.items()}
            self.feedback.append(names.get(msg.args[0], "?") if msg.args else "?")
