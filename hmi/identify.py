# "Which device is this?": for some seconds a screen flashes a bright frame with the device's name over what it shows.
from __future__ import annotations

import threading
import time

import pygame

from bus.device_commands import host_facts
from hmi.widgets import INK, text

FLASH = (255, 214, 0)  # a yellow nobody mistakes for the normal screen


class IdentifyOverlay:
    """`start(seconds)` may be called from any thread (a device command); the screen thread asks `active(now)` and
    calls `draw(surface)` after its own drawing (it blinks twice a second), and draws everything afresh once it ends."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._until = 0.0
        self._lock = threading.Lock()
        self._lines: list[str] = []

    def start(self, seconds: float) -> str:
        facts = host_facts()
        with self._lock:
            self._lines = [self.device, f"{facts['host']}  {' '.join(facts['addresses'])}".strip()]
            self._until = time.monotonic() + seconds
        return "the screen flashes yellow with the device's name and address"

    def active(self, now: float) -> bool:
        return now < self._until

    def draw(self, surface: pygame.Surface) -> pygame.Rect:
        with self._lock:
            lines = list(self._lines)
        rect = surface.get_rect()
        on = int(time.monotonic() * 2) % 2 == 0
        band = max(12, rect.height // 20)
        pygame.draw.rect(surface, FLASH if on else INK, rect, band)
        box = rect.inflate(-rect.width // 5, -rect.height // 2)
        pygame.draw.rect(surface, FLASH if on else (255, 255, 255), box)
        size = max(18, box.height // 4)
        text(surface, lines[0] if lines else self.device, (box.centerx, box.centery - size // 2), size, INK,
             bold=True, center=True)
        if len(lines) > 1:
            text(surface, lines[1], (box.centerx, box.centery + size // 2 + 8), max(14, size // 2), INK, center=True)
        return rect
