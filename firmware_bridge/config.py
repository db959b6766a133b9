# The bridge's config: which serial port carries which keypad or display, for which counter.
from __future__ import annotations

from dataclasses import dataclass

from bus.config import DeviceConfig, load, opt
from bus.errors import ConfigError

KINDS = ("rating_keypad", "counter_keypad", "led_display", "modbus_display")


@dataclass(frozen=True)
class UnitSection:
    port: str = opt(doc="a device path (best a stable /dev/serial/by-id/... link) or a pyserial URL")
    kind: str = opt(choices=KINDS)
    counter: int = opt(lo=1, hi=999)
    baud: int = opt(115200, choices=(9600, 19200, 38400, 57600, 115200, 230400))
    scale: int = opt(3, lo=3, hi=5, doc="rating_keypad: how many levels its keys give")
    officer: str = opt("", doc="counter_keypad: the officer named when the keypad opens the counter")
    hold_off_s: float = opt(1.5, lo=0.2, hi=30.0, doc="a second press within this time is ignored")
    request_timeout_s: float = opt(3.0, lo=0.5, hi=30.0, doc="counter_keypad: wait this long for the hub")
    modbus_unit: int = opt(1, lo=1, hi=247, doc="modbus_display: the board's Modbus address")
    register: int = opt(0, lo=0, hi=65535, doc="modbus_display: the holding register it shows")


@dataclass(frozen=True)
class BridgeSection:
    units: list[UnitSection] = opt(default_factory=list)


SECTIONS = {"bridge": BridgeSection}


def load_bridge(path: str) -> tuple[DeviceConfig, BridgeSection]:
    config = load(path, SECTIONS)
    section: BridgeSection = config.sections["bridge"]
    if not section.units:
        raise ConfigError(config.source, "bridge.units", "no units; add a [[bridge.units]] table per serial port")
    seen: dict[str, int] = {}
    for i, unit in enumerate(section.units):
        if unit.port in seen:
            raise ConfigError(config.source, f"bridge.units[{i}].port",
                              f"{unit.port!r} is already used by bridge.units[{seen[unit.port]}]")
        seen[unit.port] = i
    return config, section
