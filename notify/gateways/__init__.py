# Message gateways: one small interface, one backend per file with its own options, chosen by [notify] gateway.
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

# Each backend module has `Options` (its own [gateway] keys) and `make(options, data_dir)`; only the chosen one is
# imported, and only it imports what it needs (pyserial for the modem).
BACKENDS = {
    "gsm": "notify.gateways.gsm",  # a USB GSM/4G modem speaking AT commands: works with no internet
    "zns": "notify.gateways.zns",  # Zalo's notification service over HTTPS, where the ward has internet
    "fake": "notify.gateways.fake",  # a file of what would have been sent, for tests and the demo
}


@dataclass(frozen=True)
class Outgoing:
    """One message to one phone: its text (for SMS) and its fields (for a template service such as Zalo ZNS)."""

    id: int
    phone: str  # 0xxxxxxxxx, a Vietnamese mobile number as people write it
    kind: str  # "near" or "called"
    text: str
    fields: dict[str, Any]


class Gateway(Protocol):
    name: str

    def send(self, message: Outgoing) -> str:
        """Hands `message` over; returns the gateway's reference for it, or raises GatewayError."""

    def close(self) -> None: ...


def backend(name: str) -> ModuleType:
    return importlib.import_module(BACKENDS[name])
