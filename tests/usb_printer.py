# Test tool: a USB thermal printer simulated through pyusb's own backend interface (usb.backend.IBackend).
from __future__ import annotations

import array
from types import SimpleNamespace

import usb.backend
import usb.core

EP_OUT, EP_IN = 0x01, 0x81


class SimulatedUsbPrinter(usb.backend.IBackend):
    """One printer-class device (vendor:product) with a bulk OUT and a bulk IN endpoint. It keeps what it receives,
    answers DLE EOT status queries with `status_byte`, and can be unplugged."""

    def __init__(self, vendor: int = 0x04B8, product: int = 0x0202) -> None:
        self.vendor, self.product = vendor, product
        self.received = bytearray()
        self.pending = bytearray()
        self.status_byte = 0x12
        self.plugged = True
        self.answer = True
        self.timeouts: list[int] = []
        self.config_value = 0

    def _gone(self) -> None:
        if not self.plugged:
            raise usb.core.USBError("No such device", errno=19)

    def enumerate_devices(self):  # noqa: ANN201 - pyusb's interface
        return [SimpleNamespace(id="printer")] if self.plugged else []

    def get_device_descriptor(self, dev):  # noqa: ANN001, ANN201
        return SimpleNamespace(bLength=18, bDescriptorType=1, bcdUSB=0x0200, bDeviceClass=0, bDeviceSubClass=0,
                               bDeviceProtocol=0, bMaxPacketSize0=64, idVendor=self.vendor, idProduct=self.product,
                               bcdDevice=0x0100, iManufacturer=0, iProduct=0, iSerialNumber=0, bNumConfigurations=1,
                               address=5, bus=1, port_number=1, port_numbers=(1,), speed=2)

    def get_configuration_descriptor(self, dev, config):  # noqa: ANN001, ANN201
        return SimpleNamespace(bLength=9, bDescriptorType=2, wTotalLength=32, bNumInterfaces=1,
                               bConfigurationValue=1, iConfiguration=0, bmAttributes=0xC0, bMaxPower=50,
                               extra_descriptors=[])

    def get_interface_descriptor(self, dev, intf, alt, config):  # noqa: ANN001, ANN201
        return SimpleNamespace(bLength=9, bDescriptorType=4, bInterfaceNumber=0, bAlternateSetting=0,
                               bNumEndpoints=2, bInterfaceClass=7, bInterfaceSubClass=1, bInterfaceProtocol=2,
                               iInterface=0, extra_descriptors=[])

    def get_endpoint_descriptor(self, dev, ep, intf, alt, config):  # noqa: ANN001, ANN201
        return SimpleNamespace(bLength=7, bDescriptorType=5, bEndpointAddress=(EP_OUT, EP_IN)[ep], bmAttributes=2,
                               wMaxPacketSize=64, bInterval=0, bRefresh=0, bSynchAddress=0, extra_descriptors=[])

    def open_device(self, dev):  # noqa: ANN001, ANN201
        self._gone()
        return SimpleNamespace(handle="printer")

    def close_device(self, handle) -> None:  # noqa: ANN001
        return None

    def set_configuration(self, handle, config_value) -> None:  # noqa: ANN001
        self._gone()
        self.config_value = config_value

    def get_configuration(self, handle):  # noqa: ANN001, ANN201
        return self.config_value

    def claim_interface(self, handle, intf) -> None:  # noqa: ANN001
        self._gone()

    def release_interface(self, handle, intf) -> None:  # noqa: ANN001
        return None

    def is_kernel_driver_active(self, handle, intf):  # noqa: ANN001, ANN201
        return False

    def bulk_write(self, handle, ep, intf, data, timeout):  # noqa: ANN001, ANN201
        self._gone()
        self.timeouts.append(timeout)
        data = bytes(data)
        self.received += data
        if self.answer:
            self.pending += bytes([self.status_byte]) * data.count(b"\x10\x04")
        return len(data)

    def bulk_read(self, handle, ep, intf, buff, timeout):  # noqa: ANN001, ANN201
        self._gone()
        self.timeouts.append(timeout)
        if not self.pending:
            raise usb.core.USBTimeoutError("Operation timed out", errno=110)
        n = min(len(buff), len(self.pending))
        buff[:n] = array.array("B", self.pending[:n])
        del self.pending[:n]
        return n
