# One validation engine for messages, configs and records: types, bounds, choices, patterns, nesting, Unicode.
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# The identifiers every part of motcua checks, written once.
WARD_ID = r"[a-z0-9][a-z0-9-]{0,39}"
DEVICE_ID = r"[a-z0-9][a-z0-9_-]{0,39}"
SERVICE_CODE = r"[A-Z0-9_-]{1,16}"
PROCEDURE_CODE = r"[0-9]\.[0-9]{6}(\.[0-9A-Za-z]+)?"
DAY = r"\d{4}-\d{2}-\d{2}"
TICKET_LABEL = r"[A-Z][0-9]{3,4}"

INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # SQLite's integers; anything wider cannot be stored
MAX_TEXT = 2000  # characters in a string unless its rule says otherwise
MAX_ITEMS = 500  # items in a list unless its rule says otherwise
MAX_DEPTH = 8  # nesting of free-form JSON (device details, command arguments)
MAX_NODES = 4000  # values in one free-form JSON value
# control characters no text of ours holds (tab, line feed and carriage return are allowed): a screen or a printer
# cannot show them, and some libraries stop at a NUL
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Invalid(Exception):  # noqa: N818 - reads as "the value is invalid"; callers wrap it in their own error
    """A value breaks its rule: `where` is its path (body.ticket.label, hub.services[1].prefix), `expected` what the
    rule wants, `got` what arrived (MISSING when nothing did)."""

    def __init__(self, where: str, expected: str, got: Any) -> None:
        self.where, self.expected, self.got = where, expected, got
        super().__init__(f"{where}: expected {expected}, got {shown(got)}")

    @property
    def problem(self) -> str:
        if self.got is MISSING:
            return f"missing: {self.expected}"
        return f"expected {self.expected}, got {shown(self.got)}"


class _Missing:
    def __repr__(self) -> str:
        return "nothing"


MISSING: Any = _Missing()
JSON = "json"  # the kind of a free-form JSON value: bounded in depth and size, its text and numbers checked


