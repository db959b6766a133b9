# Strict device config: TOML sections read into dataclasses, every key checked, errors name the file and key.
from __future__ import annotations

import dataclasses
import functools
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bus.errors import ConfigError

T = TypeVar("T")

DEVICE_ID = r"[a-z0-9][a-z0-9_-]{0,39}"
ROLES = ("hub", "kiosk", "display", "bridge", "counter", "district")


def opt(default: Any = dataclasses.MISSING, *, lo: float | None = None, hi: float | None = None,
        choices: tuple[Any, ...] | None = None, pattern: str | None = None, default_factory: Any = None,
        doc: str = "") -> Any:
    """A config option with its bounds; `doc` is shown in error messages."""
    meta = {"lo": lo, "hi": hi, "choices": choices, "pattern": pattern, "doc": doc}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class DeviceSection:
    id: str = opt(pattern=DEVICE_ID)
    role: str = opt(choices=ROLES)
    ward: str = opt(pattern=r"[a-z0-9][a-z0-9-]{0,39}")
    data_dir: str = opt("/var/lib/motcua")
    log_level: str = opt("info", choices=("debug", "info", "warning", "error"))


@dataclass(frozen=True)
class BrokerSection:
    host: str = opt("127.0.0.1")
    port: int = opt(1883, lo=1, hi=65535)
    username: str = opt("")
    password: str = opt("")
    tls: bool = opt(False)
    ca_file: str = opt("")
    keepalive: int = opt(30, lo=5, hi=600)


@dataclass(frozen=True)
class DeviceConfig:
    """A loaded device config: the common sections plus the role's own, already validated."""

    source: str
    device: DeviceSection
    broker: BrokerSection
    sections: dict[str, Any]

    @property
    def data_dir(self) -> Path:
        return Path(self.device.data_dir)


def load(path: str | Path, role_sections: dict[str, type] | None = None,
         optional: frozenset[str] = frozenset()) -> DeviceConfig:
    """Reads a device config; `role_sections` maps the role's extra section names to their dataclasses. A section
    named in `optional` that the file leaves out is None."""
    source = str(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(source, "-", "file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(source, "-", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "-", f"not valid TOML: {exc}") from None
    return from_dict(raw, source, role_sections or {}, optional)


def from_dict(raw: dict[str, Any], source: str, role_sections: dict[str, type],
              optional: frozenset[str] = frozenset()) -> DeviceConfig:
    known = {"device", "broker", *role_sections}
    for key in raw:
        if key not in known:
            raise ConfigError(source, key, f"unknown section; expected one of {sorted(known)}")
    if "device" not in raw:
        raise ConfigError(source, "device", "missing section")
    device = build(DeviceSection, raw["device"], source, "device")
    broker = build(BrokerSection, raw.get("broker", {}), source, "broker")
    sections = {name: None if name in optional and name not in raw else build(cls, raw.get(name, {}), source, name)
                for name, cls in role_sections.items()}
    return DeviceConfig(source=source, device=device, broker=broker, sections=sections)


def build(cls: type[T], data: Any, source: str, where: str) -> T:
    """Builds dataclass `cls` from a TOML table, rejecting unknown keys, wrong types and out-of-range values."""
    if not isinstance(data, dict):
        raise ConfigError(source, where, f"expected a table, got {type(data).__name__}")
    plan = _plan(cls)
    for key in data:
        if key not in plan:
            raise ConfigError(source, f"{where}.{key}", f"unknown option; known options: {', '.join(plan)}")
    values = {}
    for name, (hint, required, bounds) in plan.items():
        if name not in data:
            if required:
                raise ConfigError(source, f"{where}.{name}", "missing required option")
            continue
        value = data[name]
        if hint in _SCALARS and _scalar_ok(hint, value) and (bounds is None or _in_bounds(value, bounds)):
            values[name] = value  # the common case, checked without building the key's name
            continue
        values[name] = _check(hint, value, bounds, source, f"{where}.{name}")
    return cls(**values)


Bounds = tuple[Any, Any, Any, Any]  # lo, hi, choices, compiled pattern
_SCALARS = (bool, int, float, str)


@functools.cache
def _plan(cls: type) -> dict[str, tuple[Any, bool, Bounds | None]]:
    """Per field of a dataclass: its resolved type hint, whether it is required, and its bounds (None when it has
    none) - worked out once per class, since upstream records are checked with it per message."""
    hints = typing.get_type_hints(cls)
    plan = {}
    for f in dataclasses.fields(cls):
        meta = f.metadata
        pattern = meta.get("pattern")
        bounds = (meta.get("lo"), meta.get("hi"), meta.get("choices"), re.compile(pattern) if pattern else None)
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        plan[f.name] = (hints[f.name], required, None if bounds == (None, None, None, None) else bounds)
    return plan


def _scalar_ok(hint: Any, value: Any) -> bool:
    if hint is str:
        return isinstance(value, str)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, bool)


def _in_bounds(value: Any, bounds: Bounds) -> bool:
    lo, hi, choices, pattern = bounds
    return ((lo is None or value >= lo) and (hi is None or value <= hi) and (choices is None or value in choices)
            and (pattern is None or pattern.fullmatch(value) is not None))


def _check(hint: Any, value: Any, bounds: Bounds | None, source: str, key: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _check(inner[0], value, bounds, source, key)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(source, key, f"expected a list, got {type(value).__name__}")
        (item,) = typing.get_args(hint)
        return [_check(item, v, bounds, source, f"{key}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(hint):
        return build(hint, value, source, key)  # type: ignore[arg-type]
    if hint not in _SCALARS:
        raise TypeError(f"unsupported config type {hint!r} for {key}")
    if not _scalar_ok(hint, value):
        raise ConfigError(source, key, f"expected {hint.__name__}, got {type(value).__name__} {value!r}")
    if bounds is not None:
        _check_bounds(value, bounds, source, key)
    return value


def _check_bounds(value: Any, bounds: Bounds, source: str, key: str) -> None:
    lo, hi, choices, pattern = bounds
    if lo is not None and value < lo:
        raise ConfigError(source, key, f"{value!r} is below the minimum {lo}")
    if hi is not None and value > hi:
        raise ConfigError(source, key, f"{value!r} is above the maximum {hi}")
    if choices is not None and value not in choices:
        raise ConfigError(source, key, f"{value!r} is not one of {', '.join(map(str, choices))}")
    if pattern is not None and not pattern.fullmatch(value):
        raise ConfigError(source, key, f"{value!r} does not match {pattern.pattern}")
