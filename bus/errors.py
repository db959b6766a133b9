# Exceptions raised by the bus package: contract violations, bad config, outbox failures.
from __future__ import annotations

from typing import Any

from bus.validation import shown


class BusError(Exception):
    """Base class for every error the bus package raises."""


class ContractError(BusError):
    """A message breaks the ward contract; names the field, what was expected and what arrived."""

    def __init__(self, field: str, expected: str, got: Any) -> None:
        self.field = field
        self.expected = expected
        self.got = got
        super().__init__(f"{field}: expected {expected}, got {shown(got)}")

    @property
    def counted_as(self) -> str:
        """The key a receiver counts this refusal under: the field at fault, never a name the sender made up (a
        flood of made-up names would grow the counts without bound)."""
        return "unknown field" if self.expected.startswith(("a known", "no such")) else self.field


class TooLarge(ContractError):
    """A message this device would send does not fit in one even deflated (bus/packed.py): nothing was sent."""


class ConfigError(BusError):
    """A device config is wrong; names the file and the key (or line) at fault."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: {key}: {problem}")


class AccessRefused(BusError):
    """The ward broker's access list does not let this account publish or read a topic; says who and what."""


class BrokerRefused(BusError):
    """The broker refused this client's connection (wrong password, unknown account)."""


class OutboxError(BusError):
    """The durable outbox could not store or read a message."""


class DeviceBusy(BusError):
    """Another process already runs this device (its lock in the data folder is held)."""


class DataFolderError(BusError):
    """A device's data folder cannot be made or used (a file in its place, no permission, a read-only disk)."""


class GpioUnavailable(BusError):
    """A device's GPIO pins cannot be used: no pin library for this board, or a pin the config names is not there
    or taken; says which part of the device and what to do."""
