# Fleet status: watch the retained device states of a ward, wait for devices, list their health, send commands.
from __future__ import annotations

import secrets
import threading
import time
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bus.access import IT_ACCOUNT
from bus.client import STATE_EVERY, BusClient
from bus.config import BrokerSection
from bus.messages import Message
from bus.topics import Topics, parse
from provisioning.errors import ProvisioningError

LOW_DISK_MB = 200  # a year of a ward's history is about 45 MB (docs/performance.md)
STALE_AFTER_S = 3 * STATE_EVERY


class FleetWatch:
    """Keeps the latest device.state of every device in a ward, from the retained state topics."""

    def __init__(self, broker: BrokerSection, ward: str, device: str = "") -> None:
        self.states: dict[str, Message] = {}
        self._changed = threading.Condition()
        self.bus = BusClient(broker, ward, device or f"fleet-watch-{secrets.token_hex(3)}", "cli", replies=False)
        self.bus.subscribe(self.bus.topics.device_state("+"), self._on_state)

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


def problems(role: str, status: str, detail: dict[str, Any], age_s: float | None = None) -> list[str]:
    """What ward IT should look at on one device, in plain words, from its published state. `age_s` is how old
    that state is; devices refresh it every minute, so an old "online" means the device went quiet."""
    if status != "online":
        return [f"offline ({detail.get('reason', 'said goodbye')})"]
    found = []
    if age_s is not None and age_s > STALE_AFTER_S:
        found.append(f"no news for {age_s / 60:.0f} min (stale state: device or its network down?)")
    if detail.get("outbox"):
        found.append(f"{detail['outbox']} messages waiting for an answer")
    copies = detail.get("damaged_copies")
    if isinstance(copies, dict) and copies.get("files"):
        n = len(copies["files"])
        found.append(f"{n} damaged database cop{'y' if n == 1 else 'ies'} kept in {copies.get('folder')} by a "
                     "repair (check or replace the SD card, then remove them)")
    for r in detail.get("repaired", []):
        lost = f"{r.get('unreadable')} unreadable stretches lost" if r.get("unreadable") else "nothing lost"
        copy = f"; damaged copy kept as {r['damaged_copy']}" if r.get("damaged_copy") else ""
        found.append(f"repaired a damaged {r.get('file')} at {r.get('at')} ({r.get('problem')}): "
                     f"{r.get('rows_kept')} rows kept, {lost}{copy}")
    if role == "display" and detail.get("hub") == "unreachable":
        found.append("shows 'Mất kết nối': it cannot see the hub's state")
    if role == "kiosk":
        if detail.get("printer") not in (None, "ok"):
            found.append(f"printer: {detail['printer']}")
        if detail.get("hub") == "unreachable":
            found.append("cannot reach the hub (issuing offline numbers)")
    db = detail.get("database") if role == "hub" and isinstance(detail.get("database"), dict) else {}
    if db.get("failing"):
        found.append(f"database writes failing since {db.get('since')}: {db['failing']} (disk full or read-only?)")
    elif isinstance(db.get("free_mb"), int) and db["free_mb"] < LOW_DISK_MB:
        found.append(f"data disk nearly full: {db['free_mb']} MB free")
    if role == "hub" and isinstance(detail.get("upstream"), dict):
        up = detail["upstream"]
        if up.get("backlog"):
            found.append(f"{up['backlog']} records not yet acknowledged upstream")
        if up.get("connected") is False:
            found.append("upstream broker unreachable")
    for unit in detail.get("units", []) if role == "bridge" else []:
        if unit.get("state") != "ready":
            why = f": {unit['last_error']}" if unit.get("last_error") else ""
            found.append(f"{unit.get('kind')} on counter {unit.get('counter')} is {unit.get('state')}{why}")
    return found


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
        states = dict(watch.states)
    rows = []
    for device, msg in sorted(states.items()):
        body = msg.body
        detail = body.get("detail") or {}
        age = _age_s(msg.ts)
        rows.append({"device": device, "status": body["status"], "role": body.get("role", "?"),
                     "version": body.get("version", "?"), "since": _local(msg.ts),
                     "problems": problems(body.get("role", "?"), body["status"], detail, age), "detail": detail})
    for device, role in sorted((expected or {}).items()):
        if device not in states:
            rows.append({"device": device, "status": "unknown", "role": role, "version": "?", "since": "-",
                         "problems": ["enrolled but has never reported (not installed, or cannot reach the broker)"],
                         "detail": {}})
    return rows


def _age_s(ts: str) -> float | None:
    """Seconds since the state was published, by the device's clock; None if unreadable or in the future (a Pi
    without a real-time clock before NTP)."""
    try:
        age = time.time() - datetime.fromisoformat(ts).timestamp()
    except ValueError:
        return None
    return age if age >= 0 else None


def _local(ts: str) -> str:
    try:
        return datetime.fromisoformat(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return ts


def send_command(broker: BrokerSection, ward: str, device: str, command: str, args: dict[str, Any] | None = None,
                 timeout: float = 5.0) -> dict[str, Any]:
    """Sends one device.command and returns the device's device.reply body; raises if nobody answers."""
    # As ward IT's account: the broker's access list lets devices answer commands on reply/it only. The client id
    # is unique so two people's commands at the same time do not push each other off the broker.
    body: dict[str, Any] = {"command": command, **({"args": args} if args else {})}
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
