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
