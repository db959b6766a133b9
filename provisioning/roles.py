# The roles a device can have: each role's config loader and service, and running whichever a config names.
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import kiosk
from bus.config import read_toml, renamed
from bus.errors import ConfigError

HUB_EXAMPLE = Path(__file__).with_name("hub_example.toml")  # a new hub's services and counters, to be edited
CATALOGUE = Path(kiosk.__file__).with_name("catalogue.json")  # the procedure catalogue shipped with motcua


# role -> (its config loader, its service's entry point), each "module:function", imported only when used
ROLES: dict[str, tuple[str, str]] = {
    "hub": ("hub.config:load_hub", "hub.main:run"),
    "kiosk": ("kiosk.config:load_kiosk", "kiosk.main:run"),
    "display": ("display.config:load_display", "display.main:run"),
    "rating": ("rating.config:load_rating", "rating.main:run"),
    "desk": ("desk.config:load_desk", "desk.main:run"),
    "bridge": ("firmware_bridge.config:load_bridge", "firmware_bridge.main:run"),
    "district": ("district.config:load_district", "district.main:run"),
    "console": ("console.config:load_console", "console.main:run"),
    "notify": ("notify.config:load_notify", "notify.main:run"),
}


# `motcua enrol --role` (and "it")
ENROLLED_ROLES = ("hub", "kiosk", "display", "rating", "desk", "bridge", "console", "notify")


def role_of(path: str | Path) -> str:
    """The role a config file names in [device], without checking the rest."""
    device = read_toml(path).get("device")
    role = device.get("role") if isinstance(device, dict) else None
    renamed(str(path), role)
    if not isinstance(role, str) or role not in ROLES:
        raise ConfigError(str(path), "device.role", f"{str(role)[:40]!r} is not one of {', '.join(ROLES)}")
    return role


def entry(spec: str) -> Any:
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)


def check_config(path: str | Path) -> str:
    """Loads the config with its role's strict loader; returns the role or raises ConfigError naming the key."""
    role = role_of(path)
    entry(ROLES[role][0])(str(path))
    return role


def run_device(path: str | Path) -> None:
    """Runs whatever service the config's role names, until SIGTERM: one command for every systemd unit. A fleet
    update's release, when one is to run, takes over this process first (bus/update.py decides which)."""
    from bus.update import launch

    role = role_of(path)
    config = entry(ROLES[role][0])(str(path))[0]
    launch(config.data_dir, config.device.id)
    entry(ROLES[role][1])(str(path))
