# The kiosk's config sections: mode, offline block, timeouts, screen and big buttons ([printer]: kiosk/printing).
from __future__ import annotations

import re
from dataclasses import dataclass

from bus.config import DeviceConfig, load, opt
from bus.errors import ConfigError
from bus.validation import SERVICE_CODE
from kiosk.printing import PrinterSection, load_section


def _page_address(value: str) -> bool:
    return not value or (re.fullmatch(r"https?://[!-~]+", value) is not None and "{token}" in value)


@dataclass(frozen=True)
class ButtonsSection:
    services: list[str] = opt(pattern=SERVICE_CODE)
    pins: list[int] = opt(lo=0, hi=53)
    leds: list[int] = opt(default_factory=list, lo=0, hi=53)
    status_led: int = opt(-1, lo=-1, hi=53)
    bounce_s: float = opt(0.05, lo=0.0, hi=1.0)
    hold_off_s: float = opt(2.0, lo=0.2, hi=30.0, doc="a second press within this time is ignored")


@dataclass(frozen=True)
class KioskSection:
    offline_block: int = opt(lo=1, hi=10, doc="unique per kiosk in a ward")
    mode: str = opt("touch", choices=("touch", "buttons"))
    lang: str = opt("vi", choices=("vi", "en"))
    timezone: str = opt("Asia/Ho_Chi_Minh")
    hub_timeout_s: float = opt(1.5, lo=0.2, hi=10.0)
    hub_id: str = opt("hub", doc="the hub's device id; while its state says offline, tickets are issued offline")
    idle_timeout_s: float = opt(30.0, lo=5.0, hi=600.0)
    screen_width: int = opt(1024, lo=320, hi=7680)
    screen_height: int = opt(600, lo=240, hi=4320)
    fullscreen: bool = opt(True)
    catalogue: str = opt("", doc="catalogue file; empty: the one shipped with the kiosk")
    link_template: str = opt("", doc="per-ward portal link with {code}; empty: the catalogue's")
    notify: bool = opt(False, doc="offer 'text me when my turn is near' (the ward runs a notify device)")
    ticket_page: str = opt("", test=(_page_address, "an http:// or https:// address holding {token}, or empty"),
                           doc="the ticket's phone page, e.g. http://10.10.0.2:8080/t/{token} (docs/phone.md); "
                               "empty: the QR links the procedure's portal page")
    footer_vi: str = opt("Vui lòng chờ đến khi số của bạn được gọi.")
    footer_en: str = opt("Please wait until your number is called.")
    preview_dir: str = opt("", doc="write a PNG of every printed ticket here")


SECTIONS = {"kiosk": KioskSection, "printer": load_section, "buttons": ButtonsSection}


def load_kiosk(path: str) -> tuple[DeviceConfig, KioskSection, PrinterSection, ButtonsSection | None]:
    config = load(path, SECTIONS, optional=frozenset({"buttons"}))
    kiosk, printer, buttons = config.sections["kiosk"], config.sections["printer"], config.sections["buttons"]
    check(kiosk, buttons, config.source)
    return config, kiosk, printer, buttons


def check(kiosk: KioskSection, buttons: ButtonsSection | None, source: str) -> None:
    """What one option cannot check alone: big-button mode needs its buttons, one pin each."""
    if kiosk.mode == "buttons":
        if buttons is None:
            raise ConfigError(source, "buttons", "mode = \"buttons\" needs a [buttons] section")
        if len(buttons.pins) != len(buttons.services):
            raise ConfigError(source, "buttons.pins", f"{len(buttons.pins)} pins for {len(buttons.services)} services")
        if buttons.leds and len(buttons.leds) != len(buttons.services):
            raise ConfigError(source, "buttons.leds", f"{len(buttons.leds)} LEDs for {len(buttons.services)} services")
        used = [*buttons.pins, *buttons.leds, *([buttons.status_led] if buttons.status_led >= 0 else [])]
        if len(set(used)) != len(used):
            raise ConfigError(source, "buttons", "a GPIO pin is used twice")

