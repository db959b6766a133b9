# What a device says of itself on its retained state topic, and when: its detail, its goodbye, its last will.
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt

from bus import messages
from bus.messages import Message
from bus.sensors import raspberry_pi, temperature_c, under_voltage
from bus.sqlite_repair import damaged_copies

if TYPE_CHECKING:
    from bus.client import BusClient


def body(client: BusClient, status: str) -> dict[str, Any]:
    """A device.state body: the role's own detail over the client's fixed facts, then what every device reports
    (its outbox, repairs and damaged copies, messages it refused, its heat, its boot id). A Raspberry Pi's supply seen
    dipping stays said (`under_voltage_seen`, the first time) until the device restarts: the alarm lasts seconds."""
    if under_voltage():
        client.facts.setdefault("under_voltage_seen", messages.now_ts())
    detail = {**client.facts, **client.state_detail()}
    if client.outbox is not None and status == "online":
        detail["outbox"] = client.outbox.size()
        if client.outbox.held:  # the disk is full: these are in memory only
            detail["outbox_in_memory"] = client.outbox.held
    if client.repairs:
        detail["repaired"] = [r.summary() for r in client.repairs]
    kept = damaged_copies(client.data_dir) if client.data_dir else []
    if kept:
        detail["damaged_copies"] = {"folder": str(client.data_dir), "files": kept}
    if client.rejected.total():
        detail["rejected_messages"] = client.rejected.as_dict()
    if raspberry_pi() and (celsius := temperature_c()) is not None:
        detail["temperature_c"] = celsius
    detail["boot"] = client.boot
    return {"status": status, "role": client.role, "version": client.version, "detail": detail}


class StateReporter:
    """Says a device's retained state: "online" on connecting and whenever the device has news (its refresh, its
    events), said again as soon as messages it said were waiting for an answer are all answered, and "offline" once
    as it stops — never "online" after that, or the retained state would lie. A command-line client says nothing."""

    def __init__(self, client: BusClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._said_waiting = 0  # messages the last state said were waiting for an answer

    def publish(self) -> None:
        c = self.client
        if c.role == "cli":
            return
        with self._lock:
            if c.stopping.is_set():
                return
            msg = c.message("device.state", body(c, "online"))
            c.publish(c.topics.device_state(c.device), msg, retain=True, only_when_connected=True)
            self._said_waiting = msg.body["detail"].get("outbox", 0)

    def answered(self) -> None:
        """An answer took messages out of the outbox: the state is said again once none the last one said waits (a
        message on its way as the device stated itself must not linger on the fleet page until the next state)."""
        outbox = self.client.outbox
        if self._said_waiting and outbox is not None and not outbox.size():
            self.publish()

    def goodbye(self, timeout: float) -> None:
        """The retained "offline" state, written before the client disconnects (at most `timeout` s) while the
        broker is there; the client is stopping, so no "online" can follow it."""
        c = self.client
        with self._lock:
            offline = c.message("device.state", body(c, "offline"))
            info = c.publish(c.topics.device_state(c.device), offline, retain=True) \
                if c.connected.is_set() and c.role != "cli" else None
        if info is not None and info.rc == mqtt.MQTT_ERR_SUCCESS:  # not when the broker went in the meantime
            deadline = time.monotonic() + timeout
            wait = c.loop.pump if c.loop is not None else time.sleep  # its thread has stopped pumping by now
            while not info.is_published() and time.monotonic() < deadline and c.connected.is_set():
                wait(0.01)


def last_will(client: BusClient) -> bytes:
    """The "offline" state the broker publishes, retained, when the device vanishes without saying goodbye."""
    will = Message(type="device.state", device=client.device, boot=client.boot, seq=0, ts=messages.now_ts(),
                   body={"status": "offline", "role": client.role, "detail": {"reason": "connection lost"}})
    return will.encode()
