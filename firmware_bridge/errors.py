# Exceptions raised by the firmware bridge: protocol violations and link failures.
from __future__ import annotations


class BridgeError(Exception):
    """Base class for every error the firmware bridge raises."""


class ProtocolError(BridgeError):
    """Bytes or a message that break the bridge protocol; says which part and why."""


class LinkError(BridgeError):
    """The serial port could not be opened or used; names the port."""
