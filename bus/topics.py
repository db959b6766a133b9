# The ward topic tree: every MQTT topic a role publishes or subscribes to is built here.
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from bus.errors import ContractError
from bus.validation import WARD_ID

WARD = re.compile(WARD_ID)
ROOT = "motcua/v1"


class Topics:
    """Topics of one ward, rooted at motcua/v1/<ward>. Retained topics are marked in docs/contract.md."""

    def __init__(self, ward: str) -> None:
        if not WARD.fullmatch(ward) and ward != "+":
            raise ContractError("ward", "lowercase letters, digits and '-' (1-40)", ward)
        self.ward = ward
        self.root = f"{ROOT}/{ward}"

    @classmethod
    def all_wards(cls) -> Topics:
        """Subscription filters over every ward ('+' for the ward), for a district collector."""
        return cls("+")

    def below(self, rest: str) -> str:
        """A topic or filter below this ward's root, written as in KINDS (`counter/+/state`): for the access list."""
        return f"{self.root}/{rest}"

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
    def ticket_lookup(self) -> str:
        return f"{self.root}/ticket/lookup"

    @property
    def notify_subscribe(self) -> str:
        return f"{self.root}/notify/subscribe"

    def line_state(self, service: str) -> str:
        return f"{self.root}/line/{service}"

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

    @property
    def admin_request(self) -> str:
        return f"{self.root}/admin/request"

    @property
    def stats_request(self) -> str:
        return f"{self.root}/stats/request"

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

    def device_alive(self, device: str) -> str:
        """A device's probe to itself: it proves the whole receive path works (bus/client.py)."""
        return f"{self.root}/device/{device}/alive"

    # upstream (ward hub -> district collector)
    @property
    def upstream_record(self) -> str:
        return f"{self.root}/upstream/record"

    def upstream_ack(self) -> str:
        return f"{self.root}/upstream/ack"


REPLY_TYPES = ("ticket.issued", "ticket.confirmed", "ticket.found", "notify.accepted", "counter.result",
               "rating.recorded", "upstream.ack", "device.reply", "admin.result", "stats.result", "error")
# Every kind of topic below a ward's root: its pattern ("+" for the counter or device), what it carries in words,
# and the only message types it may carry (docs/contract.md, "Topics"); the client drops any other type on it.
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ticket/request": ("ticket requests", ("ticket.request",)),
    "ticket/confirm": ("ticket confirmations", ("ticket.confirm",)),
    "ticket/offline": ("offline tickets", ("ticket.offline",)),
    "ticket/event": ("ticket events", ("ticket.event",)),
    "ticket/lookup": ("ticket look-ups by phone token", ("ticket.lookup",)),
    "line/+": ("a service's waiting line", ("line.state",)),
    "notify/subscribe": ("phone numbers left for texts", ("notify.subscribe",)),
    "services": ("the service list", ("services.list",)),
    "catalogue": ("the procedure catalogue", ("catalogue.update",)),
    "board/state": ("the board state", ("board.state",)),
    "rating": ("ratings", ("rating.submit",)),
    "admin/request": ("changes to the ward's settings", ("admin.command",)),
    "stats/request": ("statistics requests", ("stats.request",)),
    "counter/+/command": ("counter commands", ("counter.command",)),
    "counter/+/state": ("counter states", ("counter.state",)),
    "reply/+": ("replies", REPLY_TYPES),
    "device/+/state": ("device states", ("device.state",)),
    "device/+/command": ("device commands", ("device.command",)),
    "device/+/alive": ("liveness probes", ()),
    "upstream/record": ("upstream records", ("upstream.record", "bundle")),
    "upstream/ack": ("upstream acknowledgements", ("upstream.ack",)),
}


_KIND_LEVELS = [(kind, kind.split("/")) for kind in KINDS]


@dataclass(frozen=True)
class Parsed:
    """A ward topic taken apart: its ward, its kind (a KINDS key) and the counter or device it names, if any."""

    ward: str
    kind: str
    name: str = ""


def parse(topic: str) -> Parsed | None:
    """The parts of a motcua topic, or None for a topic that is not one. Every received message is parsed, mostly
    on a handful of topics: those of a sane length are remembered (a flood of long made-up ones is not)."""
    return _parse_remembered(topic) if len(topic) <= 200 else _parse(topic)


@functools.lru_cache(maxsize=4096)
def _parse_remembered(topic: str) -> Parsed | None:
    return _parse(topic)


def _parse(topic: str) -> Parsed | None:
    levels = topic.split("/")
    if len(levels) < 4 or f"{levels[0]}/{levels[1]}" != ROOT:
        return None
    ward, rest = levels[2], levels[3:]
    for kind, want in _KIND_LEVELS:
        if len(want) == len(rest) and all(w == "+" or w == r for w, r in zip(want, rest, strict=True)):
            name = next((r for w, r in zip(want, rest, strict=True) if w == "+"), "")
            return Parsed(ward, kind, name)
    return None


def words_for(topic: str) -> str:
    """What a topic (or a subscription filter) carries, in words: "counter commands"."""
    parsed = parse(topic)
    return KINDS[parsed.kind][0] if parsed else f"messages on {topic}"


def carries(topic: str, type_: str) -> bool:
    """Whether a message of `type_` may arrive on `topic` (a topic of no known kind carries anything)."""
    parsed = parse(topic)
    return parsed is None or type_ in KINDS[parsed.kind][1]


def bundles_on(topic: str) -> bool:
    """Whether `topic` takes bundles: durable messages sent many to one publish (bus/bundle.py)."""
    parsed = parse(topic)
    return parsed is not None and "bundle" in KINDS[parsed.kind][1]


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
