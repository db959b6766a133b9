# Exceptions raised by the notify package.
from __future__ import annotations


class NotifyError(Exception):
    """Base class for the notifier's errors."""


class GatewayError(NotifyError):
    """A message could not be handed to the gateway (modem unplugged, an error answer, the service refused); the
    message stays queued and is tried again. `definite` is True when the gateway said for sure it did not send it."""

    def __init__(self, reason: str, definite: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.definite = definite
