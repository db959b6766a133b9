# The ward's procedure catalogue: fields -> procedures with documents, time, fee and portal link; strict loading.
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bus import messages
from bus.config import build, opt
from bus.errors import ConfigError, ContractError
from bus.validation import PROCEDURE_CODE, SERVICE_CODE


@dataclass(frozen=True)
class Procedure:
    code: str = opt(pattern=PROCEDURE_CODE)
    name_vi: str = opt()
    name_en: str = opt()
    documents_vi: list[str] = opt()
    time_vi: str = opt()
    fee_vi: str = opt()
    documents_en: list[str] = opt(default_factory=list)
    time_en: str = opt("")
    fee_en: str = opt("")


@dataclass(frozen=True)
class Field:
    id: str = opt(pattern=r"[a-z0-9-]{1,40}")
    name_vi: str = opt()
    name_en: str = opt()
    procedures: list[Procedure] = opt()
    service: str = opt("", pattern=f"({SERVICE_CODE})?", doc="the queue service that handles this field")


@dataclass(frozen=True)
class Catalogue:
    version: int = opt(lo=1)
    link_template: str = opt(doc="portal link with {code} for the procedure code")
    fields: list[Field] = opt()

    def link(self, code: str, template: str = "") -> str:
        return (template or self.link_template).replace("{code}", code)

    def procedure(self, code: str) -> Procedure | None:
        return next((p for f in self.fields for p in f.procedures if p.code == code), None)

    def for_service(self, service: str) -> list[Procedure]:
        return [p for f in self.fields if f.service == service for p in f.procedures]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse(data: Any, source: str) -> Catalogue:
    catalogue = build(Catalogue, data, source, "catalogue")
    if "{code}" not in catalogue.link_template:
        raise ConfigError(source, "catalogue.link_template", "must contain {code}")
    codes: set[str] = set()
    for i, field in enumerate(catalogue.fields):
        for j, proc in enumerate(field.procedures):
            if proc.code in codes:
                raise ConfigError(source, f"catalogue.fields[{i}].procedures[{j}].code", f"{proc.code} is listed twice")
            codes.add(proc.code)
    return catalogue


def load(path: str | Path) -> Catalogue:
    """Reads a catalogue file; a syntax error names its line and column, a wrong value its key path."""
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(source, "-", "file not found") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(source, f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}") from None
    return parse(data, source)


def load_catalogue_message(path: str, config_source: str) -> dict[str, Any]:
    """The body of a catalogue.update message for the catalogue file at `path` (relative to the config file)."""
    full = Path(path) if Path(path).is_absolute() else Path(config_source).parent / path
    catalogue = load(full)
    return fitting({"version": catalogue.version, "catalogue": catalogue.to_dict()}, str(full))


def fitting(body: dict[str, Any], source: str) -> dict[str, Any]:
    """A catalogue.update body, once it is known to fit in one message (deflated when large: bus/packed.py, a few
    hundred procedures); ConfigError saying how large it is otherwise — the broker would drop it and every kiosk
    keep the catalogue it had."""
    try:
        messages.make("catalogue.update", "hub", "0000", 0, body).encode()
    except ContractError as exc:
        count = sum(len(f["procedures"]) for f in body["catalogue"]["fields"])
        raise ConfigError(source, "catalogue", f"{count} procedures do not fit in one message ({exc}); shorten "
                                               "their texts or list fewer") from None
    return body


def from_message(body: dict[str, Any]) -> Catalogue:
    try:
        return parse(body["catalogue"], "catalogue.update")
    except ConfigError as exc:
        raise ContractError(f"body.{exc.key}", "a valid catalogue", exc.problem) from None
