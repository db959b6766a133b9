# Ticket printing: the printer interface, one backend per file with its own options, chosen by the kiosk's [printer].
from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from bus.config import build, opt
from bus.errors import ConfigError
from kiosk.printing import profiles
from kiosk.printing.base import TicketPrinter

# Each backend module has `Options` (its own [printer] keys), `SPEC` and `from_spec` (how `motcua enrol --printer`
# names it) and `make(section)`; only the chosen one is imported, and only it imports its hardware library.
BACKENDS = {
    "usb": "kiosk.printing.usb",
    "serial": "kiosk.printing.serial",
    "network": "kiosk.printing.network",
    "file": "kiosk.printing.file",
    "fake": "kiosk.printing.fake",
}


@dataclass(frozen=True)
class PrinterSection:
    """What every printer has; the rest of [printer] is the chosen backend's `Options`, in `options`."""

    backend: str = opt(choices=tuple(BACKENDS), doc="required: the fake printer is never chosen by accident")
    profile: str = opt("TM-T20II", doc="a python-escpos printer profile (paper width, QR support)")
    timeout_s: float = opt(3.0, lo=0.2, hi=30.0)
    native_qr: bool = opt(True, doc="print the QR code with the printer's own command where the profile has it")
    width_px: int = opt(0, lo=0, hi=1024, doc="0: the profile's width")
    options: Any = field(default=None, metadata={"internal": True})


def backend(name: str) -> ModuleType:
    return importlib.import_module(BACKENDS[name])


def load_section(data: Any, source: str, where: str) -> PrinterSection:
    """Builds [printer]: the common keys, then the chosen backend's own, each checked by its owner."""
    if not isinstance(data, dict):
        raise ConfigError(source, where, f"expected a table, got {type(data).__name__}")
    common = {k: v for k, v in data.items() if k in _COMMON}
    section = build(PrinterSection, common, source, where)
    if not profiles.known(section.profile):
        raise ConfigError(source, f"{where}.profile", f"unknown printer profile {section.profile!r}")
    own = backend(section.backend).Options
    options = build(own, {k: v for k, v in data.items() if k not in _COMMON}, source, where)
    return dataclasses.replace(section, options=options)


_COMMON = {f.name for f in dataclasses.fields(PrinterSection) if not f.metadata.get("internal")}


def make_printer(section: PrinterSection) -> TicketPrinter:
    """Builds the backend `section.backend` names, with the profile's native QR where it has one."""
    printer: TicketPrinter = backend(section.backend).make(section)
    printer.native_qr = section.native_qr and profiles.supports_qr(section.profile)
    return printer


def from_spec(spec: str) -> dict[str, Any] | None:
    """The [printer] keys for `motcua enrol --printer BACKEND:WHERE`, or None if no backend reads it."""
    name, _, where = spec.partition(":")
    if name not in BACKENDS or name == "fake":
        return None
    keys = backend(name).from_spec(where)
    return {"backend": name, **keys} if keys is not None else None


def specs() -> str:
    """How each real backend is named on the command line: usb:VENDOR:PRODUCT, serial:PORT, ..."""
    return ", ".join(backend(name).SPEC for name in BACKENDS if name != "fake")
