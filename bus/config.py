# Strict device config: TOML sections read into dataclasses, every key checked, errors name the file and key.
from __future__ import annotations

import dataclasses
import functools
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bus.errors import ConfigError
from bus.validation import DEVICE_ID, WARD_ID, Invalid, Record, Rule, check_record, field_name, rule

T = TypeVar("T")

ROLES = ("hub", "kiosk", "display", "rating", "desk", "bridge", "district", "console", "notify")
RENAMED_ROLES = {"counter": "rating"}  # old name -> new name, explained when an old config is loaded


def opt(default: Any = dataclasses.MISSING, *, lo: float | None = None, hi: float | None = None,
        choices: tuple[Any, ...] | None = None, pattern: str | None = None, default_factory: Any = None,
        max_len: int | None = None, test: tuple[Callable[[Any], bool], str] | None = None, doc: str = "") -> Any:
    """A config option with its bounds (for a list option, the bounds of each item); `doc` describes it."""
    meta = {"lo": lo, "hi": hi, "choices": choices, "pattern": pattern, "max_len": max_len, "test": test, "doc": doc}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class DeviceSection:
    id: str = opt(pattern=DEVICE_ID)
    role: str = opt(choices=ROLES)
    ward: str = opt(pattern=WARD_ID)
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
    ca_pem: str = opt("", max_len=20000, test=(lambda v: not v or v.lstrip().startswith("-----BEGIN CERTIFICATE-----"),
                                                "a PEM certificate (-----BEGIN CERTIFICATE-----...)"),
                      doc="the ward CA's certificate itself, written in by `motcua enrol`")
    keepalive: int = opt(30, lo=5, hi=600)


@dataclass(frozen=True)
class ResetButtonSection:
    pin: int = opt(-1, lo=-1, hi=53, doc="GPIO (BCM) of a button to ground: held hold_s a factory reset; -1: none")
    led: int = opt(-1, lo=-1, hi=53, doc="GPIO of the LED that counts the hold down; -1: none")
    hold_s: int = opt(10, lo=3, hi=60, doc="how long the button must be held; released earlier nothing happens")


@dataclass(frozen=True)
class DeviceConfig:
    """A loaded device config: the common sections plus the role's own, already validated."""

    source: str
    device: DeviceSection
    broker: BrokerSection
    sections: dict[str, Any]
    reset_button: ResetButtonSection = field(default_factory=ResetButtonSection)

    @property
    def data_dir(self) -> Path:
        return Path(self.device.data_dir)


Section = type | Callable[[Any, str, str], Any]  # a dataclass, or a function (table, source, where) -> section


def load(path: str | Path, role_sections: dict[str, Section] | None = None,
         optional: frozenset[str] = frozenset()) -> DeviceConfig:
    """Reads a device config; `role_sections` maps the role's extra section names to their dataclasses (or to a
    function that builds the section from its table, for a section whose options depend on one of them). A section
    named in `optional` that the file leaves out is None."""
    return from_dict(read_toml(path), str(path), role_sections or {}, optional)


def read_toml(path: str | Path) -> dict[str, Any]:
    """A config file's tables, or a ConfigError saying why it cannot be read: missing, unreadable, not UTF-8, not
    TOML."""
    source = str(path)
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(source, "-", "file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(source, "-", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "-", f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(source, "-", exc.strerror or str(exc)) from None


def from_dict(raw: dict[str, Any], source: str, role_sections: dict[str, Section],
              optional: frozenset[str] = frozenset()) -> DeviceConfig:
    known = {"device", "broker", "reset_button", *role_sections}
    for key in raw:
        if key not in known:
            raise ConfigError(source, field_name(key) or '""', f"unknown section; expected one of {sorted(known)}")
    if "device" not in raw:
        raise ConfigError(source, "device", "missing section")
    renamed(source, raw["device"].get("role") if isinstance(raw["device"], dict) else None)
    device = build(DeviceSection, raw["device"], source, "device")
    broker = build(BrokerSection, raw.get("broker", {}), source, "broker")
    button = build(ResetButtonSection, raw.get("reset_button", {}), source, "reset_button")
    sections = {name: None if name in optional and name not in raw else _section(cls, raw.get(name, {}), source, name)
                for name, cls in role_sections.items()}
    return DeviceConfig(source=source, device=device, broker=broker, sections=sections, reset_button=button)


def _section(cls: Section, data: Any, source: str, name: str) -> Any:
    if dataclasses.is_dataclass(cls):
        return build(cls, data, source, name)  # type: ignore[arg-type]
    return cls(data, source, name)


def renamed(source: str, role: object) -> None:
    """A config naming a role by its old name stops with what to write instead."""
    if isinstance(role, str) and role in RENAMED_ROLES:
        raise ConfigError(source, "device.role", f"the role {role!r} is now called {RENAMED_ROLES[role]!r}: write "
                                                 f"role = \"{RENAMED_ROLES[role]}\" in [device]; nothing else changes")


def build(cls: type[T], data: Any, source: str, where: str) -> T:
    """Builds dataclass `cls` from a TOML table (or JSON object), rejecting unknown keys, wrong types and
    out-of-range values; the ConfigError names the key."""
    try:
        return check_record(plan(cls), data, where)
    except Invalid as exc:
        raise ConfigError(source, exc.where, exc.problem) from None


@functools.cache
def plan(cls: type) -> Record:
    """The validation record of a config dataclass: each field's rule from its type hint and its `opt` bounds,
    worked out once per class (upstream records are checked with it per message)."""
    hints = typing.get_type_hints(cls)
    fields = {}
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):  # set by code after the check, never read from a file
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        fields[f.name] = _rule(hints[f.name], dict(f.metadata), required)
    return Record("option", fields, make=cls)


def _rule(hint: Any, meta: dict[str, Any], required: bool = True) -> Rule:
    bounds = {k: meta.get(k) for k in ("lo", "hi", "choices", "pattern", "max_len", "test")}
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return dataclasses.replace(_rule(inner[0], meta, required), nullable=True)
    if origin is list:
        (item,) = typing.get_args(hint)
        return rule(list, required=required, items=_rule(item, meta))
    if dataclasses.is_dataclass(hint):
        return rule(plan(hint), required=required)
    if hint not in (bool, int, float, str):
        raise TypeError(f"unsupported config type {hint!r}")
    return rule(hint, required=required, **bounds)
