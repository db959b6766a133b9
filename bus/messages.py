# The ward message contract: the JSON envelope, one body schema per message type, and validation with reasons.
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

import orjson

from bus import hours, packed
from bus.errors import ContractError, TooLarge
from bus.numbering import OFFLINE_BLOCK, OFFLINE_BLOCKS, OFFLINE_FIRST
from bus.validation import (
    DAY,
    DEVICE_ID,
    JSON,
    MISSING,
    PROCEDURE_CODE,
    REAL_DAY,
    SERVICE_CODE,
    SLOW,
    TICKET_LABEL,
    Invalid,
    Record,
    Rule,
    check,
    check_record,
    describe,
    field_name,
    rule,
)

SCHEMA_VERSION = 1
MAX_PAYLOAD = 64 * 1024
CATALOGUE_VALUES = 40000  # JSON values in a catalogue (about 20 a procedure); one message holds it (bus/packed.py)
STATS_RESULT_ROWS = 400  # rows in one stats.result (hub/reads.py keeps as many as fit in a message)
BUNDLE_MAX = 200  # messages in one `bundle` (bus/bundle.py)
MAX_NESTING = 32  # arrays and objects in one payload; a body's free values nest at most 8 (bus/validation.py)
_BRACKET_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_NOT_MARKS = bytes(b for b in range(256) if b not in b'[]{}"')
CODE_RE = SERVICE_CODE  # kept for the roles' configs, which name services the same way
PRIORITY_GROUPS = ("elderly", "disability", "pregnant", "meritorious")
COUNTER_ACTIONS = ("open", "close", "call_next", "start", "done", "no_show", "transfer", "recall", "skip")
CONFIRM_OUTCOMES = ("printed", "shown", "void")
RATING_REASONS = ("waited_too_long", "staff_attitude", "documents_unclear", "had_to_come_back")
TICKET_EVENTS = ("issued", "called", "recalled", "serving", "done", "no_show", "transferred", "skipped")
TICKET_STATUSES = ("held", "issued", "called", "serving", "done", "no_show", "void")
ADMIN_ACTIONS = ("services", "counters", "notice", "hours", "catalogue")  # what an admin may change; docs/console.md
# "ward": the whole ward, one group; "hour": the hour of the day the tickets were taken ("08": 08:00-08:59)
STATS_GROUPS = ("service", "counter", "officer", "procedure", "hour", "ward")
NAME = 200  # characters in a ward, service or counter name


def F(kind: Any, **kw: Any) -> Rule:  # noqa: N802 - reads as a schema literal
    return rule(kind, **kw)


def _opt(kind: Any, **kw: Any) -> Rule:
    return rule(kind, required=False, **kw)


def _record(name: str, fields: dict[str, Rule], check: Any = None) -> Record:
    return Record(f"{name} field", fields, check=check)


COUNTER = F(int, lo=1, hi=999)
def _wait_range(wait: dict[str, Any]) -> str | None:
    """A known wait says its range: low_min and high_min, low first."""
    if not wait["known"] or ("low_min" in wait and "high_min" in wait and wait["low_min"] <= wait["high_min"]):
        return None
    return "low_min and high_min, low_min <= high_min, when the wait is known"


WAIT = _record("wait", {"known": F(bool), "low_min": _opt(int, lo=0, hi=100000), "high_min": _opt(int, lo=0, hi=100000),
                        "reason": _opt(str, pattern=r"[a-z_]{1,40}"), "samples": _opt(int, lo=0),
                        "closing": _opt(bool)},
               check=_wait_range)
