# The notifier's config: [notify] (when to text, which gateway, where its database lives) and [gateway] (its options).
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from bus.config import DeviceConfig, build, load, opt
from bus.errors import ConfigError
from notify.gateways import BACKENDS, backend


@dataclass(frozen=True)
class NotifySection:
    gateway: str = opt(choices=tuple(BACKENDS), doc="required: the fake gateway is never chosen by accident")
    near_ahead: int = opt(3, lo=0, hi=50, doc="text once when this many tickets or fewer are ahead")
    timezone: str = opt("Asia/Ho_Chi_Minh", doc="the day whose end deletes the phone numbers")
    database: str = opt("notify.db", doc="subscriptions and the message queue, below data_dir")
    retry_first_s: float = opt(5.0, lo=0.1, hi=600.0, doc="wait before retrying a failed message, doubling")
    retry_max_s: float = opt(300.0, lo=1.0, hi=3600.0)
    ward_short: str = opt("", max_len=30, doc="the ward's name in texts; empty: none")
    options: Any = field(default=None, metadata={"internal": True})


def load_gateway(data: Any, source: str, where: str) -> Any:
    """[gateway]: the chosen backend's own options, checked by it (read after [notify] names the backend)."""
    if not isinstance(data, dict):
        raise ConfigError(source, where, f"expected a table, got {type(data).__name__}")
    return data


SECTIONS = {"notify": NotifySection, "gateway": load_gateway}


def load_notify(path: str) -> tuple[DeviceConfig, NotifySection]:
    config = load(path, SECTIONS, optional=frozenset({"gateway"}))
    section: NotifySection = config.sections["notify"]
    raw = config.sections.get("gateway") or {}
    options = build(backend(section.gateway).Options, raw, config.source, "gateway")
    return config, dataclasses.replace(section, options=options)