@dataclass(frozen=True, eq=False)
class Rule:
    """What one value must be. `kind` is str, int, float, bool, list, JSON, a Record, dict (any object, checked
    later by its own schema) or a tuple of scalar kinds.
    For a list, `items` is the rule of each item and `max_len` its length; for text `max_len` counts characters;
    for JSON, the values it may hold (MAX_NODES unless said)."""

    kind: Any
    required: bool = True
    nullable: bool = False
    choices: tuple[Any, ...] | None = None
    pattern: re.Pattern[str] | None = None
    lo: float | None = None
    hi: float | None = None
    max_len: int | None = None
    items: Rule | None = None
    default: Any = MISSING
    test: tuple[Callable[[Any], bool], str] | None = None  # a further check and what it wants, in words
    fast: Callable[[Any], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fast", _fast(self))


@dataclass(frozen=True, eq=False)
class Record:
    """A JSON object with known fields. `make` builds the checked value (a dataclass); without it the checked
    dict is returned. `noun` names a field in messages about unknown ones ("option", "ticket.request field")."""

    noun: str
    fields: dict[str, Rule]
    make: Callable[..., Any] | None = None
    check: Callable[[dict[str, Any]], str | None] | None = None  # what the fields must be together, or None


def rule(kind: Any, *, required: bool = True, nullable: bool = False, choices: tuple[Any, ...] | None = None,
         pattern: str | None = None, lo: float | None = None, hi: float | None = None, max_len: int | None = None,
         items: Rule | None = None, default: Any = MISSING,
         test: tuple[Callable[[Any], bool], str] | None = None) -> Rule:
    """A Rule with its pattern compiled once."""
    return Rule(kind, required, nullable, choices, re.compile(pattern) if pattern else None, lo, hi, max_len, items,
                default, test)


def is_day(text: str) -> bool:
    """Whether `text` (already matching DAY) is a real calendar date."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


REAL_DAY = (is_day, "a real date, YYYY-MM-DD")


SLOW: Any = object()  # what a rule's fast check returns for a value it cannot pass alone: `check` decides


def check(r: Rule, value: Any, where: str) -> Any:
    """The value if it keeps rule `r` (text normalised to NFC, records built); raises Invalid otherwise."""
    checked = r.fast(value)
    return _check(r, value, where) if checked is SLOW else checked


def _check(r: Rule, value: Any, where: str) -> Any:
    if value is None:
        if r.nullable:
            return None
        raise Invalid(where, describe(r), None)
    kind = r.kind
    if kind is str:
        return _text(r, value, where)
    if kind is int:
        if type(value) is not int:
            raise Invalid(where, describe(r), value)
        return _bounded(r, value, where)
    if kind is bool:
        if type(value) is not bool:
            raise Invalid(where, describe(r), value)
        return value
    if kind is float or kind == (int, float):
        if type(value) not in (int, float):
            raise Invalid(where, describe(r), value)
        if type(value) is float and not math.isfinite(value):
            raise Invalid(where, "a finite number", value)
        return _bounded(r, value, where)
    if isinstance(kind, Record):
        return check_record(kind, value, where)
    if kind is list:
        return _list(r, value, where)
    if kind == JSON:
        check_json(value, where, r.max_len or MAX_NODES)
        return value
    if kind is dict:  # an object its receiver checks in full by its own schema (a message in a bundle)
        if type(value) is not dict:
            raise Invalid(where, describe(r), value)
        return value
    raise TypeError(f"{where}: unsupported rule kind {kind!r}")


def check_record(record: Record, data: Any, where: str) -> Any:
    """Checks a JSON object field by field: unknown fields, missing required ones and every value."""
    if type(data) is not dict:
        raise Invalid(where, "a JSON object", data)
    fields = record.fields
    for key in data:
        if key not in fields:
            raise Invalid(_join(where, field_name(key)), f"a known {record.noun} ({', '.join(fields)})", data[key])
    out: dict[str, Any] = {}
    for name, r in fields.items():
        if name in data:  # `check`, inlined: the field's path is joined only for a value the fast check leaves
            value = data[name]
            checked = r.fast(value)
            out[name] = _check(r, value, _join(where, name)) if checked is SLOW else checked
        elif r.required:
            raise Invalid(_join(where, name), f"{describe(r)} (required)", MISSING)
    if record.check is not None:
        wanted = record.check(out)
        if wanted:
            raise Invalid(where, wanted, data)
    return record.make(**out) if record.make is not None else out


def check_json(value: Any, where: str, most: int = MAX_NODES) -> None:
    """Checks a free-form JSON value without recursion: at most MAX_DEPTH deep and `most` values, text that is
    valid Unicode, integers SQLite can store, finite numbers."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > most:
            raise Invalid(where, f"at most {most} JSON values", "more")
        kind = type(item)
        if kind is str:
            _unicode(item, where)
        elif kind is int:
            if not INT_MIN <= item <= INT_MAX:
                raise Invalid(where, "integers within 64 bits", item)
        elif kind is float:
            if not math.isfinite(item):
                raise Invalid(where, "finite numbers", item)
        elif kind is dict or kind is list:
            if depth >= MAX_DEPTH:
                raise Invalid(where, f"JSON nested at most {MAX_DEPTH} deep", "deeper nesting")
            if kind is dict:
                for key, sub in item.items():
                    _unicode(key, where)
                    stack.append((sub, depth + 1))
            else:
                stack.extend((sub, depth + 1) for sub in item)
        elif item is not None and kind is not bool:
            raise Invalid(where, "JSON", item)


def describe(r: Rule) -> str:
    """The rule's kind in words, as error messages say it."""
    kind = r.kind
    if isinstance(kind, Record) or kind is dict:
        return "a JSON object"
    words = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
             JSON: "JSON"}
    text = words.get(kind, "a number") if not isinstance(kind, tuple) else "a number"
    return text + (" or null" if r.nullable else "")