TICKET = _record("ticket", {
    "id": F(int, lo=1), "label": F(str, pattern=TICKET_LABEL), "number": F(int, lo=0, hi=99999),
    "day": F(str, pattern=DAY, test=REAL_DAY), "service": F(str, pattern=SERVICE_CODE),
    "service_vi": F(str, max_len=NAME), "service_en": F(str, max_len=NAME),
    "status": F(str, choices=TICKET_STATUSES), "issued_at": F(str, max_len=40),
    "priority": _opt(str, choices=PRIORITY_GROUPS, nullable=True), "counter": _opt(int, lo=1, hi=999),
    "transferred_from": _opt(str, pattern=SERVICE_CODE), "ahead": _opt(int, lo=0, nullable=True),
    "procedure": _opt(str, pattern=PROCEDURE_CODE), "called_at": _opt(str, max_len=40),
    "wait": _opt(WAIT), "procedures": _opt(list, items=F(str, pattern=PROCEDURE_CODE), max_len=100)})
EXPLANATION = _record("explanation", {"rule": F(str, pattern=r"[a-z_]{1,40}"), "vi": F(str, max_len=400),
                                      "en": F(str, max_len=400)})
WAITING_SHOWN = 50  # a counter's state lists at most this many of the tickets waiting for it, in calling order
WAITING_TICKET = _record("waiting ticket", {
    "id": F(int, lo=1), "label": F(str, pattern=TICKET_LABEL), "service": F(str, pattern=SERVICE_CODE),
    "priority": F(str, choices=PRIORITY_GROUPS, nullable=True), "issued_at": F(str, max_len=40),
    "transferred_from": _opt(str, pattern=SERVICE_CODE)})
COUNTS = _record("counts", {k: F(int, lo=0) for k in ("called", "served", "no_shows", "transfers")})
COUNTER_STATE = {"counter": COUNTER, "status": F(str, choices=("open", "closed")), "officer": _opt(str, max_len=80),
                 "ticket": _opt(TICKET), "explanation": _opt(EXPLANATION),
                 "services": _opt(list, items=F(str, pattern=SERVICE_CODE), max_len=100),
                 "waiting": _opt(list, items=F(WAITING_TICKET), max_len=WAITING_SHOWN), "counts": _opt(COUNTS)}
BOARD_COUNTER = _record("board counter", {**COUNTER_STATE, "name_vi": _opt(str, max_len=NAME),
                                          "name_en": _opt(str, max_len=NAME)})
RECENT_CALL = _record("recent call", {"label": F(str, pattern=TICKET_LABEL), "counter": COUNTER,
                                      "service": F(str, pattern=SERVICE_CODE),
                                      "event": F(str, choices=("called", "recalled")), "at": F(str, max_len=40)})
WAITING = _record("waiting", {"service": F(str, pattern=SERVICE_CODE), "name_vi": F(str, max_len=NAME),
                              "name_en": F(str, max_len=NAME), "count": F(int, lo=0), "wait": F(WAIT)})
SERVICE = _record("service", {"code": F(str, pattern=SERVICE_CODE), "prefix": F(str, pattern=r"[A-Z]"),
                              "name_vi": F(str, max_len=NAME), "name_en": F(str, max_len=NAME),
                              "procedures": F(list, items=F(str, pattern=PROCEDURE_CODE), max_len=100),
                              "target_minutes": F(int, lo=1, hi=600)})
RATING = _record("rating", {"ticket": F(str, pattern=TICKET_LABEL), "ticket_id": F(int, lo=1), "counter": COUNTER,
                            "officer": F(str, max_len=80, nullable=True), "level": F(int, lo=1, hi=5),
                            "scale": F(int, lo=3, hi=5), "word": F(str, max_len=NAME), "version": F(int, lo=1),
                            "replaced": F(bool)})
PHONE = r"0[35789][0-9]{8}"  # a Vietnamese mobile number as people write it (notify/, docs/phone.md)
TICKET_TOKEN = r"[A-Za-z0-9_-]{16,64}"  # a ticket's phone page address: unguessable, not its number (docs/phone.md)
LINE_SHOWN = 1000  # a line state lists at most this many waiting tickets of its service, in calling order


