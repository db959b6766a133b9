# One serial port kept open for as long as the bridge runs: one thread, reopened with backoff after an unplug.
from __future__ import annotations

import logging
import os
import termios
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import serial

log = logging.getLogger(__name__)

READ_TIMEOUT = 0.02
REOPEN_MIN, REOPEN_MAX = 0.2, 5.0
SAME_DEVICE_EVERY = 1.0  # how often the device node is checked for another device behind it
# What a port raises when its device is gone: pyserial's own error, the OS's, and termios' (flush on a dead pty/tty)
PORT_ERRORS = (serial.SerialException, OSError, termios.error)

Opener = Callable[[str, int], Any]


class Driver(Protocol):
    """What speaks to the device on a port: the framed protocol (link.py) or Modbus RTU (modbus_display.py)."""

    def on_open(self, port: Any) -> None:
        """The port was (re)opened: start over with the device."""

    def step(self, port: Any) -> None:
        """One short turn: read what came (the port's timeout bounds the wait), answer, send what is due. A port
        error raised here means the device is gone; the port is closed and reopened."""

    def on_close(self, reason: str) -> None:
        """The port was closed after a failure, for `reason`."""


def open_port(url: str, baud: int) -> serial.SerialBase:
    """Opens a device path or a pyserial URL (loop://, socket://, rfc2217://). A real port is opened exclusively so a
    second process cannot interleave bytes with ours."""
    return serial.serial_for_url(url, baudrate=baud, timeout=READ_TIMEOUT, write_timeout=0.5,
                                 exclusive=not url.partition("://")[1] or None)


def same_device(port: Any, path: str) -> bool:
    """False when `path` (a /dev/serial/by-id link) now leads to another device than the open port, or to none:
    the cable was pulled, and perhaps plugged back. Ports that are not device files (pyserial URLs) always pass."""
    fileno = getattr(port, "fileno", None)
    if "://" in path or fileno is None:
        return True
    try:
        return os.stat(path).st_rdev == os.fstat(fileno()).st_rdev
    except (OSError, ValueError):
        return False


class Port:
    """Runs `driver` on the serial port `url` in a thread of its own: opens it (backing off from 0.2 to 5 s while it
    cannot), calls `driver.step` for as long as it works, and closes and reopens it when it fails (an unplugged
    cable, a USB adapter gone, another device behind the same link). Any other error in the driver is logged and the
    port is kept: one bad answer from a device must not stop the unit."""

    def __init__(self, url: str, baud: int, driver: Driver, opener: Opener = open_port) -> None:
        self.url, self.baud, self.driver, self.opener = url, baud, driver, opener
        self.opened = 0
        self.last_error = ""
        self._port: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"port {self.url}", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """False once the thread has ended while the bridge still runs (a bug, not an unplugged cable)."""
        return self._thread is None or self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._close()

    def wait(self, seconds: float) -> bool:
        """Sleeps up to `seconds` inside a driver's step; True when the bridge is stopping."""
        return self._stop.wait(seconds)

    def _run(self) -> None:
        backoff, checked = REOPEN_MIN, 0.0
        while not self._stop.is_set():
            if self._port is None:
                if not self._open():
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, REOPEN_MAX)
                    continue
                backoff = REOPEN_MIN
            try:
                if time.monotonic() - checked >= SAME_DEVICE_EVERY:
                    checked = time.monotonic()
                    if not same_device(self._port, self.url):
                        raise OSError("the device behind the port changed (unplugged and plugged back?)")
                self.driver.step(self._port)
            except PORT_ERRORS as exc:
                self._failed(str(exc) or type(exc).__name__)
            except Exception:  # service edge: the device must keep being served; logged with its trace
                log.exception("bridge: %s: handling the device failed; carrying on", self.url)
                self._stop.wait(0.1)

    def _open(self) -> bool:
        try:
            self._port = self.opener(self.url, self.baud)
        except (*PORT_ERRORS, ValueError) as exc:
            if self.last_error != str(exc):
                log.warning("bridge: cannot open %s: %s (retrying)", self.url, exc)
            self.last_error = str(exc)
            return False
        self.opened += 1
        self.last_error = ""
        log.info("bridge: opened %s", self.url)
        self.driver.on_open(self._port)
        return True

    def _failed(self, reason: str) -> None:
        self.last_error = reason
        log.warning("bridge: %s failed: %s (reopening)", self.url, reason)
        self._close()
        self.driver.on_close(reason)
        self._stop.wait(REOPEN_MIN)

    def _close(self) -> None:
        port, self._port = self._port, None
        if port is None:
            return
        try:  # an unplugged adapter fails even to close
            port.close()
        except PORT_ERRORS as exc:
            log.debug("bridge: closing %s: %s", self.url, exc)
