# Test tool: decodes the ESC/POS byte stream our printers receive into text, raster images and QR payloads.
from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

ONE_ARG = {b"\x1b@": 0, b"\x1ba": 1, b"\x1bE": 1, b"\x1b!": 1, b"\x1bt": 1, b"\x1bd": 1, b"\x1b-": 1, b"\x1bM": 1,
           b"\x1bG": 1, b"\x1b{": 1, b"\x1d!": 1, b"\x1dB": 1, b"\x1db": 1}


@dataclass
class Decoded:
    text: bytes = b""
    rasters: list[Image.Image] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)
    cut: bool = False
    sizes: list[int] = field(default_factory=list)  # GS ! arguments seen


def decode(job: bytes) -> Decoded:
    """Walks the stream command by command; an unknown command raises, so a test notices what it cannot read."""
    out, i = Decoded(), 0
    while i < len(job):
        two, three = job[i:i + 2], job[i:i + 3]
        if three == b"\x1dv0":
            xl, xh, yl, yh = job[i + 4:i + 8]
            w, h = xl + 256 * xh, yl + 256 * yh
            data = job[i + 8:i + 8 + w * h]
            out.rasters.append(Image.frombytes("1", (w * 8, h), bytes(b ^ 0xFF for b in data)))
            i += 8 + w * h
        elif three == b"\x1d(k":
            n = job[i + 3] + 256 * job[i + 4]
            body = job[i + 5:i + 5 + n]
            if body[:3] == b"1P0":
                out.qr.append(body[3:].decode("utf-8"))
            i += 5 + n
        elif two == b"\x1dV":
            out.cut = True
            i += 3 if job[i + 2] in (0, 1, 48, 49) else 4
        elif two in ONE_ARG:
            if two == b"\x1d!":
                out.sizes.append(job[i + 2])
            i += 2 + ONE_ARG[two]
        elif job[i] == 0x0A or 0x20 <= job[i] < 0x7F:
            out.text += job[i:i + 1]
            i += 1
        else:
            raise ValueError(f"unknown ESC/POS byte {job[i]:#04x} at {i}: {job[i:i + 8]!r}")
    return out
