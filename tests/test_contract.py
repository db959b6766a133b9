# The ward message contract: envelopes, body schemas, precise rejection reasons, NFC text, topics.
from __future__ import annotations

import dataclasses
import json
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bus import messages
from bus.config import BrokerSection, DeviceSection, plan
from bus.errors import ContractError
from bus.topics import Topics, topic_matches
from bus.upstream import KINDS, parse
from bus.validation import SLOW, Record, Rule, _check


def envelope(**over: object) -> dict:
    data = {"v": 1, "type": "ticket.request", "device": "kiosk-1", "boot": "a1b2c3d4", "seq": 7,
            "ts": "2026-11-22T09:00:00+07:00", "body": {"service": "HT"}, "corr": "a1b2c3d4.7"}
    data.update(over)
    return data


def reject(data: object) -> ContractError:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    with pytest.raises(ContractError) as info:
        messages.decode(raw)
    return info.value


def test_round_trip_keeps_every_field() -> None:
    msg = messages.make("ticket.request", "kiosk-1", "a1b2c3", 3, {"service": "CT", "priority": "elderly"},
                        corr="a1b2c3.3")
    back = messages.decode(msg.encode())
    assert back == msg
    assert back.key == ("kiosk-1", "a1b2c3", 3)
    assert vars(back) == vars(msg) and list(vars(back)) == [f.name for f in dataclasses.fields(messages.Message)]
    alone = messages.make("ticket.request", "kiosk-1", "a1b2c3", 4, {"service": "CT"})
    assert vars(messages.decode(alone.encode())) == vars(alone)  # no corr: None, as the dataclass has it


def _rules() -> list[Rule]:
    """Every rule of the contract, the upstream records and the device configs, nested ones included."""
    found: list[Rule] = []
    records = [Record("envelope", messages.ENVELOPE), *messages.BODIES.values(), *(plan(k) for k in KINDS.values()),
               *(plan(k) for k in (DeviceSection, BrokerSection))]
    while records:
        for r in records.pop().fields.values():
            while r is not None:
                found.append(r)
                if isinstance(r.kind, Record):
                    records.append(r.kind)
                r = r.items
    return found


RULES = _rules()
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-5, 100), st.floats(), st.text(),
                    st.text(alphabet=st.characters(codec="ascii"), max_size=12), st.sampled_from(["HT", "1.001193"]))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(RULES), st.data())
def test_a_rules_fast_check_passes_only_what_the_full_check_passes_and_returns_the_same(rule: Rule, data) -> None:
    if rule.pattern is not None:
        value = data.draw(st.one_of(SCALARS, st.from_regex(rule.pattern, fullmatch=True)))
    else:
        value = data.draw(SCALARS if rule.choices is None else st.one_of(SCALARS, st.sampled_from(rule.choices)))
    fast = rule.fast(value)
    if fast is SLOW:
        return
    full = _check(rule, value, "x")  # raises if the fast check passed a value the full one refuses
    assert type(full) is type(fast) and full == fast


@pytest.mark.parametrize(("data", "field", "expected"), [
    (b"not json at all", "payload", "a JSON object"),
    (b"\xff\xfe", "payload", "UTF-8"),
    (b'{"v": 1, "seq": NaN}', "payload", "no NaN or Infinity"),
    (b'{"v": 1, "seq": 7', "payload", "a JSON object"),
    ([1, 2], "payload", "a JSON object"),
    (envelope(v=2), "v", "schema version 1"),
    (envelope(type="ticket.teleport"), "type", "a known message type"),
    (envelope(seq="7"), "seq", "an integer"),
    (envelope(seq=True), "seq", "an integer"),
    (envelope(device="Kiosk 1"), "device", "a value matching"),
    (envelope(ts="yesterday"), "ts", "ISO 8601"),
    (envelope(body={"service": 12}), "body.service", "string"),
    (envelope(body={"service": "HT", "priority": "vip"}), "body.priority", "one of elderly"),
    (envelope(body={"service": "HT", "colour": "red"}), "body.colour", "ticket.request field"),
    (envelope(body={}), "body.service", "required"),
    (envelope(extra=1), "extra", "no such envelope field"),
    (envelope(age=-1), "age", "at least 0"),
    (envelope(age=10**9), "age", "at most"),
    (envelope(age="600"), "age", "a number"),
])
def test_rejections_name_field_expected_and_got(data: object, field: str, expected: str) -> None:
    err = reject(data)
    assert err.field == field
    assert expected in err.expected
    assert field in str(err) and "got" in str(err)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1), st.text(),
              st.floats(allow_nan=False, allow_infinity=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.booleans())
