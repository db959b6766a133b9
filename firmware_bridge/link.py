# The framed protocol's host side on one port: the handshake, the heartbeat, delivery, and the device's state.
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from firmware_bridge import protocol as p
from firmware_bridge.errors import ProtocolError
from firmware_bridge.port import Opener, Port, open_port
from firmware_bridge.session import Session

log = logging.getLogger(__name__)

LINE_IDLE = 0.05
HEARTBEAT = 1.0
LOST_AFTER = 3.0
STATES = ("closed", "syncing", "ready", "lost", "wrong_device")


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
        self.session = self._new_session()
        self._lock = threading.RLock()  # on_state callbacks may send
        self._sent_ping = self._rx_at = 0.0
        self.port = Port(url, baud, self, opener)

    # -- public ----------------------------------------------------------------------------------------------
    def start(self) -> None:
        self.port.start()

    def alive(self) -> bool:
        return self.port.alive()

    def stop(self) -> None:
        self.port.stop()

    @property
    def opened(self) -> int:
        return self.port.opened

    @property
    def last_error(self) -> str:
        return self.port.last_error

    @last_error.setter
    def last_error(self, value: str) -> None:
        self.port.last_error = value

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

    # -- the port's driver: on the port's thread ----------------------------------------------------------
    def on_open(self, port: Any) -> None:
        with self._lock:
            self.session.reset()
        self._rx_at = self.session.heard_at = self.clock()
        self._set_state("syncing")

    def step(self, port: Any) -> None:
        data = port.read(max(1, port.in_waiting))
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
            port.write(out)

    def on_close(self, reason: str) -> None:
        self._set_state("closed")

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
