# Fleet status: watch the retained device states of a ward, wait for devices, list their health, send commands.
from __future__ import annotations

import secrets
import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bus import health
from bus.access import IT_ACCOUNT
from bus.client import BusClient
from bus.config import BrokerSection
from bus.device_commands import TTL_S, command_body
from bus.messages import Message
from bus.topics import Topics, parse
from provisioning.errors import ProvisioningError


class FleetWatch:
    """Keeps the latest device.state of every device in a ward, from the retained state topics."""

    def __init__(self, broker: BrokerSection, ward: str, device: str = "") -> None:
        self.states: dict[str, Message] = {}
        self.other_contract: dict[str, Any] = {}  # device -> the contract version its state speaks, when not ours
        self._changed = threading.Condition()
        self.bus = BusClient(broker, ward, device or f"fleet-watch-{secrets.token_hex(3)}", "cli", replies=False)
        self.bus.subscribe(self.bus.topics.device_state("+"), self._on_state)
        self.bus.on_other_contract = self._on_other_contract

    def _on_other_contract(self, topic: str, contract: Any) -> None:
        parsed = parse(topic)
        if parsed is not None and parsed.kind == "device/+/state":
            self.other_contract[parsed.name] = contract

    def _on_state(self, msg: Message, topic: str) -> None:
        parsed = parse(topic)
        if parsed is None or parsed.kind != "device/+/state":
            return
        device = parsed.name
        with self._changed:
            self.states[device] = msg
            self._changed.notify_all()

    def status(self, device: str) -> str | None:
        msg = self.states.get(device)
        return msg.body["status"] if msg else None

    def wait_online(self, device: str, timeout: float, alive: Callable[[], None] | None = None) -> None:
        """Waits for `device` to say online; `alive` is called meanwhile and may raise if its process died."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.status(device) != "online" or self.states[device].seq == 0:
                if alive is not None:
                    alive()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ProvisioningError(f"{device} did not come online within {timeout} s "
                                            f"(last state: {self.status(device) or 'none'})")
                self._changed.wait(min(remaining, 0.2))

    def __enter__(self) -> FleetWatch:
        self.bus.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bus.stop()


def wait_online(broker: BrokerSection, ward: str, device: str, timeout: float = 20.0,
                alive: Callable[[], None] | None = None) -> None:
    with FleetWatch(broker, ward) as watch:
        watch.wait_online(device, timeout, alive)


def enrolled(folder: str | Path, ward: str) -> dict[str, str]:
    """Device name -> role of every config in `folder` (as `motcua enrol` writes them) that belongs to `ward`."""
    found = {}
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            device = tomllib.loads(path.read_text(encoding="utf-8")).get("device", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if isinstance(device, dict) and device.get("ward") == ward and isinstance(device.get("id"), str):
            found[device["id"]] = str(device.get("role", "?"))
    return found


def fleet_rows(broker: BrokerSection, ward: str, settle_s: float = 1.0,
               expected: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per device that ever published a state in the ward: status, role, version, when it last spoke,
    and the problems its state shows. Retained states arrive right after subscribing; `settle_s` waits for them.
    Devices in `expected` (name -> role) that never reported get a row saying so."""
    with FleetWatch(broker, ward) as watch:
        _connect(watch.bus, 5.0)
        time.sleep(settle_s)
        states, other = dict(watch.states), dict(watch.other_contract)
    rows = [health.row(device, msg) for device, msg in sorted(states.items())]
    rows += [health.other_contract(device, contract) for device, contract in sorted(other.items())
             if device not in states]
    for device, role in sorted((expected or {}).items()):
        if device not in states and device not in other:
            rows.append(health.unknown_row(
                device, "enrolled but has never reported (not installed, or cannot reach the broker)", role))
    return health.across(rows)


def send_command(broker: BrokerSection, ward: str, device: str, command: str, args: dict[str, Any] | None = None,
                 timeout: float = 5.0, ttl_s: float = TTL_S) -> dict[str, Any]:
    """Sends one device.command (a fresh id, expiring `ttl_s` from now) and returns the device's device.reply body;
    raises if nobody answers."""
    # As ward IT's account: the broker's access list lets devices answer commands on reply/it only. The client id
    # is unique so two people's commands at the same time do not push each other off the broker.
    if broker.username and broker.username != IT_ACCOUNT:  # the broker would drop it without a word
        raise ProvisioningError(f"account {broker.username!r} may not send device commands: only ward IT's account "
                                f"{IT_ACCOUNT!r} (--username {IT_ACCOUNT}) may")
    body = command_body(command, args, ttl_s)
    reply = ask(broker, ward, IT_ACCOUNT, lambda t: t.device_command(device), "device.command", body, timeout,
                device, f" (offline, or not in ward {ward!r})",
                client_id=f"{ward}.{IT_ACCOUNT}.{secrets.token_hex(3)}")
    return reply.body


def _connect(bus: BusClient, timeout: float) -> None:
    if not bus.wait_connected(timeout):
        raise ProvisioningError(bus.refused_by_broker or f"no broker answered at {bus.broker.host}:"
                                                         f"{bus.broker.port} within {timeout} s")


def ask(broker: BrokerSection, ward: str, device: str, topic_of: Callable[[Topics], str], type_: str,
        body: dict[str, Any], timeout: float, who: str, hint: str = "", client_id: str = "") -> Message:
    """One request from a short-lived command-line client, and its reply. Says plainly what went wrong: the broker
    refused the account, the ward's access list does not let the account send this (AccessRefused, at once), no
    broker answered, or the request went out and `who` did not answer."""
    bus = BusClient(broker, ward, device, "cli", client_id=client_id)
    bus.may("write", topic_of(bus.topics))
    bus.start()
    try:
        _connect(bus, timeout)
        reply = bus.request(topic_of(bus.topics), type_, body, timeout)
        if reply is None:
            raise ProvisioningError(f"{who} did not answer within {timeout} s{hint}")
        return reply
    finally:
        bus.stop()
