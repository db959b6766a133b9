# USB printer backend (pyusb): endpoint writes and status reads with millisecond timeouts, never timeout=0.
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bus.config import opt
from kiosk.printing.base import StreamPrinter

SPEC = "usb:VENDOR:PRODUCT"
HEX4 = r"[0-9a-fA-F]{4}"


@dataclass(frozen=True)
class Options:
    usb_vendor: str = opt(pattern=HEX4, doc="the vendor id lsusb shows, e.g. 04b8")
    usb_product: str = opt(pattern=HEX4, doc="the product id lsusb shows, e.g. 0e15")


def from_spec(where: str) -> dict[str, Any] | None:
    if not re.fullmatch(f"{HEX4}:{HEX4}", where):
        return None
    vendor, product = where.lower().split(":")
    return {"usb_vendor": vendor, "usb_product": product}


def make(section: Any) -> UsbPrinter:
    return UsbPrinter(int(section.options.usb_vendor, 16), int(section.options.usb_product, 16), section.profile,
                      section.timeout_s)


class UsbPrinter(StreamPrinter):
    """Needs the `usb` extra (pyusb) and a udev rule giving the kiosk user the device (see docs/kiosk.md)."""

    name = "usb"

    def __init__(self, vendor: int, product: int, profile: str, timeout: float, usb_backend: object = None) -> None:
        super().__init__(timeout)
        self.usb_backend = usb_backend  # None: libusb; tests pass a pyusb backend that simulates a printer
        self.vendor = vendor
        self.product = product
        self.profile = profile
        self._dev = None
        self._out = None
        self._in = None

    def _open(self) -> None:
        try:
            import usb.core  # only this backend needs pyusb
            import usb.util
        except ImportError:
            raise OSError("pyusb is not installed: pip install 'motcua[usb]'") from None

        dev = usb.core.find(idVendor=self.vendor, idProduct=self.product, backend=self.usb_backend)
        if dev is None:
            raise OSError(f"no USB printer {self.vendor:04x}:{self.product:04x}")
        if dev.is_kernel_driver_active(0):
            dev.detach_kernel_driver(0)
        dev.set_configuration()
        intf = dev.get_active_configuration()[(0, 0)]
        direction = usb.util.endpoint_direction
        self._out = usb.util.find_descriptor(intf, custom_match=lambda e: direction(e.bEndpointAddress) == 0)
        self._in = usb.util.find_descriptor(intf, custom_match=lambda e: direction(e.bEndpointAddress) == 0x80)
        self._dev = dev

    def _send(self, data: bytes) -> None:
        assert self._out is not None
        self._out.write(data, timeout=int(self.timeout * 1000))

    def _recv(self, size: int) -> bytes:
        if self._in is None:
            return b""
        import usb.core

        try:
            return bytes(self._in.read(size, timeout=int(min(self.timeout, 0.5) * 1000)))
        except usb.core.USBTimeoutError:
            return b""

    def _shut(self) -> None:
        if self._dev is not None:
            import usb.util

            usb.util.dispose_resources(self._dev)
            self._dev = self._out = self._in = None
