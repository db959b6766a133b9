# The rating device's config section: its counter, keypad or touch mode, pins, scale and feedback LEDs.
from __future__ import annotations

from dataclasses import dataclass

from bus.config import DeviceConfig, load, opt
from bus.errors import ConfigError


@dataclass(frozen=True)
class RatingSection:
    counter: int = opt(lo=1, hi=999)
    mode: str = opt("keypad", choices=("keypad", "touch"))
    pins: list[int] = opt(default_factory=list, lo=0, hi=53,
                          doc="keypad: one button per level, best first (Rất hài lòng ... Không hài lòng)")
    scale: int = opt(3, lo=3, hi=5, doc="touch: how many levels")
    follow_up: bool = opt(True, doc="touch: ask why after a poor rating")
    ask_visits: bool = opt(False, doc="touch: ask how many visits this procedure took (one more tap)")
    fullscreen: bool = opt(True, doc="touch: the whole display, no pointer; false: a window of the size below")
    screen_width: int = opt(800, lo=320, hi=3840)
    screen_height: int = opt(480, lo=240, hi=2160)
    led_ok: int = opt(-1, lo=-1, hi=53)
    led_refused: int = opt(-1, lo=-1, hi=53)
    bounce_s: float = opt(0.05, lo=0.0, hi=1.0)
    hold_off_s: float = opt(1.5, lo=0.2, hi=30.0, doc="presses closer than this to the last one are ignored")


SECTIONS = {"rating": RatingSection}


def load_rating(path: str) -> tuple[DeviceConfig, RatingSection]:
    config = load(path, SECTIONS)
    section: RatingSection = config.sections["rating"]
    if section.mode == "keypad" and len(section.pins) not in (3, 4, 5):
        raise ConfigError(config.source, "rating.pins", f"{len(section.pins)} buttons; a scale has 3, 4 or 5 levels")
    return config, section
