# A body too large for a message travels deflated (body_z): a whole catalogue arrives; hostile body_z is refused.
from __future__ import annotations

import base64
import contextlib
import zlib
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus import catalogue, messages, packed
from bus.errors import ConfigError, ContractError
from devkit.big_catalogue import procedures_catalogue, write


def envelope(**fields: object) -> bytes:
    return orjson.dumps({"v": 1, "type": "catalogue.update", "device": "hub", "boot": "00ab", "seq": 1,
                         "ts": "2026-12-07T08:00:00.000+00:00", **fields})


def deflated(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data)).decode()


def test_a_catalogue_of_hundreds_of_procedures_travels_deflated_and_arrives_whole() -> None:
    body = {"version": 1000, "catalogue": procedures_catalogue(280)}
    assert len(orjson.dumps(body)) > 3 * messages.MAX_PAYLOAD  # as plain JSON, three messages' worth
    payload = messages.make("catalogue.update", "hub", "00ab", 1, body).encode()
    assert len(payload) <= messages.MAX_PAYLOAD and b'"body_z":' in payload and b'"body":' not in payload
    got = messages.decode(payload)
    assert got.body == body and catalogue.from_message(got.body).procedure("2.000279") is not None
    small = messages.make("catalogue.update", "hub", "00ab", 1, {"version": 2, "catalogue": {"fields": []}})
    assert b'"body":{' in small.encode() and b"body_z" not in small.encode()  # what fits is sent as before


@pytest.mark.parametrize(("fields", "said"), [
    ({"body_z": deflated(b" " * (packed.MAX_BODY + 1))}, "body_z: expected at most 1048576 bytes once inflated"),
    ({"body_z": base64.b64encode(zlib.compress(b"\0" * 50_000_000)).decode()}, "once inflated"),  # 50 MB in 49 KB
    ({"body_z": "not base64!"}, "body_z: expected base64 text"),
    ({"body_z": base64.b64encode(b"plain bytes").decode()}, "body_z: expected deflated data (zlib)"),
    ({"body_z": base64.b64encode(zlib.compress(b'{"version": 1}')[:-6]).decode()}, "one whole deflated stream"),
    ({"body_z": base64.b64encode(zlib.compress(b"{}") + b"more").decode()}, "got 'more after it'"),
    ({"body_z": deflated(b"[1, 2]")}, "body_z: expected a JSON object, got 'list'"),
    ({"body_z": deflated(b'{"version": 1, "catalogue": NaN}')}, "no NaN or Infinity"),
    ({"body_z": deflated(b"\xff{}")}, "UTF-8 JSON"),
    ({"body_z": 12}, "body_z: expected base64 text of a deflated JSON body"),
    ({"body_z": deflated(b"{}"), "body": {}}, "body_z: expected no body_z beside a body"),
    ({"body_z": deflated(b'{"version": 0, "catalogue": {}}')}, "body.version: expected at least 1, got 0"),
])
def test_a_hostile_body_z_is_refused_naming_what_is_wrong(fields: dict, said: str) -> None:
    with pytest.raises(ContractError) as refused:
        messages.decode(envelope(**fields))
    assert said in str(refused.value)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(deflated),
                 st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())))
def test_any_body_z_gives_a_message_or_a_contract_error(text: str) -> None:
    with contextlib.suppress(ContractError):  # what it may raise; anything else fails the test
        messages.decode(envelope(body_z=text))


def test_a_body_too_large_even_deflated_is_refused_to_its_sender(tmp_path: Path) -> None:
    body = {"version": 1000, "catalogue": procedures_catalogue(600)}
    with pytest.raises(ContractError, match="body: expected at most 65536 bytes deflated"):
        messages.make("catalogue.update", "hub", "00ab", 1, body).encode()
    with pytest.raises(ConfigError) as refused:  # ward IT hears it when the hub loads it, not a silent broker
        catalogue.load_catalogue_message(str(write(tmp_path / "big.json", 600)), str(tmp_path / "hub.toml"))
    assert "600 procedures do not fit in one message" in str(refused.value)
    assert catalogue.load_catalogue_message(str(write(tmp_path / "fits.json", 250)), str(tmp_path / "hub.toml"))


def test_an_admin_sends_the_whole_large_catalogue_back_with_one_procedure_edited() -> None:
    edited = procedures_catalogue(280)
    edited["fields"][0]["procedures"][0]["fee_vi"] = "Miễn phí (đổi tại quầy)"
    body = {"action": "catalogue", "data": edited, "by": "Lê Văn Quản trị"}
    got = messages.decode(messages.make("admin.command", "console", "00ab", 7, body).encode())
    assert got.body == body
