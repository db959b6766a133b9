# Hypothesis strategies for every message of the contract, made from its own schemas: valid, mutated and random.
from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bus.catalogue import Catalogue
from bus.config import plan
from bus.errors import ContractError
from bus.messages import BODIES, ENVELOPE, load_json
from bus.topics import carries, parse
from bus.upstream import KINDS
from bus.validation import INT_MAX, INT_MIN, JSON, REAL_DAY, Record, Rule
from devkit.hostile import classics, mutate

Hints = dict[str, Sequence[Any]]  # field name -> values a receiver knows (its services, counters), mixed in

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(INT_MIN, INT_MAX) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
# free-form fields that have a schema of their own one level further in
DEEPER: dict[tuple[str, str], Record] = {("catalogue.update", "catalogue"): plan(Catalogue)}


def of_rule(r: Rule, hints: Hints | None = None, name: str = "") -> st.SearchStrategy[Any]:
    """Values that keep rule `r` (text from its pattern or choices, numbers within bounds, nested records)."""
    base = _base(r, hints or {})
    if hints and name in hints:
        base = st.sampled_from(list(hints[name])) | base
    return (st.none() | base) if r.nullable else base


def _base(r: Rule, hints: Hints) -> st.SearchStrategy[Any]:
    kind = r.kind
    if r.choices is not None:
        return st.sampled_from(r.choices)
    if kind is str:
        if r.test is REAL_DAY:
            return st.dates(date(2020, 1, 1), date(2035, 12, 31)).map(date.isoformat)
        if r.pattern is not None:
            return from_pattern(r.pattern.pattern)
        return st.text(max_size=min(r.max_len or 60, 60))
    if kind is bool:
        return st.booleans()
    if kind is int:
        return st.integers(int(INT_MIN if r.lo is None else r.lo), int(INT_MAX if r.hi is None else r.hi))
    if kind is float or kind == (int, float):
        lo = -1e12 if r.lo is None else r.lo
        hi = 1e12 if r.hi is None else r.hi
        return st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if isinstance(kind, Record):
        return record(kind, hints)
    if kind is list:
        items = of_rule(r.items, hints) if r.items is not None else JSON_VALUES
        return st.lists(items, max_size=min(r.max_len or 4, 4))
    if kind == JSON:
        return JSON_VALUES
    if kind is dict:
        return st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4)
    raise TypeError(f"no strategy for {kind!r}")


_TOKEN = re.compile(r"(\[[^\]]+\]|\\d|\\.|[^\\\[\](){}|+*?])(\{(\d+)(?:,(\d+))?\}|[+*?])?")


def from_pattern(pattern: str) -> st.SearchStrategy[str]:
    """Strings that fully match `pattern`: fast for the plain runs of character classes our identifiers are made of
    (`[a-z0-9][a-z0-9_-]{0,39}`), Hypothesis's `from_regex` for anything else."""
    parts: list[st.SearchStrategy[str]] = []
    pos = 0
    while pos < len(pattern):
        m = _TOKEN.match(pattern, pos)
        if m is None:
            return st.from_regex(re.compile(pattern, re.ASCII), fullmatch=True)
        atom, quant, lo, hi = m.group(1), m.group(2), m.group(3), m.group(4)
        chars = _chars(atom)
        low, high = (1, 1) if not quant else {"+": (1, 4), "*": (0, 4), "?": (0, 1)}.get(
            quant, (int(lo or 0), int(hi) if hi else int(lo or 0)))
        parts.append(st.text(alphabet=chars, min_size=low, max_size=high))
        pos = m.end()
    return st.tuples(*parts).map("".join)


def _chars(atom: str) -> str:
    if atom == "\\d":
        return "0123456789"
    if atom.startswith("\\"):
        return atom[1]
    if not atom.startswith("["):
        return atom
    body, chars, i = atom[1:-1], [], 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            chars += [chr(c) for c in range(ord(body[i]), ord(body[i + 2]) + 1)]
            i += 3
        else:
            chars.append(body[i])
            i += 1
    return "".join(chars)


def record(rec: Record, hints: Hints | None = None) -> st.SearchStrategy[dict[str, Any]]:
    required = {k: of_rule(r, hints, k) for k, r in rec.fields.items() if r.required}
    optional = {k: of_rule(r, hints, k) for k, r in rec.fields.items() if not r.required}
    made = st.fixed_dictionaries(required, optional=optional)
    return made.filter(lambda d: rec.check(d) is None) if rec.check is not None else made


