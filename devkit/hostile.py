# Hostile payloads and a raw MQTT publisher, for the tests and benches that attack the ward's receivers.
from __future__ import annotations

import base64
import functools
import json
import random
import time
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def envelope(type_: str = "ticket.request", body: Any = None, **over: Any) -> dict[str, Any]:
    """A valid envelope as a dict (a ticket request unless told otherwise), to be broken on purpose."""
    data: dict[str, Any] = {"v": 1, "type": type_, "device": "kiosk-x", "boot": "abcd", "seq": 1,
                            "ts": "2026-11-22T09:00:00+07:00", "body": {"service": "HT"} if body is None else body,
                            "corr": "abcd.1"}
    data.update(over)
    return data


def dumps(data: Any) -> bytes:
    """JSON as an attacker writes it: NaN and lone surrogates allowed, nothing escaped away."""
    return json.dumps(data, allow_nan=True).encode("utf-8")


def classics(size: int = 5000) -> dict[str, bytes]:
    """The payloads that broke receivers before: each must be refused with a ContractError, nothing else."""
    return {
        "nested arrays": b"[" * size + b"]" * size,
        "nested objects in a body": dumps(envelope()).replace(
            b'"body": {"service": "HT"}', b'"body": ' + b'{"a":' * (size // 5) + b"1" + b"}" * (size // 5)),
        "open brackets only": b"[" * size,
        "seq beyond 64 bits": dumps(envelope(seq=10**30)),
        "negative seq beyond 64 bits": dumps(envelope(seq=-(10**30))),
        "body integer beyond 64 bits": dumps(envelope("ticket.confirm", {"ticket_id": 10**30, "outcome": "void"})),
        "lone surrogate in a body": dumps(envelope(body={"service": "\ud800"})),
        "lone surrogate in a free value": dumps(envelope("device.state", {"status": "online",
                                                                          "detail": {"x": "\udfff"}})),
        "lone surrogate as a key": dumps(envelope("device.state", {"status": "online", "detail": {"\ud83d": 1}})),
        "NaN": dumps(envelope("rating.submit", {"counter": 1, "level": 1, "scale": 3, "left_s": float("nan")})),
        "Infinity": dumps(envelope("rating.submit", {"counter": 1, "level": 1, "scale": 3, "left_s": float("inf")})),
        "huge float": b'{"v": 1e999}',
        "deep free value": dumps(envelope("device.state", {"status": "online", "detail": _deep(50)})),
        "oversize": b"{" + b" " * (100 * 1024) + b"}",
        "not UTF-8": b"\xff\xfe\xfd",
        "empty": b"",
        "a bare number": b"12345678901234567890123456789",
        "null body": dumps({**envelope(), "body": None}),
        "bool as integer": dumps(envelope(seq=True)),
        "deflated bomb": dumps({**_no_body(), "body_z": _deflated(b"\0" * 30_000_000)}),  # 30 MB in 39 KB
        "deflated deep nesting": dumps({**_no_body(), "body_z": _deflated(b"[" * size + b"]" * size)}),
        "deflated body not base64": dumps({**_no_body(), "body_z": "{not base64}"}),
        "age NaN": dumps(envelope("ticket.offline", {}, age=float("nan"))),
        "age beyond a year": dumps(envelope(age=1e300)),
        "age said twice": dumps(envelope()).replace(b"{", b'{"age": 1, "age": -5, ', 1),
    }


def _no_body() -> dict[str, Any]:
    data = envelope()
    del data["body"]
    return data


@functools.cache
def _deflated(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")


def _deep(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = {"d": value}
    return value


def mutate(payload: bytes, rng: random.Random) -> bytes:
    """One random edit of a payload: a byte flipped, dropped, repeated or inserted, or a slice cut out."""
    data = bytearray(payload)
    if not data:
        return bytes([rng.randrange(256)])
    i = rng.randrange(len(data))
    kind = rng.randrange(5)
    if kind == 0:
        data[i] ^= 1 << rng.randrange(8)
    elif kind == 1:
        del data[i]
    elif kind == 2:
        data[i:i] = data[i:i + rng.randrange(1, 8)]
    elif kind == 3:
        data.insert(i, rng.choice(b'{}[]",:\\0123456789eE-+.tfn \x00\xff'))
    else:
        del data[i:i + rng.randrange(1, 32)]
    return bytes(data)


def raw_client(port: int, client_id: str, host: str = "127.0.0.1", username: str = "",
               password: str = "") -> mqtt.Client:
    """A bare paho client, connected and looping: it publishes whatever it is given, as an attacker would."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    if username:
        client.username_pw_set(username, password)
    client.connect(host, port)
    client.loop_start()
    return client


def flood_payloads(n: int, seed: int = 1) -> Iterator[bytes]:
    """`n` hostile payloads, in a seeded mixture: the classic attacks, valid messages mutated by 1 to 8 random edits,
    well-formed answers nobody asked for (wrong type for the topic, unknown correlation id), random bytes."""
    rng = random.Random(seed)
    attacks = list(classics().values())
    valid = [dumps(envelope()), dumps(envelope("rating.submit", {"counter": 1, "level": 1, "scale": 3})),
             dumps(envelope("counter.command", {"action": "call_next", "counter": 1})),
             dumps(envelope("device.state", {"status": "online", "detail": {"x": [1, 2, {"y": "z"}]}}))]
    for i in range(n):
        kind = i % 4
        if kind == 0:
            yield attacks[rng.randrange(len(attacks))]
        elif kind == 1:
            payload = valid[rng.randrange(len(valid))]
            for _ in range(rng.randint(1, 8)):
                payload = mutate(payload, rng)
            yield payload
        elif kind == 2:  # well formed, but no receiver asked for it
            yield dumps(envelope("error", {"code": "spoofed", "reason": "x" * rng.randrange(400)},
                                 seq=rng.randrange(10**6), corr=f"{rng.randrange(16**8):08x}.{i}"))
        else:
            yield rng.randbytes(rng.randrange(1, 400))


def flood(client: mqtt.Client, topics: Sequence[str], n: int, seed: int = 1) -> int:
    """Publishes `n` hostile payloads round the `topics` at QoS 0 as fast as the broker takes them; returns n."""
    for i, payload in enumerate(flood_payloads(n, seed)):
        client.publish(topics[i % len(topics)], payload, qos=0)
        if i % 500 == 499:  # let paho's queue drain: it would refuse more than it holds
            time.sleep(0.005)
    return n
