# What a python-escpos printer profile says about the paper and the printer: width in dots, native QR codes.
from __future__ import annotations

from typing import Any


def _profile(name: str) -> dict[str, Any] | None:
    from escpos import capabilities

    found = capabilities.CAPABILITIES["profiles"].get(name)
    return found if isinstance(found, dict) else None


def known(name: str) -> bool:
    return _profile(name) is not None


def width(name: str) -> int:
    """Printable width in dots; 576 (80 mm paper) when the profile does not say."""
    pixels = ((_profile(name) or {}).get("media", {}).get("width", {})).get("pixels")
    return pixels if isinstance(pixels, int) else 576


def supports_qr(name: str) -> bool:
    return bool((_profile(name) or {}).get("features", {}).get("qrCode"))
