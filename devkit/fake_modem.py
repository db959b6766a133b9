# A GSM modem in software on a pseudo-terminal: answers AT commands, "delivers" texts, fails and unplugs on demand.
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from firmware_bridge.fake_line import FakeLine

CTRL_Z = 0x1A


@dataclass(frozen=True)
class Delivered:
    phone: str
    text: str


class FakeModem(FakeLine):
    """Speaks the AT commands a text needs (ATE0, AT+CMGF, AT+CSCS, AT+CSMP, AT+CMGS with UCS2 hex) as a USB modem
    does. A text counts as delivered only when its Ctrl-Z arrives and the modem answers +CMGS. `refuse` makes the
    next texts fail with +CMS ERROR; `unplug_mid_text` pulls the cable while a text is half sent; `garbage` answers
    every command with these bytes instead."""

    def __init__(self, folder: str | Path, name: str = "modem") -> None:
        super().__init__(folder, name)
        self.delivered: list[Delivered] = []
        self.commands: list[str] = []
        self.refuse = 0
        self.unplug_mid_text = False
        self.cut = 0  # texts lost to a pulled cable before their Ctrl-Z
        self.garbage: bytes | None = None
        self._buffer = b""
        self._to: str | None = None  # the number of the text being typed after the "> " prompt
        self._reference = 0
        self._lock = threading.Lock()

    def booted(self) -> None:
        self._buffer, self._to = b"", None

    def exchange(self, data: bytes) -> bytes:
        with self._lock:
            self._buffer += data
            out = b""
            while True:
                if self._to is not None:  # typing a text: it ends with Ctrl-Z
                    if self.unplug_mid_text and self._buffer:  # pulled as the text arrives: never sent
                        self.unplug_mid_text, self._buffer, self._to = False, b"", None
                        self.cut += 1
                        threading.Thread(target=self.unplug, daemon=True).start()  # not from its own thread
                        return b""
                    if CTRL_Z not in self._buffer:
                        return out
                    text, _, self._buffer = self._buffer.partition(bytes([CTRL_Z]))
                    out += self._text(self._to, text)
                    self._to = None
                    continue
                if b"\r" not in self._buffer:
                    return out
                line, _, self._buffer = self._buffer.partition(b"\r")
                out += self._command(line.strip().decode("ascii", "replace"))

    def _command(self, line: str) -> bytes:
        if not line:
            return b""
        self.commands.append(line)
        if self.garbage is not None:
            return self.garbage
        if line.startswith("AT+CMGS="):
            self._to = _from_ucs2(line.split("=", 1)[1].strip('"'))
            return b"\r\n> "
        if line in ("AT", "ATE0", "AT+CMGF=1", 'AT+CSCS="UCS2"') or line.startswith("AT+CSMP="):
            return b"\r\nOK\r\n"
        return b"\r\nERROR\r\n"

    def _text(self, phone: str, hex_text: bytes) -> bytes:
        if self.refuse:
            self.refuse -= 1
            return b"\r\n+CMS ERROR: 500\r\n"
        self._reference += 1
        self.delivered.append(Delivered(phone, _from_ucs2(hex_text.decode("ascii", "replace").strip())))
        return f"\r\n+CMGS: {self._reference}\r\n\r\nOK\r\n".encode()


def _from_ucs2(hex_text: str) -> str:
    try:
        return bytes.fromhex(hex_text).decode("utf-16-be")
    except ValueError:
        return f"<not UCS2: {hex_text[:40]}>"