def shown(value: Any, limit: int = 60) -> str:
    """A value as an error message shows it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def field_name(name: str) -> str:
    """A field name the sender made up, as an error message names it: itself when short and printable, else its
    repr cut short (a name holding a control character must not carry it into a reply or a log line)."""
    return name if len(name) <= 60 and name.isprintable() else shown(name)


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _text(r: Rule, value: Any, where: str) -> str:
    if type(value) is not str:
        raise Invalid(where, describe(r), value)
    limit = r.max_len or MAX_TEXT
    if len(value) > limit:
        raise Invalid(where, f"at most {limit} characters", f"{len(value)} characters")
    if not value.isascii():
        _unicode(value, where)
        if not unicodedata.is_normalized("NFC", value):
            value = unicodedata.normalize("NFC", value)
    if not value.isprintable() and CONTROL.search(value):
        raise Invalid(where, "text without control characters", value)
    if r.pattern is not None and r.pattern.fullmatch(value) is None:
        raise Invalid(where, f"a value matching {r.pattern.pattern}", value)
    if r.choices is not None and value not in r.choices:
        raise Invalid(where, f"one of {', '.join(map(str, r.choices))}", value)
    if r.test is not None and not r.test[0](value):
        raise Invalid(where, r.test[1], value)
    return value


def _unicode(text: str, where: str) -> None:
    if text.isascii():  # no surrogate is ASCII
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Invalid(where, "valid Unicode text", f"a lone surrogate at character {exc.start}") from None


def _bounded(r: Rule, value: int | float, where: str) -> int | float:
    lo = INT_MIN if r.lo is None else r.lo
    hi = INT_MAX if r.hi is None else r.hi
    if value < lo:
        raise Invalid(where, f"at least {lo}", value)
    if value > hi:
        raise Invalid(where, f"at most {hi}", value)
    if r.choices is not None and value not in r.choices:
        raise Invalid(where, f"one of {', '.join(map(str, r.choices))}", value)
    return value


def _list(r: Rule, value: Any, where: str) -> list[Any]:
    if type(value) is not list:
        raise Invalid(where, describe(r), value)
    limit = r.max_len or MAX_ITEMS
    if len(value) > limit:
        raise Invalid(where, f"at most {limit} items", f"{len(value)} items")
    if r.items is None:
        check_json(value, where)
        return value
    items, fast, out = r.items, r.items.fast, []
    for i, item in enumerate(value):  # `check`, inlined: an item's path is written only for one the fast check leaves
        checked = fast(item)
        out.append(_check(items, item, f"{where}[{i}]") if checked is SLOW else checked)
    return out


def _fast(r: Rule) -> Callable[[Any], Any]:
    """A check of `r` for the common value, worked out once per rule: printable text already in NFC (Vietnamese
    included: a lone surrogate is not printable), an integer or a number in bounds, an object checked later. It
    returns the value as `_check` would, or SLOW for anything else — then `_check` decides and says what is wrong,
    so the fast check never changes what is accepted or how a refusal reads."""
    kind, nullable, choices, test = r.kind, r.nullable, r.choices, r.test
    if kind is str:
        limit, match = r.max_len or MAX_TEXT, r.pattern.fullmatch if r.pattern is not None else None
        nfc = unicodedata.is_normalized

        def text(v: Any) -> Any:
            if type(v) is not str or len(v) > limit or not v.isprintable() \
                    or (not v.isascii() and not nfc("NFC", v)) \
                    or (match is not None and match(v) is None) or (choices is not None and v not in choices) \
                    or (test is not None and not test[0](v)):
                return None if v is None and nullable else SLOW
            return v
        return text
    if kind is int or kind is float or kind == (int, float):
        lo = INT_MIN if r.lo is None else r.lo
        hi = INT_MAX if r.hi is None else r.hi
        kinds = (int,) if kind is int else (int, float)

        def number(v: Any) -> Any:
            if type(v) not in kinds or not lo <= v <= hi or (choices is not None and v not in choices):
                return None if v is None and nullable else SLOW  # NaN fails lo <= v; infinity fails a bound or
            return v                                              # goes the slow way (no bound: INT_MIN/INT_MAX)
        return number
    if kind is bool:
        return lambda v: v if type(v) is bool else (None if v is None and nullable else SLOW)
    if kind is dict:
        return lambda v: v if type(v) is dict else (None if v is None and nullable else SLOW)
    return lambda v: SLOW