def _sessions(pace: dict[str, Any]) -> str | None:
    """The day's working hours, when the ward has set them: sessions as [start, end], in order, none overlapping."""
    times = [t for session in pace.get("hours", []) if len(session) == 2 for t in session]
    if len(times) == 2 * len(pace.get("hours", [])) and times == sorted(times) and all(
            a < b for a, b in zip(times[::2], times[1::2], strict=True)):
        return None
    return "hours as [start, end] pairs in seconds since the epoch, each ending after it starts, in order"


PACE = _record("pace", {"open": F(int, lo=0, hi=999), "samples": F(int, lo=0, hi=100000), "enough": F(bool),
                        "p25": _opt((int, float), lo=0, hi=100000), "p75": _opt((int, float), lo=0, hi=100000),
                        "hours": _opt(list, items=F(list, items=F(int, lo=0, hi=2**40), max_len=2), max_len=8)},
               check=_sessions)
COMMAND_ID = r"[A-Za-z0-9_-]{8,64}"  # a device command's own id: carried out once (bus/device_commands.py)
WARD_NAMES = {"ward_vi": _opt(str, max_len=NAME), "ward_en": _opt(str, max_len=NAME)}

_BODIES: dict[str, dict[str, Rule]] = {
    "ticket.request": {
        "service": F(str, pattern=SERVICE_CODE),
        "priority": _opt(str, choices=PRIORITY_GROUPS),
        "lang": _opt(str, choices=("vi", "en")),
        "hold": _opt(bool),
        "procedure": _opt(str, pattern=f"({PROCEDURE_CODE})?"),
    },
    "ticket.issued": {"ticket": F(TICKET), "token": _opt(str, pattern=TICKET_TOKEN)},
    "ticket.lookup": {"token": F(str, pattern=TICKET_TOKEN)},
    "ticket.found": {"ticket": F(TICKET)},
    "notify.subscribe": {"ticket_id": F(int, lo=1), "label": F(str, pattern=TICKET_LABEL),
                         "service": F(str, pattern=SERVICE_CODE), "day": F(str, pattern=DAY, test=REAL_DAY),
                         "phone": F(str, pattern=PHONE), "lang": F(str, choices=("vi", "en"))},
    "notify.accepted": {"ticket_id": F(int, lo=1)},
    "line.state": {"service": F(str, pattern=SERVICE_CODE), "day": F(str, pattern=DAY, test=REAL_DAY),
                   "waiting": F(list, items=F(int, lo=1), max_len=LINE_SHOWN), "more": F(bool), "pace": F(PACE)},
    "ticket.confirm": {"ticket_id": F(int, lo=1), "outcome": F(str, choices=CONFIRM_OUTCOMES)},
    "ticket.confirmed": {"ticket": F(TICKET)},
    "ticket.offline": {
        "service": F(str, pattern=SERVICE_CODE),
        "number": F(int, lo=OFFLINE_FIRST, hi=OFFLINE_FIRST + OFFLINE_BLOCK * OFFLINE_BLOCKS - 1),
        "label": F(str, pattern=TICKET_LABEL),
        "day": F(str, pattern=DAY, test=REAL_DAY),
        "issued_at": F(str, max_len=40),
        "priority": _opt(str, choices=PRIORITY_GROUPS),
    },
    "catalogue.update": {"version": F(int, lo=1), "catalogue": F(JSON, max_len=CATALOGUE_VALUES)},
    "ticket.event": {"event": F(str, choices=TICKET_EVENTS), "ticket": F(TICKET), "counter": _opt(int, lo=1, hi=999),
                     "explanation": _opt(EXPLANATION)},
    "counter.command": {
        "action": F(str, choices=COUNTER_ACTIONS),
        "counter": COUNTER,
        "officer": _opt(str, max_len=80),
        "service": _opt(str, pattern=SERVICE_CODE),
        "reason": _opt(str, max_len=200),
        "expect": _opt(int, lo=0),
    },
    "counter.result": {"action": F(str, choices=COUNTER_ACTIONS), "counter": COUNTER, "ticket": _opt(TICKET),
                       "explanation": _opt(EXPLANATION), "finished": _opt(TICKET)},
    "counter.state": COUNTER_STATE,
    "board.state": {"day": F(str, pattern=DAY, test=REAL_DAY), "counters": F(list, items=F(BOARD_COUNTER), max_len=999),
                    "recent": F(list, items=F(RECENT_CALL), max_len=50),
                    "waiting": F(list, items=F(WAITING), max_len=100), "notice": F(str, max_len=2000),
                    **WARD_NAMES, "updated": _opt(str, max_len=40),
                    "hours_vi": _opt(str, max_len=NAME), "hours_en": _opt(str, max_len=NAME)},
    "services.list": {"services": F(list, items=F(SERVICE), max_len=100), **WARD_NAMES,
                      "hours": _opt(list, items=F(str, pattern=hours.RULE), max_len=7)},
    "rating.submit": {"counter": COUNTER, "level": F(int, lo=1, hi=5), "scale": F(int, lo=3, hi=5),
                      "reasons": _opt(list, items=F(str, choices=RATING_REASONS), max_len=len(RATING_REASONS)),
                      "ticket_id": _opt(int, lo=1), "left_s": _opt((int, float), lo=0, hi=10**9),
                      "visits": _opt(int, lo=1, hi=9)},
    "rating.recorded": {"rating": F(RATING)},
    "device.state": {"status": F(str, choices=("online", "offline")), "role": _opt(str, pattern=r"[a-z_]{1,20}"),
                     "version": _opt(str, max_len=40), "detail": _opt(JSON)},
    "device.command": {"command": F(str, pattern=r"[a-z_]{1,32}"), "args": _opt(JSON),
                       "id": F(str, pattern=COMMAND_ID), "expires": F((int, float), lo=0, hi=2**40)},
    "device.reply": {"command": F(str, pattern=r"[a-z_]{1,32}"), "ok": F(bool), "result": _opt(JSON)},
    "bundle": {"messages": F(list, items=F(dict), max_len=BUNDLE_MAX)},  # each checked as a message (bus/bundle.py)
    "upstream.record": {"kind": F(str, choices=("rating", "day_stats")),
                        "record": F(dict)},  # checked in full by its kind's schema (bus/upstream.py) where stored
    "upstream.ack": {"stored": F(bool), "reason": _opt(str, max_len=500),
                     "corrs": _opt(list, items=F(str, max_len=80), max_len=10000)},
    "admin.command": {"action": F(str, choices=ADMIN_ACTIONS), "data": F(JSON, max_len=CATALOGUE_VALUES),
                      "by": F(str, max_len=80)},
    "admin.result": {"action": F(str, choices=ADMIN_ACTIONS), "version": F(int, lo=1)},
    "stats.request": {"day_from": F(str, pattern=DAY, test=REAL_DAY), "day_to": F(str, pattern=DAY, test=REAL_DAY),
                      "by": F(str, choices=STATS_GROUPS), "per_day": _opt(bool)},
    "stats.result": {"rows": F(list, items=F(JSON), max_len=STATS_RESULT_ROWS), "truncated": F(bool)},
    "error": {"code": F(str, pattern=r"[a-z_]{1,40}"), "reason": F(str, max_len=500)},
}
BODIES: dict[str, Record] = {name: Record(f"{name} field", fields) for name, fields in _BODIES.items()}
AGE_MAX = 366 * 86400.0  # the most an envelope's `age` may say (a year and a day)
AGED = frozenset({"ticket.offline"})  # types whose sender says their age when it sends them (`aged`); a receiver of
# an earlier release refuses the field, so a type joins only when its receivers are updated first (docs/contract.md)
ENVELOPE: dict[str, Rule] = {
    "v": F(int),
    "type": F(str, max_len=40),  # then looked up in BODIES
    "device": F(str, pattern=DEVICE_ID),
    "boot": F(str, pattern=r"[0-9a-f]{4,32}"),
    "seq": F(int, lo=0),
    "ts": F(str, max_len=40),  # then parsed as ISO 8601
    "corr": _opt(str, max_len=80, pattern=r"[!-~]{1,80}"),
    "age": _opt(float, lo=0, hi=AGE_MAX),  # s since the sender made it, by its boot clock, as it was sent (`aged`)
}
_EVERY_MESSAGE = tuple((name, r) for name, r in ENVELOPE.items() if name != "age")  # what from_dict checks first
_ENVELOPE_NAMES = frozenset((*ENVELOPE, "body", packed.FIELD))  # `body`, or `body_z` when it is too large


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
    age: float | None = None  # seconds between its making and its sending, when its sender could tell (`aged`)

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.device, self.boot, self.seq)

    def encode(self) -> bytes:
        data: dict[str, Any] = {"v": self.v, "type": self.type, "device": self.device, "boot": self.boot,
                                "seq": self.seq, "ts": self.ts, "body": self.body}
        if self.corr is not None:
            data["corr"] = self.corr
        if self.age is not None:
            data["age"] = self.age
        payload = orjson.dumps(data)  # compact UTF-8 JSON: json.dumps's bytes, but a float may be written otherwise
        if len(payload) <= MAX_PAYLOAD:
            return payload
        data[packed.FIELD] = packed.pack(orjson.dumps(data.pop("body")))  # too large as it is: deflated
        payload = orjson.dumps(data)
        if len(payload) > MAX_PAYLOAD:  # a broker would drop it and a receiver refuse it: the sender hears it
            raise TooLarge("body", f"at most {MAX_PAYLOAD} bytes deflated", f"{len(payload)} bytes")
        return payload


