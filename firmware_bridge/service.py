# The bridge service: one bus connection for every serial unit on this machine, replies routed back to their unit.
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from bus.client import BusClient
from bus.config import DeviceConfig
from bus.device_commands import Device, DeviceCommands
from bus.messages import Message
from bus.reset import ResetSpec
from firmware_bridge.config import BridgeSection, UnitSection, load_bridge
from firmware_bridge.counter_keypad import CounterKeypadUnit
from firmware_bridge.led_display import LedDisplayUnit
from firmware_bridge.modbus_display import ModbusDisplayUnit
from firmware_bridge.port import Opener, open_port
from firmware_bridge.rating_keypad import RatingKeypadUnit
from firmware_bridge.unit import Unit

log = logging.getLogger(__name__)

UNIT_TYPES: dict[str, type[Unit] | type[ModbusDisplayUnit]] = {
    "rating_keypad": RatingKeypadUnit, "counter_keypad": CounterKeypadUnit, "led_display": LedDisplayUnit,
    "modbus_display": ModbusDisplayUnit}
STATE_EVERY = 5.0
RESET = ResetSpec(wipe=("bridge-outbox.db*",))  # emptied first: every rating keyed in reaches the hub once


class BridgeService:
    """Runs every configured unit. Their health (link state, device identity, line errors, retransmits, faults)
    is part of this device's retained state, refreshed every few seconds and on every link change."""

    def __init__(self, config: DeviceConfig, section: BridgeSection, opener: Opener = open_port) -> None:
        self.config = config
        self.bus = BusClient(config.broker, config.device.ward, config.device.id, "bridge",
                             outbox_path=config.data_dir / "bridge-outbox.db",
                             counters=tuple(sorted({u.counter for u in section.units})))
        self.units = [self._unit(u, opener) for u in section.units]
        self.bus.state_detail = self.detail
        self.commands = DeviceCommands(self.bus, Device(config, load_bridge, identify=self.identify, reset=RESET))
        self.bus.on_reply(self._reply)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _unit(self, cfg: UnitSection, opener: Opener) -> Unit | ModbusDisplayUnit:
        return UNIT_TYPES[cfg.kind](self.bus, cfg, opener)

    def start(self) -> None:
        for unit in self.units:
            unit.start()
        self.bus.start()
        self._thread = threading.Thread(target=self._refresh, name="bridge-state", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        for unit in self.units:
            unit.stop()
        self.bus.stop()

    def identify(self, seconds: float) -> str:
        """Ward IT's "which unit is this?": every ready unit blinks (LED displays show "ID" and their counter)."""
        ready = [u for u in self.units if isinstance(u, Unit) and u.state == "ready"]
        if not ready:
            return "no serial unit is ready to blink; find this bridge by its host name and addresses"

        def blink() -> None:
            for frame in range(int(seconds * 2)):
                for unit in ready:
                    unit.identify_frame(frame % 2 == 0)
                time.sleep(0.5)
            for unit in ready:
                unit.identify_end()

        threading.Thread(target=blink, name="bridge-identify", daemon=True).start()
        return f"{len(ready)} unit(s) blink: {', '.join(f'{u.cfg.kind} at counter {u.cfg.counter}' for u in ready)}"

    def health(self) -> str | None:
        """What stops this service from working, for the watchdog: its bus path, its state thread, a unit's link
        thread. A unit whose device is unplugged is not a fault of the service (its link keeps trying)."""
        if self._thread is not None and not self._thread.is_alive():
            return "the bridge state thread has stopped"
        dead = [u.cfg.port for u in self.units if not u.alive()]
        return f"the link thread of {dead[0]} has stopped" if dead else self.bus.health()

    def detail(self) -> dict[str, Any]:
        return {"units": [u.status() for u in self.units]}

    def _reply(self, msg: Message, _: str) -> None:
        for unit in self.units:
            if unit.owns(msg.corr):
                unit.reply(msg)
                return

    def _refresh(self) -> None:
        last: list[str] = []
        published = 0.0
        while not self._stop.wait(0.25):
            states = [u.state for u in self.units]
            now = time.monotonic()
            if states != last or now - published >= STATE_EVERY:
                last, published = states, now
                self.bus.publish_state()
