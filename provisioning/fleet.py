# Fleet status: watch the retained device states of a ward and wait for devices to come online.
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bus.client import BusClient
from bus.config import BrokerSection
from bus.messages import Message
from provisioning.errors import ProvisioningError


class FleetWatch:
    """Keeps the latest device.state of every device in a ward, from the retained state topics."""

    def __init__(self, broker: BrokerSection, ward: str, device: str = "fleet-watch") -> None:
        self.states: dict[str, Message] = {}
        self._changed = threading.Condition()
        self.bus = BusClient(broker, ward, device, "cli")
        self.bus.subscribe(self.bus.topics.device_state("+"), self._on_state)

    def _on_state(self, msg: Message, topic: str) -> None:
        device = topic.split("/")[-2]
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
