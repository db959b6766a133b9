# The ward message contract: the JSON envelope, one body schema per message type, and validation with reasons.
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bus.errors import ContractError
from bus.numbering import OFFLINE_BLOCK, OFFLINE_BLOCKS, OFFLINE_FIRST

SCHEMA_VERSION = 1
MAX_PAYLOAD = 64 * 1024
DEVICE_RE = r"[a-z0-9][a-z0-9_-]{0,39}"
CODE_RE = r"[A-Z0-9_-]{1,16}"
PRIORITY_GROUPS = ("elderly", "disability", "pregnant", "meritorious")
COUNTER_ACTIONS = ("open", "close", "call_next", "start", "done", "no_show", "transfer", "recall", "skip")
CONFIRM_OUTCOMES = ("printed", "shown", "void")
RATING_REASONS = ("waited_too_long", "staff_attitude", "documents_unclear", "had_to_come_back")
TICKET_EVENTS = ("issued", "called", "recalled", "serving", "done", "no_show", "transferred", "skipped")


@dataclass(frozen=True)
class Field:
    kind: type | tuple[type, ...]
    required: bool = True
    choices: tuple[Any, ...] | None = None
    pattern: str | None = None
    lo: float | None = None
    hi: float | None = None
    max_len: int = 2000


def F(kind: Any, **kw: Any) -> Field:  # noqa: N802 - reads as a schema literal
    return Field(kind, **kw)


def _opt(kind: Any, **kw: Any) -> Field:
    return Field(kind, required=False, **kw)


TICKET = F(dict)
BODIES: dict[str, dict[str, Field]] = {
    "ticket.request": {
        "service": F(str, pattern=CODE_RE),
        "priority": _opt(str, choices=PRIORITY_GROUPS),
        "lang": _opt(str, choices=("vi", "en")),
        "hold": _opt(bool),
        "procedure": _opt(str, pattern=r"([0-9]\.[0-9]{6}(\.[0-9A-Za-z]+)?)?"),
    },
    "ticket.issued": {"ticket": TICKET},
    "ticket.confirm": {"ticket_id": F(int, lo=1), "outcome": F(str, choices=CONFIRM_OUTCOMES)},
    "ticket.confirmed": {"ticket": TICKET},
    "ticket.offline": {
        "service": F(str, pattern=CODE_RE),
        "number": F(int, lo=OFFLINE_FIRST, hi=OFFLINE_FIRST + OFFLINE_BLOCK * OFFLINE_BLOCKS - 1),
        "label": F(str, pattern=r"[A-Z][0-9]{3,4}"),
        "day": F(str, pattern=r"\d{4}-\d{2}-\d{2}"),
        "issued_at": F(str),
        "priority": _opt(str, choices=PRIORITY_GROUPS),
    },
    "catalogue.update": {"version": F(int, lo=1), "catalogue": F(dict)},
    "ticket.event": {"event": F(str, choices=TICKET_EVENTS), "ticket": TICKET, "counter": _opt(int),
                     "explanation": _opt(dict)},
    "counter.command": {
        "action": F(str, choices=COUNTER_ACTIONS),
        "counter": F(int, lo=1, hi=999),
        "officer": _opt(str, max_len=80),
        "service": _opt(str, pattern=CODE_RE),
    },
    "counter.result": {"action": F(str, choices=COUNTER_ACTIONS), "counter": F(int), "ticket": _opt(dict),
                       "explanation": _opt(dict), "finished": _opt(dict)},
    "counter.state": {"counter": F(int), "status": F(str, choices=("open", "closed")), "officer": _opt(str),
                      "ticket": _opt(dict)},
    "board.state": {"day": F(str), "counters": F(list), "recent": F(list), "waiting": F(list),
                    "notice": F(str), "ward_vi": _opt(str), "ward_en": _opt(str), "updated": _opt(str)},
    "services.list": {"services": F(list), "ward_vi": _opt(str), "ward_en": _opt(str)},
    "rating.submit": {"counter": F(int, lo=1, hi=999), "level": F(int, lo=1, hi=5), "scale": F(int, lo=3, hi=5),
                      "reasons": _opt(list), "ticket_id": _opt(int, lo=1), "left_s": _opt((int, float), lo=0),
                      "visits": _opt(int, lo=1, hi=9)},
    "rating.recorded": {"rating": F(dict)},
    "device.state": {"status": F(str, choices=("online", "offline")), "role": _opt(str), "version": _opt(str),
                     "detail": _opt(dict)},
    "device.command": {"command": F(str, pattern=r"[a-z_]{1,32}"), "args": _opt(dict)},
    "device.reply": {"command": F(str), "ok": F(bool), "result": _opt(dict)},
    "upstream.record": {"kind": F(str, choices=("rating", "day_stats")), "record": F(dict)},
    "upstream.ack": {"stored": F(bool), "reason": _opt(str), "corrs": _opt(list)},
    "error": {"code": F(str, pattern=r"[a-z_]{1,40}"), "reason": F(str)},
}


