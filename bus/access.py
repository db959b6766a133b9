# Who may read and write which topics on a ward broker: the one table behind the access list, the clients and the docs.
from __future__ import annotations

from dataclasses import dataclass, field

from bus.topics import Topics, topic_matches, words_for

IT_ACCOUNT = "it"  # ward IT's broker account
HUB_ACCOUNT = "hub"  # the hub's broker account (enrolment names the hub "hub")
CONSOLE_ACCOUNT = "console"  # the web console's broker account (enrolment names the console "console")
COMMANDERS = (IT_ACCOUNT, CONSOLE_ACCOUNT)  # the accounts a device takes device commands from

# Every device, %u being its own account: its state, its liveness probe, its commands and replies, and answers to
# ward IT's commands. Topics are below motcua/v1/<ward>/.
EVERY_DEVICE: tuple[tuple[str, str], ...] = (
    ("write", "device/%u/state"),
    ("readwrite", "device/%u/alive"),
    ("read", "device/%u/command"),
    ("read", "reply/%u"),
    ("write", f"reply/{IT_ACCOUNT}"),
    ("write", f"reply/{CONSOLE_ACCOUNT}"),
)
# What each account may do besides; {counter} stands for each counter the device is enrolled for.
GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "hub": (("readwrite", "#"),),
    "it": (("read", "device/+/state"), ("write", "device/+/command"), ("read", "board/state"),
           ("read", "counter/+/state")),
    "kiosk": (("write", "ticket/request"), ("write", "ticket/confirm"), ("write", "ticket/offline"),
              ("write", "notify/subscribe"),
              ("read", "services"), ("read", "catalogue"), ("read", f"device/{HUB_ACCOUNT}/state")),
    "display": (("read", "board/state"), ("read", "ticket/event"), ("read", f"device/{HUB_ACCOUNT}/state")),
    "rating": (("write", "rating"), ("read", "counter/{counter}/state"), ("read", f"device/{HUB_ACCOUNT}/state")),
    "desk": (("write", "counter/{counter}/command"), ("read", f"device/{HUB_ACCOUNT}/state")),
    "bridge": (("write", "rating"), ("write", "counter/{counter}/command"), ("read", "counter/{counter}/state"),
               ("read", "services"), ("read", f"device/{HUB_ACCOUNT}/state")),
    "console": (("write", "counter/+/command"), ("write", "admin/request"), ("write", "stats/request"),
                ("write", "device/+/command"), ("write", "ticket/lookup"), ("read", "board/state"),
                ("read", "counter/+/state"), ("read", "device/+/state"), ("read", "ticket/event"),
                ("read", "line/+"), ("read", "services"), ("read", "catalogue")),
    "notify": (("read", "notify/subscribe"), ("write", "reply/+"), ("read", "line/+"), ("read", "ticket/event"),
               ("read", "counter/+/state"), ("read", "board/state"), ("read", f"device/{HUB_ACCOUNT}/state")),
}
ACCOUNT_WORDS = {"hub": "the hub's account", "it": "ward IT's account", "kiosk": "kiosk account",
                 "display": "board account", "rating": "rating device account", "desk": "desk buttons account",
                 "bridge": "bridge account", "notify": "the notifier's account",
                 "console": "the console's account"}
ANSWERS_KEPT = 4096  # a client's access answers remembered (the topics it used); forgotten all at once past this


@dataclass(frozen=True)
class Grants:
    """The topics one broker account may read and write in one ward, as the broker's access list says."""

    account: str
    role: str
    ward: str
    rules: tuple[tuple[str, str], ...]  # (read|write|readwrite, full topic filter)
    _answers: dict[tuple[str, str], bool] = field(default_factory=dict, compare=False, repr=False)

    def may(self, access: str, topic: str) -> bool:
        """Whether this account may `access` ("read" or "write") `topic`. Asked before every publish: a role uses
        few topics, so each answer is kept (at most ANSWERS_KEPT) instead of matching every rule again."""
        answer = self._answers.get((access, topic))
        if answer is None:
            if len(self._answers) >= ANSWERS_KEPT:
                self._answers.clear()
            answer = self._answers[access, topic] = any(access in kind and topic_matches(f, topic)
                                                        for kind, f in self.rules)
        return answer

    def refusal(self, access: str, topic: str) -> str:
        """The sentence a person reads when this account may not use `topic`."""
        who = ACCOUNT_WORDS.get(self.role, "account")
        verb = "send" if access == "write" else "read"
        example = Topics(self.ward)
        sends = [words_for(example.below(t.replace("{counter}", "1"))) for k, t in GRANTS[self.role] if "write" in k]
        reads = [words_for(example.below(t.replace("{counter}", "1"))) for k, t in GRANTS[self.role] if "read" in k]
        may = "; ".join(part for part in (f"send {', '.join(sends)}" if sends else "",
                                          f"read {', '.join(reads)}" if reads else "") if part)
        return (f"{who} {self.account!r} may not {verb} {words_for(topic)} (topic {topic}); besides its own state "
                f"and commands, the ward's access list lets it {may}")


def grants(role: str, account: str, ward: str, counters: tuple[int, ...] = ()) -> Grants | None:
    """The grants of `account` enrolled as `role` in `ward`, or None for a role the ward broker does not know."""
    if role not in GRANTS:
        return None
    rules: list[tuple[str, str]] = []
    for access, template in (*EVERY_DEVICE, *GRANTS[role]):
        topics = [template.replace("{counter}", str(c)) for c in counters] if "{counter}" in template else [template]
        rules += [(access, Topics(ward).below(t.replace("%u", account))) for t in topics]
    return Grants(account, role, ward, tuple(rules))


def table_rows() -> list[str]:
    """The grants as the rows of the table in docs/contract.md (a test keeps the two the same)."""
    rows = []
    for role, rules in GRANTS.items():
        def cell(kind: str, rules: tuple[tuple[str, str], ...] = rules) -> str:
            found = [f"`{t.replace('{counter}', '<n>')}`" for k, t in rules if kind in k]
            return ", ".join(found) if found else "—"
        rows.append(f"| `{role}` | {cell('write')} | {cell('read')} |")
    return rows


def client_grants(username: str, role: str, device: str, ward: str,
                  counters: tuple[int, ...] = ()) -> Grants | None:
    """What a client may do: a device's account is its own name; a command-line client acts as the account it signs
    in with (ward IT or the hub), and is unknown otherwise."""
    if role != "cli":
        return grants(role, device, ward, counters)
    return grants(username, username, ward) if username in (IT_ACCOUNT, HUB_ACCOUNT) else None


def acl_text(accounts: list[tuple[str, str, str, tuple[int, ...]]]) -> str:
    """A mosquitto access list for (account, role, ward, counters) entries: the patterns every device shares, then
    one `user` block per account, in order."""
    lines = ["# mosquitto access list of a motcua ward broker, written by `motcua enrol` from bus/access.py.",
             "# Do not edit: enrol again (or `motcua access write`) to change it.", ""]
    lines += [f"pattern {access} {Topics.all_wards().below(topic)}" for access, topic in EVERY_DEVICE]
    for account, role, ward, counters in accounts:
        g = grants(role, account, ward, counters)
        if g is None:
            continue
        lines += ["", f"# {account}: {role} of ward {ward}", f"user {account}"]
        own = {(a, Topics(ward).below(t.replace("%u", account))) for a, t in EVERY_DEVICE}
        lines += [f"topic {access} {topic}" for access, topic in g.rules if (access, topic) not in own]
    return "\n".join(lines) + "\n"
