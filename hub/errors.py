# Exceptions raised by the hub package.
from __future__ import annotations


class HubError(Exception):
    """Base class for hub errors."""


class QueueRefused(HubError):
    """A queue operation was refused for a reason the requester can act on; `code` is machine-readable."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"{code}: {reason}")
