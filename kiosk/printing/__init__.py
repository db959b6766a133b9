# Ticket printing: the printer interface, one backend per file, chosen by the kiosk's [printer] config.
from __future__ import annotations

import importlib
from typing import Any

from kiosk.printing.base import TicketPrinter

BACKENDS = {
    "fake": ("kiosk.printing.fake", "FakePrinter"),
    "file": ("kiosk.printing.file", "FilePrinter"),
    "serial": ("kiosk.printing.serial", "SerialPrinter"),
    "network": ("kiosk.printing.network", "NetworkPrinter"),
    "usb": ("kiosk.printing.usb", "UsbPrinter"),
}


def make_printer(cfg: Any) -> TicketPrinter:
    """Builds the backend named by `cfg.backend`; only that backend's module (and hardware library) is imported."""
    module, cls_name = BACKENDS[cfg.backend]
    cls = getattr(importlib.import_module(module), cls_name)
    args: dict[str, Any] = {"profile": cfg.profile}
    if cfg.backend == "file":
        args["path"] = cfg.path
    elif cfg.backend == "serial":
        args.update(port=cfg.path, baudrate=cfg.baudrate, timeout=cfg.timeout_s)
    elif cfg.backend == "network":
        args.update(host=cfg.host, port=cfg.port, timeout=cfg.timeout_s)
    elif cfg.backend == "usb":
        args.update(vendor=int(cfg.usb_vendor, 16), product=int(cfg.usb_product, 16), timeout=cfg.timeout_s)
    else:
        args["timeout"] = cfg.timeout_s
    printer: TicketPrinter = cls(**args)
    printer.native_qr = cfg.native_qr and _supports_qr(cfg.profile)
    return printer


def _supports_qr(profile: str) -> bool:
    from escpos import capabilities

    return bool(capabilities.CAPABILITIES["profiles"].get(profile, {}).get("features", {}).get("qrCode"))
