# Bundles: a durable backlog sent many messages to one publish, and taken apart again on arrival, each checked alone.
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import orjson

from bus import messages
from bus.errors import ContractError
from bus.topics import bundles_on, carries

if TYPE_CHECKING:
    from bus.messages import Message
    from bus.outbox import Entry
    from bus.rejections import Rejections

BUNDLE_MAX = messages.BUNDLE_MAX
BUNDLE_BYTES = messages.MAX_PAYLOAD - 4096  # room for the bundle's own envelope
ALONE_AFTER = 2  # sends without an acknowledgement; after that an entry goes alone (a receiver that takes no bundles)


def pack(due: list[Entry], make: Callable[[list[dict[str, Any]]], Message],
         uptime: float = 0.0) -> Iterator[tuple[str, bytes]]:
    """(topic, payload) to publish for the outbox entries now due, in their order, each saying its age at `uptime`
    (the sender's time since boot) where it was made in this boot: entries for a topic that takes bundles go
    together, up to BUNDLE_MAX messages and BUNDLE_BYTES; any other entry, one tried ALONE_AFTER times already and
    one that is not JSON (a damaged file) goes alone. `make` builds a bundle's message from the messages it holds."""
    held: list[tuple[dict[str, Any], bytes]] = []
    held_topic, size = "", 0
    for entry in due:
        payload = entry.aged(uptime)
        one = _inner(entry, payload)
        if one is None or entry.topic != held_topic or len(held) >= BUNDLE_MAX \
                or size + len(payload) + 1 > BUNDLE_BYTES:
            yield from _flush(held_topic, held, make)
            held, held_topic, size = [], entry.topic, 0
        if one is None:
            yield entry.topic, payload
            continue
        held.append((one, payload))
        size += len(payload) + 1
    yield from _flush(held_topic, held, make)


def _inner(entry: Entry, payload: bytes) -> dict[str, Any] | None:
    if entry.attempts >= ALONE_AFTER or not bundles_on(entry.topic) or len(payload) > BUNDLE_BYTES // 2:
        return None
    try:
        one = orjson.loads(payload)
    except ValueError:
        return None
    return one if isinstance(one, dict) else None


def _flush(topic: str, held: list[tuple[dict[str, Any], bytes]],
           make: Callable[[list[dict[str, Any]]], Message]) -> Iterator[tuple[str, bytes]]:
    if len(held) == 1:  # a bundle of one is the message itself
        yield topic, held[0][1]
    elif held:
        yield topic, make([one for one, _ in held]).encode()


def unpack(bundle: Message, topic: str, rejected: Rejections) -> Iterator[Message]:
    """Each message in a bundle that would have been accepted had it come alone on `topic`: valid, from the
    bundle's own sender, of a type the topic carries and not itself a bundle. Each other one is counted and
    logged by what is wrong with it; its neighbours still go on."""
    for i, data in enumerate(bundle.body["messages"], 1):
        where = f"message {i} of a bundle from {bundle.device} on {topic}"
        try:
            one = messages.from_dict(data)
        except ContractError as exc:
            rejected.count(f"bundle.{exc.counted_as}", f"rejected {where}: {exc}")
            continue
        if one.device != bundle.device:
            rejected.count("bundle.device", f"rejected {where}: it names another sender, {one.device}")
        elif one.type == "bundle" or not carries(topic, one.type):
            rejected.count("bundle.type", f"rejected {where}: a {one.type} may not come in a bundle here")
        else:
            yield one
