# Ticket preview: the same layout parts drawn into a PNG, as the printer would print them.
from __future__ import annotations

from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from hmi.fonts import font_path
from kiosk.printing.layout import BigText, Layout, Qr, Raster

FONT_A = (12, 24)  # ESC/POS font A cell, dots


def render(layout: Layout, margin: int = 16) -> Image.Image:
    blocks = [_block(part, layout.width_px) for part in layout.parts]
    height = sum(b.height for b in blocks) + margin * (len(blocks) + 1)
    page = Image.new("L", (layout.width_px + 2 * margin, height), 255)
    y = margin
    for block in blocks:
        page.paste(block.convert("L"), (margin + (layout.width_px - block.width) // 2, y))
        y += block.height + margin
    return page


def save(layout: Layout, path: str | Path) -> Path:
    render(layout).save(path, format="PNG")
    return Path(path)


def _block(part: Raster | BigText | Qr, width_px: int) -> Image.Image:
    if isinstance(part, Raster):
        return part.image
    if isinstance(part, BigText):
        cell_w, cell_h = FONT_A[0] * part.magnify, FONT_A[1] * part.magnify
        image = Image.new("1", (min(width_px, cell_w * len(part.text)), cell_h), 1)
        font = ImageFont.truetype(str(font_path(True)), int(cell_h * 0.8))
        draw = ImageDraw.Draw(image)
        for i, ch in enumerate(part.text):
            w = draw.textlength(ch, font=font)
            draw.text((i * cell_w + (cell_w - w) / 2, 0), ch, font=font, fill=0)
        return image
    qr = qrcode.QRCode(box_size=part.module_px, border=2)
    qr.add_data(part.data)
    return qr.make_image().get_image().convert("1")
