# A microcontroller in software on the far end of a pseudo-terminal: the same protocol, for tests, demo and bench.
from __future__ import annotations

import os
import select
import threading
import time
import tty
from pathlib import Path

from firmware_bridge import protocol as p
from firmware_bridge.session import Session


class FakeMcu:
    """Speaks the bridge protocol as the firmware does, on the master side of a pty. The bridge opens `path`, a
    stable symlink like the ones udev makes under /dev/serial/by-id, so `unplug()` and `plug()` behave like pulling
    and reconnecting the USB cable: the old port fails and the same path comes back with a new device behind it.
    It records what it was told to show and signal, and can add noise, lose blocks or fall silent."""

    def __init__(self, kind: str, folder: str | Path, *, keys: int = 3, firmware: tuple[int, int] = (1, 2),
                 serial_no: str = "FAKE0001", name: str = "mcu") -> None:
        self.kind, self.keys, self.firmware, self.serial_no = kind, keys, firmware, serial_no
        self.path = Path(folder) / name
        self.shown: list[str] = []
        self.feedback: list[str] = []
        self.received: list[p.Msg] = []
        self.silent = False
        self.drop_blocks = 0
        self._lock = threading.Lock()
        self._master = self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.session = Session(time.monotonic, device_side=True)

    @property
    def plugged(self) -> bool:
        return self._master >= 0

    def plug(self) -> FakeMcu:
        """Connects (or reconnects) the device: a new pty behind the same path, and the firmware boots."""
        self.unplug()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tmp = self.path.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self._slave))
        tmp.replace(self.path)
        self._stop.clear()
        self.reboot()
        self._thread = threading.Thread(target=self._run, name=f"fake mcu {self.path.name}", daemon=True)
        self._thread.start()
        return self

    def unplug(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    close = unplug

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

    def noise(self, data: bytes) -> None:
        """Writes raw bytes onto the line, as interference or a half-sent block would."""
        os.write(self._master, data)

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.005)
            try:
                data = os.read(self._master, 4096) if ready else b""
            except OSError:  # the bridge side closed the pty; keep running so it can reopen
                data = b""
                time.sleep(0.01)
            with self._lock:
                messages = self.session.receive(data) if data and not self.silent else []
                for msg in messages:
                    self._handle(msg)
                out = b"" if self.silent else self.session.poll()
            if out and self.drop_blocks > 0:
                self.drop_blocks -= 1
                out = b""
            if out:
                os.write(self._master, out)

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
