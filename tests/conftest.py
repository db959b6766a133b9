# Shared fixtures: a real mosquitto on a free loopback port, real SQLite files, a real hub and real bus clients.
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bus.client import BusClient
from bus.config import BrokerSection
from hub.config import load_hub
from hub.service import HubService
from provisioning.broker import Broker
from provisioning.fleet import wait_online
from provisioning.roles import write_hub_config

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
WARD = "demo-ward"


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A mosquitto of this test's own: fault tests may stop and start it."""
    b = Broker(tmp_path / "broker", kind="mosquitto").start()
    yield b
    b.stop()


@pytest.fixture
def hub_config(tmp_path: Path, broker: Broker) -> Path:
    return write_hub_config(tmp_path, broker.port)


@pytest.fixture
def hub(hub_config: Path) -> Iterator[HubService]:
    config, section = load_hub(str(hub_config))
    service = HubService(config, section)
    service.start()
    # The hub says "online" after sending its subscriptions, and the broker handles one client's packets in
    # order: once "online" is seen, requests reach the hub (as real clients rely on).
    wait_online(BrokerSection(port=config.broker.port), WARD, config.device.id, timeout=10)
    yield service
    service.stop()


@pytest.fixture
def make_client(broker: Broker, tmp_path: Path) -> Iterator[Callable[..., BusClient]]:
    clients: list[BusClient] = []

    def make(device: str, role: str = "kiosk", outbox: bool = False, **kw: object) -> BusClient:
        client = BusClient(BrokerSection(port=broker.port), WARD, device, role,
                           outbox_path=tmp_path / f"{device}.outbox" if outbox else None, **kw)  # type: ignore[arg-type]
        client.start()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.stop()
