# Service lifecycle: one running copy per device, a requested reset done first, then block until SIGTERM or SIGINT.
from __future__ import annotations

import fcntl
import gc
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bus import systemd
from bus.config import DeviceConfig
from bus.errors import DataFolderError, DeviceBusy
from bus.reset import ResetSpec, finish_pending
from bus.sensors import zone_apart
from bus.systemd import Watchdog

log = logging.getLogger(__name__)


@contextmanager
def device_lock(data_dir: Path, device: str) -> Iterator[None]:
    """Holds data_dir/.<device>.lock: a second copy of the same device, or `motcua reset` while its service runs,
    is refused with DeviceBusy instead of both writing the same files. The kernel drops the lock if the process
    dies, so a kill -9 never leaves a device locked out."""
    path = data_dir / f".{device}.lock"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        f = path.open("a")
    except OSError as exc:
        raise DataFolderError(f"cannot use the data folder {data_dir}: {exc.strerror or exc}") from None
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeviceBusy(f"device {device!r} is already running on this machine (lock {path} is held); stop "
                             f"its service first (systemctl stop motcua@{device})") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextmanager
def running(config: DeviceConfig, reset: ResetSpec | None = None) -> Iterator[None]:
    """What every role's main() runs inside: the device's lock, and a factory reset asked for before the last stop
    carried out before the role opens any of its files."""
    with device_lock(config.data_dir, config.device.id):
        if reset is not None:
            finish_pending(config.data_dir, config.device.id, reset)
        yield
        log.info("%s stopped", config.device.id)  # after the role's own stop: a clean stop, not a kill at a timeout


def wait_for_stop(tick: float | None = None, on_tick: object = None,
                  health: Callable[[], str | None] | None = None) -> None:
    """Blocks until SIGTERM/SIGINT. With `tick`, calls `on_tick()` every `tick` seconds meanwhile (a screen loop).
    Kicks systemd's watchdog from this loop while `health()` finds nothing wrong, so a service whose main thread
    hangs, or whose network path or worker died, is restarted. The role has started when it gets here: what it holds
    now (modules, config, caches) lives as long as the process, so it leaves the garbage collector's full passes,
    which would otherwise walk all of it each time (in the hub about 11 ms a pass, 0.4 ms after;
    docs/performance.md)."""
    gc.freeze()
    stop = threading.Event()
    on_stop_signal(stop.set)
    watchdog = Watchdog(health)
    if watchdog.interval is not None:
        tick = min(tick or watchdog.interval, watchdog.interval)
    while not stop.wait(tick):
        watchdog.kick()
        if on_tick is not None:
            on_tick()  # type: ignore[operator]


def on_stop_signal(stop: Callable[[], None]) -> None:
    """SIGTERM and SIGINT call `stop` (in a signal handler: it only sets a flag), after saying in the log that the
    service stops and telling systemd, which then shows the unit deactivating — also when the device stops itself,
    for a restart command."""

    def handler(number: int, _frame: object) -> None:
        systemd.notify("STOPPING=1")
        log.info("%s received: stopping", signal.Signals(number).name)
        stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)


def check_zone(facts: dict[str, object], zone: str, option: str) -> None:
    """Says, in the log and in the device's state (`facts`), a machine left at another time zone than its config's
    `option`: a server set up by hand on Debian, still at UTC (a card made by `motcua image prepare` has the ward's)."""
    apart = zone_apart(zone)
    if apart is None:
        return
    facts["clock_zone"] = apart
    log.warning("this machine's time zone is %s, %s's (%s) %s: its log, the times it shows and its timers are off "
                "the ward's clocks; set it: sudo timedatectl set-timezone %s", apart["machine"], option, zone,
                apart["ward"], zone)
