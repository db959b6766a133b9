# The ward topic tree: every MQTT topic a role publishes or subscribes to is built here.
from __future__ import annotations

import functools
import re

from bus.errors import ContractError

WARD_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
ROOT = "motcua/v1"


class Topics:
    """Topics of one ward, rooted at motcua/v1/<ward>. Retained topics are marked in docs/contract.md."""

    def __init__(self, ward: str) -> None:
        if not WARD_ID.fullmatch(ward):
            raise ContractError("ward", "lowercase letters, digits and '-' (1-40)", ward)
        self.ward = ward
        self.root = f"{ROOT}/{ward}"

    # citizen-facing queue
    @property
    def ticket_request(self) -> str:
        return f"{self.root}/ticket/request"

    @property
    def ticket_confirm(self) -> str:
        return f"{self.root}/ticket/confirm"

    @property
    def ticket_offline(self) -> str:
        return f"{self.root}/ticket/offline"

    @property
    def ticket_event(self) -> str:
        return f"{self.root}/ticket/event"

    @property
    def services(self) -> str:
        return f"{self.root}/services"

    @property
    def catalogue(self) -> str:
        return f"{self.root}/catalogue"

    @property
    def board_state(self) -> str:
        return f"{self.root}/board/state"

    @property
    def rating(self) -> str:
        return f"{self.root}/rating"

    # counters
    def counter_command(self, counter: int | str) -> str:
        return f"{self.root}/counter/{counter}/command"

    def counter_state(self, counter: int | str) -> str:
        return f"{self.root}/counter/{counter}/state"

    # devices
    def reply(self, device: str) -> str:
        return f"{self.root}/reply/{device}"

    def device_state(self, device: str) -> str:
        return f"{self.root}/device/{device}/state"

    def device_command(self, device: str) -> str:
        return f"{self.root}/device/{device}/command"

    # upstream (ward hub -> district collector)
    @property
    def upstream_record(self) -> str:
        return f"{self.root}/upstream/record"

    def upstream_ack(self) -> str:
        return f"{self.root}/upstream/ack"


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether `topic` matches an MQTT subscription filter: `+` one level, `#` the rest (and the parent), the
    `$share/<group>/` prefix of a shared subscription ignored, `$` topics never matched by a leading wildcard.
    Filters are split once and remembered: every received message is matched against every subscription."""
    want = _levels(topic_filter)
    got = topic.split("/")
    if topic.startswith("$") and want[0] in ("+", "#"):
        return False
    for i, level in enumerate(want):
        if level == "#":
            return True
        if i >= len(got) or (level != "+" and level != got[i]):
            return False
    return len(want) == len(got)


@functools.lru_cache(maxsize=512)
def _levels(topic_filter: str) -> tuple[str, ...]:
    if topic_filter.startswith("$share/"):  # "$share/<group>/<filter>"
        topic_filter = topic_filter.split("/", 2)[2]
    return tuple(topic_filter.split("/"))