def now_ts() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def iso_ts(t: float) -> str:
    """A wall-clock time (time.time()) as the ward's messages and states write one to the second: UTC, ISO 8601."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def make(type_: str, device: str, boot: str, seq: int, body: dict[str, Any], corr: str | None = None) -> Message:
    """Builds a message and validates it, so a role can never send what the contract forbids."""
    msg = Message(type=type_, device=device, boot=boot, seq=seq, ts=now_ts(), body=body, corr=corr)
    validate_body(type_, body)
    return msg


def aged(payload: bytes, age: float) -> bytes:
    """A stored message's payload as sent `age` seconds after it was made: the envelope's `age` put first, the rest
    byte for byte (a receiver reads when it was made by its own clock: a sender's wall clock may be days out, its
    time since boot is not). A payload that is not a JSON object, or says its age already, is sent as it is."""
    if not payload.startswith(b'{"') or payload.startswith(b'{"age":') or len(payload) > MAX_PAYLOAD - 32:
        return payload
    return b'{"age":%s,%s' % (orjson.dumps(round(max(0.0, min(age, AGE_MAX)), 3)), payload[1:])


def decode(payload: bytes) -> Message:
    """Parses and validates a payload; raises ContractError naming the field that is wrong. Costs time bounded by
    the payload's size: nesting, numbers (no NaN or Infinity) and text (no lone surrogates) are all checked."""
    data = load_json(payload)
    if not isinstance(data, dict):
        raise ContractError("payload", "a JSON object", type(data).__name__)
    return from_dict(data)


