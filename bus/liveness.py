# Whether a device's bus client is alive end to end: its network thread runs and its own probe comes back.
from __future__ import annotations

import threading
import time
from collections.abc import Callable

PROBE_EVERY = 10.0  # while connected a device sends itself a probe this often
LOST_AFTER = 45.0  # a probe not back after this long means the receive path is dead or wedged


class Liveness:
    """A probe goes out every `probe_every` s while connected and comes back through the broker and the one thread
    that reads the socket and runs every callback. `problem()` says what is wrong, or None: the network thread
    ended (a callback raised past every guard), or a probe has not come back for `lost_after` s (a callback that
    never returns holds that thread). While the broker is away nothing is expected back: not the device's fault."""

    def __init__(self, send_probe: Callable[[], None], network_alive: Callable[[], bool],
                 probe_every: float = PROBE_EVERY, lost_after: float = LOST_AFTER) -> None:
        self.send_probe, self.network_alive = send_probe, network_alive
        self.probe_every, self.lost_after = probe_every, lost_after
        self._lock = threading.Lock()
        self._out: float | None = None  # when the oldest probe not yet back was sent
        self._sent = -1e9

    def tick(self, connected: bool, now: float | None = None) -> None:
        """Called about once a second by the client's keeper thread."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if not connected:
                self._out = None
                return
            if now - self._sent < self.probe_every:
                return
            self._sent = now
            if self._out is None:
                self._out = now
        self.send_probe()

    def came_back(self) -> None:
        with self._lock:
            self._out = None

    def problem(self, now: float | None = None) -> str | None:
        if not self.network_alive():
            return "the MQTT network thread has stopped"
        now = time.monotonic() if now is None else now
        with self._lock:
            out = self._out
        if out is not None and now - out > self.lost_after:
            return f"its own probe has not come back for {now - out:.0f} s (network thread wedged?)"
        return None
