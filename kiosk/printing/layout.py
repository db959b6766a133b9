# Ticket layout: the parts of a printed ticket, with Vietnamese text rasterised by Pillow in the bundled font.
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

from hmi.fonts import font_path


@dataclass(frozen=True)
class TicketData:
    """What goes on a ticket; text is normalised to NFC when rasterised."""

    ward: str
    label: str
    service: str
    issued: str  # local date and time as printed, e.g. "22/11/2026 09:41"
    ahead: str  # already worded: "3", or "chưa rõ" when offline
    wait: str  # the wait range already worded, e.g. "15–25 phút" or "chưa ước tính được"
    qr_url: str = ""
    qr_caption: str = ""
    footer: str = ""
    offline_note: str = ""
    lang: str = "vi"


@dataclass(frozen=True)
class Raster:
    image: Image.Image  # mode "1", width <= paper width


@dataclass(frozen=True)
class BigText:
    text: str  # ASCII only: printed with the printer's own font, magnified
    magnify: int = 4


@dataclass(frozen=True)
class Qr:
    data: str
    module_px: int = 6


@dataclass
class Layout:
    width_px: int
    parts: list[Raster | BigText | Qr] = field(default_factory=list)


WORDS = {
    "vi": {"number": "SỐ THỨ TỰ CỦA BẠN", "ahead": "Số người chờ trước bạn", "wait": "Thời gian chờ dự kiến",
           "time": "Giờ lấy số"},
    "en": {"number": "YOUR NUMBER", "ahead": "People ahead of you", "wait": "Expected wait", "time": "Taken at"},
}


@lru_cache(maxsize=16)
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(bold)), size)


def raster_lines(lines: list[tuple[str, int, bool]], width_px: int, center: bool = True) -> Image.Image:
    """Draws lines of (text, pixel size, bold) into one 1-bit image, wrapping at `width_px`, as tall as needed."""
    wrapped: list[tuple[str, ImageFont.FreeTypeFont]] = []
    for text, size, bold in lines:
        font = _font(size, bold)
        for line in _wrap(unicodedata.normalize("NFC", text), font, width_px):
            wrapped.append((line, font))
    heights = [int(font.size * 1.35) for _, font in wrapped]
    image = Image.new("1", (width_px, max(1, sum(heights))), 1)
    draw = ImageDraw.Draw(image)
    y = 0
    for (line, font), h in zip(wrapped, heights, strict=True):
        w = draw.textlength(line, font=font)
        draw.text(((width_px - w) / 2 if center else 0, y), line, font=font, fill=0)
        y += h
    return _trimmed(image) if center else image


def _trimmed(image: Image.Image) -> Image.Image:
    """The image cut down to its ink's width, evenly on both sides so it stays centred when printed centred: the
    blank margins of a centred line are half the bytes sent to the printer (a raster row is width/8 bytes)."""
    box = ImageOps.invert(image.convert("L")).getbbox()
    if box is None:
        return image
    side = min(box[0], image.width - box[2])
    width = -(-(image.width - 2 * side) // 8) * 8  # whole bytes
    left = max(0, (image.width - width) // 2)
    return image.crop((left, 0, min(image.width, left + width), image.height))


def _wrap(text: str, font: ImageFont.FreeTypeFont, width_px: int) -> list[str]:
    words, lines, current = text.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= width_px or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    return lines + ([current] if current else [])


def ticket_layout(t: TicketData, width_px: int) -> Layout:
    """Small raster areas for the Vietnamese text, the number in the printer's big font, the QR natively."""
    w = WORDS.get(t.lang, WORDS["vi"])
    layout = Layout(width_px)
    layout.parts.append(Raster(raster_lines([(t.ward, 24, True), (w["number"], 22, False)], width_px)))
    layout.parts.append(BigText(t.label))
    info = [(t.service, 28, True), (f"{w['ahead']}: {t.ahead}", 22, False), (f"{w['wait']}: {t.wait}", 22, False),
            (f"{w['time']}: {t.issued}", 20, False)]
    if t.offline_note:
        info.append((t.offline_note, 18, False))
    layout.parts.append(Raster(raster_lines(info, width_px)))
    if t.qr_url:
        layout.parts.append(Qr(t.qr_url))
        if t.qr_caption:
            layout.parts.append(Raster(raster_lines([(t.qr_caption, 18, False)], width_px)))
    if t.footer:
        layout.parts.append(Raster(raster_lines([(t.footer, 18, False)], width_px)))
    return layout