def load_json(payload: bytes, limit: int = MAX_PAYLOAD) -> Any:
    """Parses JSON from outside (a message, a browser's request) in time and stack bounded by its size; raises
    ContractError for longer than `limit` bytes, too deep, not UTF-8, NaN or Infinity, or not JSON."""
    if len(payload) > limit:
        raise ContractError("payload", f"at most {limit} bytes", f"{len(payload)} bytes")
    few_brackets = payload.count(b"[") + payload.count(b"{") <= MAX_NESTING  # every ordinary message
    if not few_brackets and (depth := nesting(payload)) > MAX_NESTING:
        raise ContractError("payload", f"JSON nested at most {MAX_NESTING} deep", f"nested {depth} deep")
    try:  # orjson, five times quicker, takes every valid payload; what it refuses the standard parser names
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(payload.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ContractError("payload", "UTF-8 JSON", "bytes that are not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ContractError("payload", "a JSON object", f"invalid JSON ({exc.msg} at {exc.pos})") from None


def nesting(payload: bytes) -> int:
    """How deep a JSON text's arrays and objects nest (brackets inside strings not counted), at C speed. Checked
    before parsing, so the parser never nears Python's recursion limit: there a garbage collection runs finalizers
    with no stack left, and they fail in whatever thread was parsing. Exact for valid JSON; for a broken text never
    less than the depth the parser reaches before it stops."""
    # With the escapes gone every quote left opens or closes a string. Only quotes and brackets matter then, and two
    # quotes side by side enclose nothing: dropping them leaves every bracket inside or outside a string as it was,
    # and a bundle's thousands of strings are gone before the split.
    text = payload.replace(b"\\\\", b"").replace(b'\\"', b"") if b"\\" in payload else payload
    marks = text.translate(None, _NOT_MARKS).replace(b'""', b"")
    outside = b"".join(marks.split(b'"')[::2])
    steps = outside.translate(_BRACKET_STEP, _NOT_BRACKETS)
    return max(accumulate(memoryview(steps).cast("b")), default=0)


def _no_constant(name: str) -> None:
    raise ContractError("payload", "JSON numbers (no NaN or Infinity)", name)


def from_dict(data: dict[str, Any]) -> Message:
    version = data.get("v")  # first: a message of another contract is named as such, whatever else it carries
    if type(version) is int and version != SCHEMA_VERSION:
        raise ContractError("v", f"schema version {SCHEMA_VERSION}", version)
    if not data.keys() <= _ENVELOPE_NAMES:
        name = next(name for name in data if name not in _ENVELOPE_NAMES)
        raise ContractError(field_name(name), "no such envelope field", data[name])
    try:
        env = {}
        for name, r in _EVERY_MESSAGE:  # `check`, inlined: the rule's fast check first
            if name in data:
                value = data[name]
                checked = r.fast(value)
                env[name] = check(r, value, name) if checked is SLOW else checked
            else:
                env[name] = _missing(name, r)
        age = check(ENVELOPE["age"], data["age"], "age") if "age" in data else None  # on a few types only (AGED)
        datetime.fromisoformat(env["ts"])  # (env["v"], an int by now, was checked first)
    except Invalid as exc:
        raise ContractError(exc.where, exc.expected, exc.got) from None
    except ValueError:
        raise ContractError("ts", "an ISO 8601 timestamp", data["ts"]) from None
    body = validate_body(env["type"], _body(data))
    # Built without the dataclass's __init__: a frozen dataclass sets each field through object.__setattr__, which
    # cost 2 µs of every message a device received. Every field is set here, in order (tests/test_contract.py).
    msg = object.__new__(Message)
    msg.__dict__.update(type=env["type"], device=env["device"], boot=env["boot"], seq=env["seq"], ts=env["ts"],
                        body=body, corr=env["corr"], v=env["v"], age=age)
    return msg


def _body(data: dict[str, Any]) -> Any:
    """The message's body as sent: `body`, or `body_z` inflated and parsed (bus/packed.py)."""
    if packed.FIELD not in data:
        if "body" not in data:
            raise ContractError("body", "a JSON object (required)", None)
        return data["body"]
    if "body" in data:
        raise ContractError(packed.FIELD, "no body_z beside a body", "both")
    body = load_json(packed.unpack(data[packed.FIELD]), packed.MAX_BODY)
    if type(body) is not dict:
        raise ContractError(packed.FIELD, "a JSON object", type(body).__name__)
    return body


def _missing(name: str, r: Rule) -> None:
    if r.required:
        raise Invalid(name, f"{describe(r)} (required)", MISSING)


def validate_body(type_: str, body: Any) -> dict[str, Any]:
    """Checks a body against its type's schema, nested objects included; returns it with text normalised to NFC."""
    record = BODIES.get(type_)
    if record is None:
        raise ContractError("type", "a known message type", type_)
    try:
        return check_record(record, body, "body")
    except Invalid as exc:
        raise ContractError(exc.where, exc.expected, exc.got) from None
