# Network printer backend (raw TCP, port 9100): connect, send and status reads all under a timeout.
from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from bus.config import opt
from kiosk.printing.base import StreamPrinter

SPEC = "network:HOST[:PORT]"


@dataclass(frozen=True)
class Options:
    host: str = opt(doc="the printer's address on the LAN")
    port: int = opt(9100, lo=1, hi=65535)


def from_spec(where: str) -> dict[str, Any] | None:
    host, _, port = where.partition(":")
    if not host or (port and not (port.isascii() and port.isdigit())):
        return None
    return {"host": host, **({"port": int(port)} if port else {})}


def make(section: Any) -> NetworkPrinter:
    return NetworkPrinter(section.options.host, section.options.port, section.profile, section.timeout_s)


class NetworkPrinter(StreamPrinter):
    name = "network"

    def __init__(self, host: str, port: int, profile: str, timeout: float) -> None:
        super().__init__(timeout)
        self.host = host
        self.port = port
        self.profile = profile
        self._sock: socket.socket | None = None

    def _open(self) -> None:
        self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, data: bytes) -> None:
        assert self._sock is not None
        self._sock.sendall(data)

    def _recv(self, size: int) -> bytes:
        assert self._sock is not None
        self._sock.settimeout(min(self.timeout, 0.5))
        try:
            return self._sock.recv(size)
        except TimeoutError:
            return b""
        finally:
            self._sock.settimeout(self.timeout)

    def _shut(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
