# Service lifecycle: block until SIGTERM or SIGINT, so every role's main() stops the same clean way.
from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from bus.systemd import Watchdog


def wait_for_stop(tick: float | None = None, on_tick: object = None,
                  health: Callable[[], str | None] | None = None) -> None:
    """Blocks until SIGTERM/SIGINT. With `tick`, calls `on_tick()` every `tick` seconds meanwhile (a screen loop).
    Kicks systemd's watchdog from this loop while `health()` finds nothing wrong, so a service whose main thread
    hangs, or whose network path or worker died, is restarted."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    watchdog = Watchdog(health)
    if watchdog.interval is not None:
        tick = min(tick or watchdog.interval, watchdog.interval)
    while not stop.wait(tick):
        watchdog.kick()
        if on_tick is not None:
            on_tick()  # type: ignore[operator]
