# Drawing helpers for the screens (kiosk, rating, board): Vietnamese text (NFC, bundled font), buttons, QR surfaces.
from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pygame
import qrcode

from hmi.fonts import font_path

INK = (20, 33, 61)
PAPER = (247, 246, 242)
ACCENT = (176, 32, 38)  # the red of public notices
CALM = (36, 96, 160)
MUTED = (100, 108, 120)  # small print: at least 4.5:1 on PAPER
TILE = (255, 255, 255)
WARN_BG = (255, 243, 205)
OK_BG = (226, 240, 230)
WHITE = (255, 255, 255)


def contrast(a: tuple, b: tuple) -> float:
    """The WCAG contrast ratio of two sRGB colours (1 to 21; text wants 4.5)."""
    def luminance(colour: tuple) -> float:
        c = [v / 255 for v in colour[:3]]
        r, g, b = (v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def ink_on(colour: tuple) -> tuple:
    """White or the dark ink, whichever reads better on `colour` (white on yellow does not)."""
    return WHITE if contrast(WHITE, colour) >= contrast(INK, colour) else INK


@lru_cache(maxsize=2)
def _font_file(bold: bool) -> bytes:
    return font_path(bold).read_bytes()


@lru_cache(maxsize=128)
def font(size: int, bold: bool = False) -> pygame.font.Font:
    """The bundled font at `size` pixels, read from memory: a font opened by name holds its file open for as long as
    it lives, one descriptor per size, and a board that shrinks long names to fit meets new sizes all day."""
    return pygame.font.Font(io.BytesIO(_font_file(bold)), max(8, size))


def text(surface: pygame.Surface, words: str, pos: tuple[int, int], size: int, colour: tuple = INK,
         bold: bool = False, center: bool = False) -> pygame.Rect:
    image = font(size, bold).render(unicodedata.normalize("NFC", words), True, colour)
    rect = image.get_rect(center=pos) if center else image.get_rect(topleft=pos)
    surface.blit(image, rect)
    return rect


def wrapped(surface: pygame.Surface, words: str, area: pygame.Rect, size: int, colour: tuple = INK,
            bold: bool = False, center: bool = False) -> int:
    """Draws `words` wrapped inside `area`; returns the y below the last line."""
    f = font(size, bold)
    y = area.top
    for line in wrap(f, unicodedata.normalize("NFC", words), area.width):
        y = _line(surface, f, line, area, y, colour, center)
    return y


def wrap(face: pygame.font.Font, words: str, width: int) -> list[str]:
    """`words` broken into lines of at most `width` pixels in `face`, at spaces (a word wider than that stands
    alone on its line); [] when there are none."""
    lines: list[str] = []
    for word in words.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and face.size(trial)[0] <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines


def _line(surface: pygame.Surface, f: pygame.font.Font, line: str, area: pygame.Rect, y: int, colour: tuple,
          center: bool) -> int:
    image = f.render(line, True, colour)
    x = area.centerx - image.get_width() // 2 if center else area.left
    surface.blit(image, (x, y))
    return y + f.get_linesize()


@dataclass
class Button:
    action: str
    rect: pygame.Rect
    label: str
    sub: str = ""
    colour: tuple = TILE
    ink: tuple = INK
    enabled: bool = True

    def draw(self, surface: pygame.Surface, scale: float) -> None:
        colour = self.colour if self.enabled else (225, 225, 225)
        pygame.draw.rect(surface, colour, self.rect, border_radius=int(14 * scale))
        pygame.draw.rect(surface, (200, 204, 210), self.rect, width=max(1, int(2 * scale)),
                         border_radius=int(14 * scale))
        inner = self.rect.inflate(-int(20 * scale), -int(12 * scale))
        size, lines = fit(self.label, inner.width, inner.height, int(32 * scale), bold=True)
        sub_size = int(size * 0.7)
        block = len(lines) * font(size, True).get_linesize() + (font(sub_size).get_linesize() if self.sub else 0)
        y = inner.centery - block // 2
        for line in lines:
            image = font(size, True).render(line, True, self.ink if self.enabled else MUTED)
            surface.blit(image, (inner.centerx - image.get_width() // 2, y))
            y += font(size, True).get_linesize()
        if self.sub:
            text(surface, self.sub, (inner.centerx, y + font(sub_size).get_linesize() // 2), sub_size, MUTED,
                 center=True)


def fit(words: str, width: int, height: int, size: int, bold: bool = False) -> tuple[int, list[str]]:
    """The largest size (down from `size`) at which `words` wraps into `width` x `height`, and its lines."""
    words = unicodedata.normalize("NFC", words)
    while True:
        f = font(size, bold)
        lines = wrap(f, words, width) or [""]
        fits = len(lines) * f.get_linesize() <= height and all(f.size(x)[0] <= width for x in lines)
        if fits or size <= 10:
            return size, lines
        size = int(size * 0.9)


@lru_cache(maxsize=32)
def qr_surface(data: str, px: int) -> pygame.Surface:
    qr = qrcode.QRCode(border=2)
    qr.add_data(data)
    image = qr.make_image().get_image().convert("RGB").resize((px, px), 0)
    return pygame.image.frombytes(image.tobytes(), image.size, "RGB")
