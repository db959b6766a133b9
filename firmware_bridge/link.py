# One serial port to one microcontroller: the port, its thread, the handshake, the heartbeat and reopening after unplug.
from __future__ import annotations

import logging
import os
import termios
import threading
import time
from collections.abc import Callable
from typing import Any

import serial

from firmware_bridge import protocol as p
from firmware_bridge.errors import ProtocolError
from firmware_bridge.session import Session

log = logging.getLogger(__name__)

READ_TIMEOUT = 0.02
LINE_IDLE = 0.05
HEARTBEAT = 1.0
LOST_AFTER = 3.0
REOPEN_MIN, REOPEN_MAX = 0.2, 5.0
STATES = ("closed", "syncing", "ready", "lost", "wrong_device")
# What a port raises when its device is gone: pyserial's own error, the OS's, and termios' (flush on a dead pty/tty)
PORT_ERRORS = (serial.SerialException, OSError, termios.error)

Opener = Callable[[str, int], Any]


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


def close_quietly(port: Any, name: str) -> None:
    """Closes a port that may already be gone (an unplugged adapter fails even to close)."""
    if port is None:
        return
    try:
        port.close()
    except PORT_ERRORS as exc:
        log.debug("bridge: closing %s: %s", name, exc)


class Link:
    """Keeps one microcontroller reachable for as long as the bridge runs. After the port opens it sends RESET, then
    asks the device who it is (identify); a device of another kind than `expect_kind` is refused (state
    wrong_device; an empty `expect_kind` accepts any).
    A ping each second keeps the heartbeat; with nothing heard for 3 s the device is declared lost. A port that
    fails (unplugged cable, USB adapter gone) is closed and reopened with backoff, then the handshake runs again.
    `on_message` gets the device's messages (keys, faults) and `on_state` each change of state, both on this
    link's thread."""

    def __init__(self, url: str, baud: int, expect_kind: str, *, on_message: Callable[[p.Msg], None],
                 on_state: Callable[[str], None] | None = None, opener: Opener = open_port,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url, self.baud, self.expect_kind = url, baud, expect_kind
        self.on_message, self.on_state, self.opener, self.clock = on_message, on_state, opener, clock
        self.state = "closed"
        self.identity: p.Identity | None = None
        self.opened = 0
        self.last_error = ""
        self.session = self._new_session()
        self._port: Any = None
        self._lock = threading.RLock()  # on_state callbacks may send
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sent_ping = self._rx_at = 0.0

    # -- public ----------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"link {self.url}", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """False once the link's thread has ended while the bridge still runs (a bug, not an unplugged cable)."""
        return self._thread is None or self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._close()

    def send(self, msg: p.Msg) -> None:
        """Queues a message for the device; it is delivered once the link is up, in order."""
        with self._lock:
            self.session.queue(msg)

    def status(self) -> dict[str, Any]:
        ident = self.identity
        return {"port": self.url, "state": self.state, "opened": self.opened, "last_error": self.last_error,
                "device": None if ident is None else {"kind": ident.kind, "firmware": ident.firmware,
                                                      "serial": ident.serial, "keys": ident.keys},
                **self.session.health()}

    # -- the thread ------------------------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = REOPEN_MIN
        while not self._stop.is_set():
            if self._port is None:
                if not self._open():
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, REOPEN_MAX)
                    continue
                backoff = REOPEN_MIN
            try:
                self._step()
            except PORT_ERRORS as exc:
                self._lost_port(exc)
            except Exception:  # service edge: a unit's handler failed; the link must keep serving the device
                log.exception("bridge: %s: handling the device's input failed; carrying on", self.url)
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
        with self._lock:
            self.session.reset()
        self._rx_at = self.session.heard_at = self.clock()
        self._set_state("syncing")
        return True

    def _step(self) -> None:
        data = self._port.read(max(1, self._port.in_waiting))
        now = self.clock()
        with self._lock:
            if data:
                self._rx_at = now
                delivered = self.session.receive(data)
            elif self.session.decoder.buffer and now - self._rx_at > LINE_IDLE:
                delivered = self.session.line_idle()
            else:
                delivered = []
        for msg in delivered:
            self._deliver(msg)
        self._timers(now)
        with self._lock:
            out = self.session.poll()
        if out:
            self._port.write(out)

    def _timers(self, now: float) -> None:
        silent = now - self.session.heard_at
        if self.state in ("ready", "wrong_device") and silent > LOST_AFTER:
            log.warning("bridge: %s silent for %.0f s: device lost", self.url, silent)
            self._set_state("lost")
        if self.session.synced and now - self._sent_ping >= HEARTBEAT and not self.session.busy:
            self._sent_ping = now
            self.send(p.Msg(p.IDENTIFY if self.state in ("syncing", "lost") else p.PING))

    def _deliver(self, msg: p.Msg) -> None:
        if msg.id == p.IDENTITY:
            self._identified(msg)
        elif msg.id == p.PONG:
            return
        elif self.state == "ready":
            self.on_message(msg)
        else:
            log.info("bridge: %s: %s ignored while %s", self.url, msg.name, self.state)

    def _identified(self, msg: p.Msg) -> None:
        try:
            ident = p.parse_identity(msg)
        except ProtocolError as exc:
            log.warning("bridge: %s: bad identity: %s", self.url, exc)
            return
        self.identity = ident
        if self.expect_kind and ident.kind != self.expect_kind:
            self.last_error = f"a {ident.kind} is on this port; the config expects a {self.expect_kind}"
            log.error("bridge: %s: %s", self.url, self.last_error)
            self._set_state("wrong_device")
            return
        self._set_state("ready")

    def _reset_by_device(self) -> None:
        """The device rebooted (or answered our RESET): ask who it is again."""
        self.session.queue(p.Msg(p.IDENTIFY))
        if self.state in ("ready", "lost"):
            self._set_state("syncing")

    def _lost_port(self, exc: BaseException) -> None:
        self.last_error = str(exc) or type(exc).__name__
        log.warning("bridge: %s failed: %s (reopening)", self.url, self.last_error)
        self._close()
        self._set_state("closed")

    def _close(self) -> None:
        port, self._port = self._port, None
        close_quietly(port, self.url)

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        if state == "closed":
            self.identity = None
        if self.on_state is not None:
            self.on_state(state)

    def _new_session(self) -> Session:
        return Session(self.clock, device_side=False, on_reset=lambda: self._reset_by_device())
