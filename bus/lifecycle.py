# Service lifecycle: block until SIGTERM or SIGINT, so every role's main() stops the same clean way.
from __future__ import annotations

import signal
import threading


def wait_for_stop(tick: float | None = None, on_tick: object = None) -> None:
    """Blocks until SIGTERM/SIGINT. With `tick`, calls `on_tick()` every `tick` seconds meanwhile (a screen loop)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(tick):
        if on_tick is not None:
            on_tick()  # type: ignore[operator]
