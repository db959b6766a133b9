# Network printer backend (raw TCP, port 9100): connect, send and status reads all under a timeout.
from __future__ import annotations

import socket

from kiosk.printing.base import StreamPrinter


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
