# A USB GSM/4G modem on a serial port, spoken to in AT commands (3GPP TS 27.005 text mode, UCS2 for Vietnamese).
from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

import serial

from bus.config import opt
from bus.validation import field_name
from notify.errors import GatewayError
from notify.gateways import Outgoing

CTRL_Z = b"\x1a"
SMS_UCS2 = 70  # characters in one SMS in UCS2: the texts are written to fit (notify/texts.py)
SETUP = (b"ATE0", b"AT+CMGF=1", b'AT+CSCS="UCS2"', b"AT+CSMP=17,167,0,8")  # no echo, text mode, UCS2 text
SENT = re.compile(rb"\+CMGS:\s*(\d+)")
REFUSED = re.compile(rb"\+CM[ES] ERROR:\s*(\d+)|(?<![A-Z])ERROR")


@dataclass(frozen=True)
class Options:
    port: str = opt(doc="the modem's serial device, e.g. /dev/serial/by-id/usb-...-if02 (survives replugging)")
    baud: int = opt(115200, lo=1200, hi=4_000_000)
    timeout_s: float = opt(30.0, lo=1.0, hi=120.0, doc="longest wait for the modem's answer to one message")


class GsmGateway:
    """Opens the port when a message is to go and keeps it open; any failure closes it, so the next message opens
    it again (a replugged modem comes back under the same path). A message is sent only when the modem answers
    +CMGS; an error answer, a silent modem or a pulled cable leave it queued for the next try."""

    name = "gsm"

    def __init__(self, options: Options) -> None:
        self.options = options
        self._port: serial.Serial | None = None

    def send(self, message: Outgoing) -> str:
        try:
            port = self._open()
            port.write(b'AT+CMGS="' + _ucs2(message.phone) + b'"\r')
            self._answer(port, prompt=True)
            port.write(_ucs2(message.text[:SMS_UCS2]) + CTRL_Z)
            answer = self._answer(port)
            found = SENT.search(answer)
            return f"gsm-{found.group(1).decode()}" if found else "gsm"
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise GatewayError(f"modem {self.options.port}: {exc}") from None
        except GatewayError:
            self.close()
            raise

    def _open(self) -> serial.Serial:
        if self._port is None:
            if not Path(self.options.port).exists():
                raise GatewayError(f"modem {self.options.port}: not plugged in (no such device)")
            port = serial.Serial(self.options.port, self.options.baud, timeout=0.2, write_timeout=5)
            try:
                for command in SETUP:
                    port.write(command + b"\r")
                    self._answer(port)
            except BaseException:
                port.close()
                raise
            self._port = port
        return self._port

    def _answer(self, port: serial.Serial, prompt: bool = False) -> bytes:
        """The modem's answer up to OK (or the "> " prompt); GatewayError on an error answer or none in time."""
        got = b""
        deadline = time.monotonic() + self.options.timeout_s
        while time.monotonic() < deadline:
            got += port.read(max(1, port.in_waiting))  # what has come, or wait up to 0.2 s for a byte
            if prompt and b">" in got:
                return got
            if REFUSED.search(got):
                raise GatewayError(f"modem {self.options.port} answered "
                                   f"{field_name(got.strip().decode('ascii', 'replace'))}")
            if not prompt and re.search(rb"(^|\r\n)OK\r\n", got):
                return got
        raise GatewayError(f"modem {self.options.port}: no answer in {self.options.timeout_s:.0f} s")

    def close(self) -> None:
        if self._port is not None:
            with contextlib.suppress(serial.SerialException, OSError):  # already gone with the cable
                self._port.close()
            self._port = None


def _ucs2(text: str) -> bytes:
    """Text as the modem takes it with CSCS="UCS2": each UTF-16 unit as four hex digits."""
    return text.encode("utf-16-be").hex().upper().encode("ascii")


def make(options: Options, data_dir: Path) -> GsmGateway:
    return GsmGateway(options)
