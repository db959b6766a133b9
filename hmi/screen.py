# A device's screen: full screen with the pointer hidden on the device itself, a window of a given size elsewhere.
from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import pygame

if TYPE_CHECKING:
    from bus.client import BusClient

log = logging.getLogger(__name__)
INVISIBLE = ("offscreen", "dummy")  # SDL's drivers that draw into memory only: nobody sees them
NO_SCREEN = ("on Raspberry Pi OS Lite the device draws on the display through KMS/DRM (its service has the video and "
             "render groups, and no desktop may hold the display); SDL_VIDEODRIVER names a driver to use")


def open_screen(caption: str, fullscreen: bool, size: tuple[int, int], bus: BusClient | None = None) -> pygame.Surface:
    """Opens the one pygame screen of a kiosk, a board or a rating terminal. Full screen takes the display's own size
    (a 7" touch panel, a TV) and hides the mouse pointer, so a desktop's title bar, taskbar and arrow never show to
    citizens; otherwise a window of `size` (a developer's machine, the tests, the demo). A device that found no
    screen at all says so in its log and its state (`bus`), for the fleet page: SDL then draws into memory and the
    device would otherwise look well while its screen stays dark."""
    pygame.display.init()
    pygame.font.init()
    pygame.display.set_caption(caption)
    if fullscreen:
        screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
        pygame.mouse.set_visible(False)
    else:
        screen = pygame.display.set_mode(size)
    if (driver := unseen()) is not None:
        log.error("%s: no screen found: SDL draws into memory ('%s'), nothing is shown; %s", caption, driver, NO_SCREEN)
        if bus is not None:
            bus.facts["screen_unseen"] = driver
    return screen


def unseen() -> str | None:
    """The driver SDL fell back to when it is one nobody sees (no display, or none this process may use); None
    when it draws on a screen, or when SDL_VIDEODRIVER asked for an invisible one (the tests, a headless demo)."""
    driver = pygame.display.get_driver()
    asked = os.environ.get("SDL_VIDEODRIVER", "").lower().replace(" ", "").split(",")
    return driver if driver in INVISIBLE and driver not in asked else None


def tap_position(event: pygame.event.Event, screen: pygame.Surface) -> tuple[int, int] | None:
    """Where on `screen` a tap landed, or None for any other event. A Pi's touch panel may send a finger, a mouse click,
    or both for one touch (SDL marks that click `touch`): each touch counts once."""
    if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and not getattr(event, "touch", False):
        return event.pos
    if event.type == pygame.FINGERDOWN:
        w, h = screen.get_size()
        return int(event.x * w), int(event.y * h)
    return None