@dataclass(frozen=True)
class Message:
    """One message on the ward bus. (device, boot, seq) identifies it; corr ties a reply to its request."""

    type: str
    device: str
    boot: str
    seq: int
    ts: str
    body: dict[str, Any] = field(default_factory=dict)
    corr: str | None = None
    v: int = SCHEMA_VERSION

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.device, self.boot, self.seq)

    def encode(self) -> bytes:
        data: dict[str, Any] = {"v": self.v, "type": self.type, "device": self.device, "boot": self.boot,
                                "seq": self.seq, "ts": self.ts, "body": self.body}
        if self.corr is not None:
            data["corr"] = self.corr
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def now_ts() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def make(type_: str, device: str, boot: str, seq: int, body: dict[str, Any], corr: str | None = None) -> Message:
    """Builds a message and validates it, so a role can never send what the contract forbids."""
    msg = Message(type=type_, device=device, boot=boot, seq=seq, ts=now_ts(), body=body, corr=corr)
    validate_body(type_, body)
    return msg


def decode(payload: bytes) -> Message:
    """Parses and validates a payload; raises ContractError naming the field that is wrong."""
    if len(payload) > MAX_PAYLOAD:
        raise ContractError("payload", f"at most {MAX_PAYLOAD} bytes", f"{len(payload)} bytes")
    try:
        data = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise ContractError("payload", "UTF-8 JSON", "bytes that are not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ContractError("payload", "a JSON object", f"invalid JSON ({exc.msg} at {exc.pos})") from None
    if not isinstance(data, dict):
        raise ContractError("payload", "a JSON object", type(data).__name__)
    return from_dict(data)


def from_dict(data: dict[str, Any]) -> Message:
    _require(data, "v", int)
    if data["v"] != SCHEMA_VERSION:
        raise ContractError("v", f"schema version {SCHEMA_VERSION}", data["v"])
    type_ = _require(data, "type", str)
    if type_ not in BODIES:
        raise ContractError("type", "a known message type", type_)
    device = _require(data, "device", str)
    if not re.fullmatch(DEVICE_RE, device):
        raise ContractError("device", f"an id matching {DEVICE_RE}", device)
    boot = _require(data, "boot", str)
    if not re.fullmatch(r"[0-9a-f]{4,32}", boot):
        raise ContractError("boot", "4-32 hex digits", boot)
    seq = _require(data, "seq", int)
    if seq < 0:
        raise ContractError("seq", "an integer >= 0", seq)
    ts = _require(data, "ts", str)
    try:
        datetime.fromisoformat(ts)
    except ValueError:
        raise ContractError("ts", "an ISO 8601 timestamp", ts) from None
    body = _require(data, "body", dict)
    corr = data.get("corr")
    if corr is not None and not (isinstance(corr, str) and 0 < len(corr) <= 80):
        raise ContractError("corr", "a string of 1-80 characters", corr)
    extra = set(data) - {"v", "type", "device", "boot", "seq", "ts", "body", "corr"}
    if extra:
        raise ContractError(sorted(extra)[0], "no such envelope field", data[sorted(extra)[0]])
    body = validate_body(type_, body)
    return Message(type=type_, device=device, boot=boot, seq=seq, ts=ts, body=body, corr=corr)


def validate_body(type_: str, body: dict[str, Any]) -> dict[str, Any]:
    """Checks a body against its type's schema; returns it with every string normalised to NFC."""
    schema = BODIES.get(type_)
    if schema is None:
        raise ContractError("type", "a known message type", type_)
    for name in body:
        if name not in schema:
            raise ContractError(f"body.{name}", f"one of the {type_} fields ({', '.join(schema)})", body[name])
    out = dict(body)
    for name, spec in schema.items():
        if name not in body:
            if spec.required:
                raise ContractError(f"body.{name}", f"a {_kind_name(spec.kind)} (required)", None)
            continue
        out[name] = _check(f"body.{name}", body[name], spec)
    return out


def _check(where: str, value: Any, spec: Field) -> Any:
    kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise ContractError(where, _kind_name(spec.kind), value)
    if not isinstance(value, kinds):
        raise ContractError(where, _kind_name(spec.kind), value)
    if isinstance(value, str):
        if len(value) > spec.max_len:
            raise ContractError(where, f"at most {spec.max_len} characters", f"{len(value)} characters")
        value = unicodedata.normalize("NFC", value)
        if spec.pattern and not re.fullmatch(spec.pattern, value):
            raise ContractError(where, f"a value matching {spec.pattern}", value)
    if spec.choices is not None and value not in spec.choices:
        raise ContractError(where, f"one of {', '.join(map(str, spec.choices))}", value)
    if spec.lo is not None and value < spec.lo:
        raise ContractError(where, f"at least {spec.lo}", value)
    if spec.hi is not None and value > spec.hi:
        raise ContractError(where, f"at most {spec.hi}", value)
    return value


def _require(data: dict[str, Any], name: str, kind: type) -> Any:
    if name not in data:
        raise ContractError(name, f"a {kind.__name__} (required)", None)
    value = data[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ContractError(name, f"a {kind.__name__}", value)
    return value


def _kind_name(kind: Any) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return {"dict": "JSON object", "list": "JSON array", "str": "string", "int": "integer"}.get(
        kind.__name__, kind.__name__)
