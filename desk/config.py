# The desk device's config section: its counter, the buttons' and the status LED's pins, press filtering.
from __future__ import annotations

from dataclasses import dataclass

from bus.config import DeviceConfig, load, opt
from bus.errors import ConfigError

BUTTONS = {"next_pin": "call_next", "recall_pin": "recall", "done_pin": "done"}  # pin option -> counter action


@dataclass(frozen=True)
class DeskSection:
    counter: int = opt(lo=1, hi=999)
    next_pin: int = opt(lo=0, hi=53, doc="the Next button (calls the next citizen; opens the counter if closed)")
    recall_pin: int = opt(-1, lo=-1, hi=53, doc="the Recall button; -1: none")
    done_pin: int = opt(-1, lo=-1, hi=53, doc="the Done button; -1: none")
    led: int = opt(-1, lo=-1, hi=53, doc="status LED: on while the hub answers, blinks on a refusal; -1: none")
    bounce_s: float = opt(0.05, lo=0.0, hi=1.0)
    hold_off_s: float = opt(1.0, lo=0.2, hi=10.0, doc="a second press of the same button within this is ignored")
    request_timeout_s: float = opt(3.0, lo=0.5, hi=30.0)


SECTIONS = {"desk": DeskSection}


def load_desk(path: str) -> tuple[DeviceConfig, DeskSection]:
    config = load(path, SECTIONS)
    section: DeskSection = config.sections["desk"]
    pins = [p for p in (section.next_pin, section.recall_pin, section.done_pin, section.led) if p >= 0]
    if len(set(pins)) != len(pins):
        raise ConfigError(config.source, "desk", f"pins {pins}: each button and the LED need a pin of their own")
    return config, section
