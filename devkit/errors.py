# Exceptions raised by the dev kit: a throwaway server or a child process that would not start.
from __future__ import annotations


class DevkitError(Exception):
    """Base class for dev kit errors."""


class BrokerError(DevkitError):
    """A throwaway broker could not be started."""