def test_payloads_read_and_messages_encode_as_the_standard_json_module_would(value: object, ascii_only: bool) -> None:
    """The quick parser and encoder (orjson) are a drop-in for the standard library's: the same values read, escaped
    or not (surrogate pairs included); written as the same compact UTF-8 bytes, a float aside (orjson may write
    6.103515625e-05 as 0.00006103515625): the same value reads back."""
    raw = json.dumps({"value": value}, ensure_ascii=ascii_only).encode()
    assert messages.load_json(raw) == json.loads(raw)
    msg = messages.Message(type="admin.command", device="console-1", boot="abcd", seq=1, ts="2026-11-22T09:00:00Z",
                           body={"data": value})
    standard = {"v": 1, "type": msg.type, "device": msg.device, "boot": "abcd", "seq": 1, "ts": msg.ts,
                "body": msg.body}
    written, expected = msg.encode(), json.dumps(standard, ensure_ascii=False, separators=(",", ":")).encode()
    assert json.loads(written) == standard
    assert written == expected or "float" in type_names(value)


def type_names(value: object) -> set[str]:
    """The types found anywhere in a JSON value."""
    found, stack = set(), [value]
    while stack:
        item = stack.pop()
        found.add(type(item).__name__)
        stack.extend(item.values() if isinstance(item, dict) else item if isinstance(item, list) else ())
    return found


def test_oversized_payload_is_rejected_before_parsing() -> None:
    err = reject(b"{" + b" " * (1024 * 1024) + b"}")
    assert err.field == "payload" and "bytes" in err.expected


def test_text_is_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hằng")
    body = {"action": "open", "counter": 1, "officer": decomposed}
    msg = messages.decode(json.dumps(envelope(type="counter.command", body=body)).encode())
    assert msg.body["officer"] == unicodedata.normalize("NFC", decomposed)
    assert msg.body["officer"] != decomposed


def test_make_refuses_to_build_a_bad_message() -> None:
    with pytest.raises(ContractError, match="body.counter"):
        messages.make("counter.command", "counter-1", "abcd", 1, {"action": "call_next", "counter": 0})


def test_topics_are_rooted_per_ward_and_ward_ids_are_checked() -> None:
    t = Topics("phuong-ba-dinh")
    assert t.ticket_request == "motcua/v1/phuong-ba-dinh/ticket/request"
    assert t.counter_command(3) == "motcua/v1/phuong-ba-dinh/counter/3/command"
    assert t.device_state("kiosk-1") == "motcua/v1/phuong-ba-dinh/device/kiosk-1/state"
    with pytest.raises(ContractError, match="ward"):
        Topics("Phường/#")


def test_topic_matching_agrees_with_paho_on_every_combination() -> None:
    import itertools

    import paho.mqtt.client as mqtt

    topics = ["motcua/v1/w1/upstream/record", "motcua/v1/w1/reply/hub", "motcua/v1/w1", "motcua/v1/w1/",
              "motcua", "$SYS/broker/uptime", "motcua/v1/w2/counter/3/command", "/motcua"]
    levels = ["motcua", "v1", "w1", "+", "#", "upstream", "record", "", "$SYS"]
    filters = ["/".join(p) for n in range(1, 6) for p in itertools.product(levels, repeat=n)
               if "#" not in p[:-1]]  # '#' only last, as MQTT requires
    assert len(filters) > 40000
    for f, t in itertools.product(filters, topics):
        assert topic_matches(f, t) == mqtt.topic_matches_sub(f, t), (f, t)
    assert topic_matches("$share/collectors/motcua/v1/+/upstream/record", topics[0])
    assert not topic_matches("$share/collectors/motcua/v1/+/upstream/record", topics[1])


@settings(max_examples=200, deadline=None)
@given(name=st.text(min_size=1, max_size=300))
@example(name="\uf900")  # a compatibility ideograph: text the contract carries in NFC, as 豈 (U+8C48)
def test_a_made_up_field_name_is_named_in_a_refusal_a_reply_can_carry(name: str) -> None:
    """A refusal's reason goes back to its sender (the collector's upstream.ack): a name holding a control character
    or running long must not make the reason one the contract refuses (a fuzz run found "versi\\x7fn")."""
    if name in messages.BODIES["ticket.request"].fields or name in KINDS["rating"].__dataclass_fields__:
        return
    for refuse in (lambda: messages.validate_body("ticket.request", {"service": "HT", name: 1}),
                   lambda: parse("rating", {name: 1})):  # a ward's upstream record, as the collector checks it
        with pytest.raises(ContractError) as caught:
            refuse()
        reason = str(caught.value)
        carried = messages.validate_body("upstream.ack", {"stored": False, "reason": reason})["reason"]
        assert carried == unicodedata.normalize("NFC", reason)  # carried whole, in the contract's NFC
        assert len(reason) < 400
    err = reject(envelope(**{name: 1})) if name not in messages._ENVELOPE_NAMES else None
    if err is not None:
        messages.validate_body("upstream.ack", {"stored": False, "reason": str(err)[:500]})
