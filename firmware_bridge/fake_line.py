# A serial device in software on the far end of a pseudo-terminal, behind a stable path that can be "unplugged".
from __future__ import annotations

import os
import select
import threading
import time
import tty
from pathlib import Path


class FakeLine:
    """The bridge opens `path`, a stable symlink like the ones udev makes under /dev/serial/by-id, so `unplug()` and
    `plug()` behave like pulling and reconnecting the USB cable: the old port fails and the same path comes back
    with a new device behind it. Subclasses answer the bytes they receive in `exchange`, and may speak unasked
    from `idle` (called about every 5 ms)."""

    def __init__(self, folder: str | Path, name: str) -> None:
        self.path = Path(folder) / name
        self._master = self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def plugged(self) -> bool:
        return self._master >= 0

    def plug(self) -> FakeLine:
        self.unplug()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tmp = self.path.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self._slave))
        tmp.replace(self.path)
        self._stop.clear()
        self.booted()
        self._thread = threading.Thread(target=self._run, name=f"fake {self.path.name}", daemon=True)
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

    def noise(self, data: bytes) -> None:
        """Writes raw bytes onto the line, as interference or a half-sent frame would."""
        os.write(self._master, data)

    def booted(self) -> None:
        """Called when the device is plugged in (power on)."""

    def exchange(self, data: bytes) -> bytes:
        """What the device answers to `data` (possibly nothing yet)."""
        return b""

    def idle(self) -> bytes:
        return b""

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.005)
            try:
                data = os.read(self._master, 4096) if ready else b""
            except OSError:  # the bridge side closed the pty; keep running so it can reopen
                data = b""
                time.sleep(0.01)
            out = (self.exchange(data) if data else b"") + self.idle()
            if out:
                os.write(self._master, out)
