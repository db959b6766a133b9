# Print job: a ticket layout turned into ESC/POS bytes (python-escpos' Dummy composes; a backend only sends).
from __future__ import annotations

from escpos.printer import Dummy

from kiosk.printing.layout import BigText, Layout, Qr, Raster


def compose(layout: Layout, profile: str, native_qr: bool) -> bytes:
    """Raster images for Vietnamese text, the number in the printer's magnified font, the QR native when asked."""
    p = Dummy(profile=profile)
    p.hw("INIT")
    for part in layout.parts:
        if isinstance(part, Raster):
            p.set(align="center")
            p.image(part.image, impl="bitImageRaster", center=False)
        elif isinstance(part, BigText):
            p.set(align="center", bold=True, custom_size=True, width=part.magnify, height=part.magnify)
            p.textln(part.text)
            p.set(normal_textsize=True, bold=False)
        elif isinstance(part, Qr):
            p.set(align="center")
            p.qr(part.data, size=part.module_px, native=native_qr, center=not native_qr)
    p.cut()
    return bytes(p.output)