def body(type_: str, hints: Hints | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A valid body of `type_`; free-form fields that have schemas further in get valid values of those."""
    rec = BODIES[type_]
    fields = {k: of_rule(r, hints, k) for k, r in rec.fields.items()}
    for (t, name), deeper in DEEPER.items():
        if t == type_:
            fields[name] = record(deeper, hints)
    if type_ == "upstream.record":
        return st.sampled_from(sorted(KINDS)).flatmap(
            lambda kind: st.fixed_dictionaries({"kind": st.just(kind), "record": record(plan(KINDS[kind]), hints)}))
    required = {k: s for k, s in fields.items() if rec.fields[k].required}
    return st.fixed_dictionaries(required, optional={k: s for k, s in fields.items() if k not in required})


def envelope(type_: str, hints: Hints | None = None) -> st.SearchStrategy[dict[str, Any]]:
    fields = {k: of_rule(r, hints, k) for k, r in ENVELOPE.items() if k not in ("v", "type", "ts")}
    fields["corr"] = from_pattern(r"[0-9a-f]{4,12}\.[0-9]{1,6}")
    made = st.fixed_dictionaries({
        "v": st.just(1), "type": st.just(type_), "ts": st.datetimes().map(lambda d: d.isoformat()),
        "body": body(type_, hints), **fields})
    if type_ != "bundle":
        return made
    inner = st.lists(st.one_of(envelope("upstream.record", hints), of_rule(BODIES["bundle"].fields["messages"].items)),
                     min_size=1, max_size=3)  # records, mostly valid, and objects that are not messages
    return st.tuples(made, inner, st.booleans()).map(  # most from the bundle's own sender, as an outbox sends them
        lambda t: {**t[0], "body": {"messages": [{**m, "device": t[0]["device"]} if t[2] and "device" in m else m
                                                 for m in t[1]]}})


def message(types: Sequence[str] | None = None, hints: Hints | None = None) -> st.SearchStrategy[bytes]:
    """A valid encoded message of one of `types` (every type when None)."""
    chosen = list(types or BODIES)
    return st.sampled_from(chosen).flatmap(lambda t: envelope(t, hints)).map(
        lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8"))


def payloads(types: Sequence[str] | None = None, hints: Hints | None = None) -> st.SearchStrategy[bytes]:
    """What a receiver must survive: valid messages, valid ones mutated, the classic attacks, random JSON and bytes."""
    valid = message(types, hints)
    return st.one_of(
        valid,
        st.tuples(valid, st.randoms(use_true_random=False), st.integers(1, 8)).map(
            lambda t: _mutate_n(t[0], t[1], t[2])),
        st.sampled_from(list(classics().values())),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=300),
    )


def _mutate_n(payload: bytes, rng: Any, n: int) -> bytes:
    for _ in range(n):
        payload = mutate(payload, rng)
    return payload


@dataclass
class Run:
    """What a fuzz run fed a receiver and how long the receiver took over it."""

    payloads: int = 0
    seconds: float = 0.0
    topics: dict[str, int] = field(default_factory=dict)

    @property
    def us_per_payload(self) -> float:
        return 1e6 * self.seconds / max(1, self.payloads)


_CORPORA: dict[tuple[Any, ...], list[bytes]] = {}


def corpus(examples: int, types: Sequence[str] | None = None, hints: Hints | None = None,
           derandomize: bool = True) -> list[bytes]:
    """`examples` payloads drawn by Hypothesis from `payloads()`, the same for every receiver that asks for the same
    kind (drawing is the costly part: about 5 ms a payload)."""
    key = (examples, tuple(types or ()), json.dumps(hints or {}, sort_keys=True, default=str), derandomize)
    if key not in _CORPORA:
        drawn: list[bytes] = []

        @settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(payloads(types, hints))
        def draw(payload: bytes) -> None:
            drawn.append(payload)

        draw()
        _CORPORA[key] = drawn
    return _CORPORA[key]


def expand(base: Sequence[bytes], total: int, seed: int = 1) -> Iterator[bytes]:
    """`total` payloads from a corpus: each one as drawn, then mutated copies (1 to 8 random edits each) - the long
    run's 100,000 payloads per receiver at the speed of the receiver rather than of drawing."""
    rng = random.Random(seed)
    for i in range(total):
        payload = base[i % len(base)]
        yield payload if i < len(base) else _mutate_n(payload, rng, rng.randint(1, 8))


def _topic_for(payload: bytes, topics: Sequence[str], rng: random.Random) -> str:
    """Mostly a topic that carries the payload's type, when it has one: a valid message on a topic that cannot carry
    it only tests the type check, while on its own topic it reaches the receiver's logic."""
    if rng.random() < 0.7:
        try:
            type_ = load_json(payload).get("type")  # bounded: the receivers share this process
        except (ContractError, AttributeError):
            type_ = None
        right = [t for t in topics if isinstance(type_, str) and carries(t, type_) and parse(t) is not None]
        if right:
            return rng.choice(right)
    return rng.choice(topics)


def feed(deliver: Callable[[str, bytes], None], topics: Sequence[str], payloads_: Iterable[bytes], seed: int = 1,
         between: Callable[[], None] | None = None) -> Run:
    """Hands every payload to a receiver's `deliver(topic, payload)` on a topic chosen at random (seeded); `between`
    runs after each (a screen's frame). The invariants are checked by the caller afterwards, on the receiver as a
    whole: no traceback logged, every thread alive, real requests still answered."""
    run = Run()
    rng = random.Random(seed)
    for payload in payloads_:
        topic = _topic_for(payload, topics, rng)
        started = time.perf_counter()
        deliver(topic, payload)
        run.seconds += time.perf_counter() - started
        run.payloads += 1
        run.topics[topic] = run.topics.get(topic, 0) + 1
        if between is not None:
            between()
    return run
