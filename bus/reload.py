# Reloading a device's config while it runs: what can change live is applied, the rest is named as needing a restart.
from __future__ import annotations

import dataclasses
import logging
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bus.errors import ConfigError

log = logging.getLogger(__name__)

NEVER_LIVE = ("device.id", "device.role", "device.ward", "device.data_dir", "broker")  # who and where the device is


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"voice": {"speak": true}} -> {"voice.speak": true}; lists stay whole values."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def read_flat(path: str | Path) -> dict[str, Any]:
    try:
        return flatten(tomllib.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), "-", f"cannot be read again: {exc}") from None


def covers(live_key: str, option: str) -> bool:
    return option == live_key or option.startswith(live_key + ".")


class Reloader:
    """Keeps the options the device runs with; `reload` reads the file again, checks it with the role's strict
    loader, applies the changed options the role can take live (`live`: option or section -> applier) and names the
    others. Nothing is applied from a file the loader refuses. The log level is live for every role."""

    def __init__(self, source: str, check: Callable[[str], Any] | None,
                 live: dict[str, Callable[[Any], None]]) -> None:
        self.source, self.check = source, check
        self.live = {"device.log_level": self._log_level, **live}
        try:
            self.running = read_flat(source)
        except ConfigError:
            self.running = {}

    def reload(self) -> dict[str, Any]:
        try:
            new = read_flat(self.source)
            loaded = self.check(self.source) if self.check else None
        except ConfigError as exc:
            raise ValueError(f"the config was not reloaded, nothing changed: {exc}") from None
        changed = sorted(k for k in {*new, *self.running} if new.get(k) != self.running.get(k))
        applied, restart, appliers = [], [], {}
        for option in changed:
            key = next((k for k in self.live if covers(k, option)), None)
            if key is None or any(covers(n, option) for n in NEVER_LIVE):
                restart.append(option)
            else:
                appliers.setdefault(key, []).append(option)
        for key, options in appliers.items():
            self.live[key](new if key == "device.log_level" else loaded)
            applied += options
            for option in options:
                if option in new:
                    self.running[option] = new[option]
                else:
                    self.running.pop(option, None)
        log.info("config %s reloaded: applied %s; needs a restart: %s", self.source, applied or "-", restart or "-")
        return {"applied": applied, "needs_restart": restart,
                "message": "nothing changed" if not changed else
                ("all applied" if not restart else "restart the device to apply the rest")}

    @staticmethod
    def _log_level(new: dict[str, Any]) -> None:
        logging.getLogger().setLevel(str(new.get("device.log_level", "info")).upper())


def field_appliers(section: str, names: tuple[str, ...], pick: Callable[[Any], Any], owner: object,
                   attr: str) -> dict[str, Callable[[Any], None]]:
    """Live appliers for options of `section` the owner reads each time it needs them: each copies its one option
    from the reloaded section (`pick` finds it in what the loader returned) into `owner.attr`, a frozen dataclass."""

    def applier(name: str) -> Callable[[Any], None]:
        def apply(loaded: Any) -> None:
            setattr(owner, attr, dataclasses.replace(getattr(owner, attr), **{name: getattr(pick(loaded), name)}))
        return apply

    return {f"{section}.{name}": applier(name) for name in names}
