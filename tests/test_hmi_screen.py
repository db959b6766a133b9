# The screen every people-facing device opens (hmi/screen.py) under SDL's dummy driver: its size, pointer and taps.
from __future__ import annotations

from collections.abc import Iterator

import pygame
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmi.screen import open_screen, tap_position, unseen


@pytest.fixture(scope="module")
def screen() -> Iterator[pygame.Surface]:
    yield open_screen("motcua test", False, (800, 480))
    pygame.display.quit()


def test_one_touch_counts_once_whether_it_comes_as_a_finger_a_click_or_both(screen: pygame.Surface) -> None:
    """A Pi's touch panel may send a finger and a click SDL marks `touch` for the same touch: only the finger counts."""
    finger = pygame.event.Event(pygame.FINGERDOWN, x=0.5, y=0.25, touch_id=0, finger_id=0, pressure=1.0)
    echoed = pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(400, 120), touch=True)
    assert [tap_position(e, screen) for e in (finger, echoed)] == [(400, 120), None]
    assert tap_position(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(7, 9), touch=False), screen) == (7, 9)
    assert tap_position(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=3, pos=(7, 9), touch=False), screen) is None
    assert tap_position(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=(7, 9), touch=False), screen) is None
    assert tap_position(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN), screen) is None


@settings(max_examples=200, deadline=None)
@given(x=st.floats(0, 1, exclude_max=True), y=st.floats(0, 1, exclude_max=True))
def test_a_finger_anywhere_on_the_panel_lands_on_a_pixel_of_the_screen(screen: pygame.Surface, x: float,
                                                                       y: float) -> None:
    pos = tap_position(pygame.event.Event(pygame.FINGERDOWN, x=x, y=y, touch_id=0, finger_id=0, pressure=1.0), screen)
    assert pos is not None and screen.get_rect().collidepoint(pos)


def test_a_driver_asked_for_is_not_taken_for_a_missing_screen(screen: pygame.Surface,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests and a headless demo ask SDL for its dummy driver: that is no missing screen (the fleet page stays
    quiet); the same driver taken without being asked is (tests/test_fleet.py runs a board so)."""
    assert pygame.display.get_driver() == "dummy"
    monkeypatch.setenv("SDL_VIDEODRIVER", "kmsdrm, dummy")
    assert unseen() is None
    monkeypatch.setenv("SDL_VIDEODRIVER", "kmsdrm")
    assert unseen() == "dummy"
