# The hub's retained states (counters, board, lines): each sent when it changed, not again as it was.
from __future__ import annotations

from typing import Any

from bus.client import BusClient


class RetainedStates:
    """Publishes the retained states the hub rebuilds after changes. A state rebuilt exactly as it was last sent
    (a counter whose first waiting tickets stayed the same while the line grew behind them) is not checked,
    encoded and sent again: the broker still holds it, and its readers already have it. After a reconnect the hub
    `forget`s them all and sends each once more."""

    def __init__(self, bus: BusClient) -> None:
        self.bus = bus
        self._sent: dict[str, dict[str, Any]] = {}  # topic -> the body last handed to the broker

    def publish(self, topic: str, type_: str, body: dict[str, Any]) -> bool:
        """Sends `body` as a retained `type_` message on `topic` unless it is the one sent last; False when nothing
        was sent (unchanged, or the broker is not connected: then it is not remembered either)."""
        if self._sent.get(topic) == body:
            return False
        if self.bus.publish(topic, self.bus.message(type_, body), retain=True, only_when_connected=True) is None:
            return False
        self._sent[topic] = body
        return True

    def forget(self) -> None:
        """Every state goes out again at its next rebuild (after (re)connecting: the broker may have lost them)."""
        self._sent.clear()
