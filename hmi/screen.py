# A device's screen: full screen with the pointer hidden on the device itself, a window of a given size elsewhere.
from __future__ import annotations

import pygame


def open_screen(caption: str, fullscreen: bool, size: tuple[int, int]) -> pygame.Surface:
    """Opens the one pygame screen of a kiosk, a board or a rating terminal. Full screen takes the display's own size
    (a 7" touch panel, a TV) and hides the mouse pointer, so a desktop's title bar, taskbar and arrow never show to
    citizens; otherwise a window of `size` (a developer's machine, the tests, the demo)."""
    pygame.display.init()
    pygame.font.init()
    pygame.display.set_caption(caption)
    if fullscreen:
        screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
        pygame.mouse.set_visible(False)
        return screen
    return pygame.display.set_mode(size)


def tap_position(event: pygame.event.Event, screen: pygame.Surface) -> tuple[int, int] | None:
    """Where on `screen` a tap landed, or None for any other event. A Pi's touch panel may send a finger, a mouse click,
    or both for one touch (SDL marks that click `touch`): each touch counts once."""
    if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and not getattr(event, "touch", False):
        return event.pos
    if event.type == pygame.FINGERDOWN:
        w, h = screen.get_size()
        return int(event.x * w), int(event.y * h)
    return None
