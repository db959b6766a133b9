# systemd notify protocol (READY, WATCHDOG, STATUS) without a library; does nothing outside systemd.
from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def notify(state: str) -> bool:
    """Sends `state` (e.g. "READY=1") to $NOTIFY_SOCKET; False when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(state.encode(), address)
        except OSError:
            return False
    return True


def watchdog_interval() -> float | None:
    """Half the WatchdogSec systemd gave this service, in seconds, or None without a watchdog."""
    usec = os.environ.get("WATCHDOG_USEC")
    return int(usec) / 2e6 if usec and usec.isascii() and usec.isdigit() else None


class Watchdog:
    """Kicks systemd's watchdog from a service's main loop, at most twice per WatchdogSec, and only while `health()`
    says nothing is wrong with the rest of the service (its bus clients, its worker threads); does nothing outside
    systemd. A loop that hangs, or a part of the service that died or stopped making progress, stops the kicks,
    and systemd restarts the service."""

    def __init__(self, health: Callable[[], str | None] | None = None) -> None:
        self.interval = watchdog_interval()
        self.health = health or (lambda: None)
        self.problem: str | None = None
        self._last = 0.0

    def kick(self) -> None:
        if self.interval is None:
            return
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        problem = self.health()
        if problem != self.problem:
            if problem:
                log.error("not kicking the systemd watchdog: %s; systemd will restart this service", problem)
            else:
                log.info("healthy again; kicking the systemd watchdog")
            self.problem = problem
        if problem is None:
            self._last = now
            notify("WATCHDOG=1")
