# Shared fixtures: a real mosquitto on a free loopback port, real SQLite files, a real hub and real bus clients.
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bus.client import BusClient
from bus.config import BrokerSection
from devkit.broker import Broker, free_port
from devkit.configs import write_console_config, write_hub_config
from devkit.postgres import PostgresServer
from hub.config import load_hub
from hub.service import HubService
from provisioning.fleet import wait_online

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
WARD = "demo-ward"
PASSWORD = "mật-khẩu-đủ-dài-1"  # the console accounts' in the tests
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class ManualClock:
    """A clock the test moves by hand (gpiozero and UI timing without sleeping)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def tone_clip_folder(tmp_path: Path) -> Path:
    """A complete clip set made of one tone: fast, and the same format a real set has."""
    from display.clips import chime
    from display.phrases import clip_texts

    folder = tmp_path / "clips"
    folder.mkdir()
    template = chime(folder / "chime.wav")
    for name in clip_texts():
        shutil.copy(template, folder / f"{name}.wav")
    return folder


@pytest.fixture
def printer():  # noqa: ANN201 - a FakePrinter; imported lazily like the kiosk itself
    from kiosk.printing.fake import FakePrinter

    return FakePrinter(timeout=1.0)


@pytest.fixture
def kiosk_core(tmp_path: Path, broker: Broker, hub: HubService, printer):  # noqa: ANN001, ANN201
    """A real KioskCore on the fake printer, connected and knowing the hub's services."""
    from devkit.configs import write_kiosk_config
    from kiosk.config import load_kiosk
    from kiosk.core import KioskCore

    config, section, printer_cfg, _ = load_kiosk(str(write_kiosk_config(tmp_path, broker.port, printer_backend="fake")))
    core = KioskCore(config, section, printer_cfg, printer)
    core.start()
    wait_until(lambda: core.services and core.hub_ok, what="the kiosk to learn the services")
    yield core
    core.stop()


def _mosquitto(folder: Path) -> Iterator[Broker]:
    b = Broker(folder, kind="mosquitto").start()
    yield b
    b.kill()  # the test is over: nothing needs a graceful exit, which waits out mosquitto's 100 ms epoll wait


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A mosquitto of this test's own: fault tests may stop and start it."""
    yield from _mosquitto(tmp_path / "broker")


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
def district_broker(tmp_path: Path) -> Iterator[Broker]:
    """The district's own broker, for upstream tests (two real brokers: the ward's and the district's)."""
    yield from _mosquitto(tmp_path / "district-broker")


@pytest.fixture
def upstream_hub(tmp_path: Path, broker: Broker, district_broker: Broker) -> Iterator[HubService]:
    """A hub forwarding to the district broker, resending quickly."""
    from devkit.configs import add_upstream

    config, section = load_hub(str(add_upstream(write_hub_config(tmp_path, broker.port), district_broker.port,
                                                retry_s=0.5, stats_interval_s=3600)))
    service = HubService(config, section)
    service.start()
    wait_online(BrokerSection(port=broker.port), WARD, "hub", timeout=10)
    yield service
    service.stop()


@pytest.fixture(scope="session")
def motcua_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """motcua's own wheel, built once per run from this source tree (as `motcua release build` does)."""
    from provisioning.release import SOURCE, build_wheel

    return build_wheel(SOURCE, tmp_path_factory.mktemp("wheels"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the whole run (started on first use)."""
    pg = PostgresServer().start()
    yield pg
    pg.remove()


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A fresh database on the run's server for each test."""
    import psycopg

    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    base = postgres_server.dsn.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


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


@pytest.fixture
def issue(make_client) -> Callable[..., list[str]]:  # noqa: ANN001
    """Takes tickets as a kiosk does, over the bus (the hub then publishes what changed); returns their labels."""
    kiosk: list[BusClient] = []

    def take(n: int = 1, service: str = "HT", **body: object) -> list[str]:
        if not kiosk:
            kiosk.append(make_client("kiosk-9"))
            kiosk[0].wait_connected(5)
        labels = []
        for _ in range(n):
            reply = kiosk[0].request(kiosk[0].topics.ticket_request, "ticket.request", {"service": service, **body},
                                     timeout=5)
            assert reply is not None and reply.type == "ticket.issued", reply
            labels.append(reply.body["ticket"]["label"])
        return labels

    return take


OFFICERS = (("mai", "Nguyễn Thị Mai", "officer", (1,)), ("lan", "Trần Thị Lan", "officer", (2,)),
            ("quan", "Lê Văn Quản", "admin", ()), ("tin", "Phạm Văn Tin", "it", ()))  # the console's test accounts


def _console_config(tmp_path: Path, broker: Broker, http: int) -> tuple[Path, Any, Any]:
    """A console's config with OFFICERS as its accounts: (path, device config, console section)."""
    from console.accounts import Accounts
    from console.config import load_console

    path = write_console_config(tmp_path, broker.port, http)
    config, section = load_console(str(path))
    accounts = Accounts(config.data_dir / section.accounts)
    for name, display, role, counters in OFFICERS:
        accounts.add(name, display, role, PASSWORD, counters)
    accounts.close()
    return path, config, section


@pytest.fixture
def console(tmp_path: Path, broker: Broker, hub: HubService) -> Iterator[tuple]:
    """A console's live view, accounts and web app (in-process, for Starlette's client) on the test's hub."""
    from console.accounts import Accounts
    from console.live import LiveWard
    from console.web import make_app

    _, config, section = _console_config(tmp_path, broker, free_port())
    live = LiveWard(config, section)
    accounts = Accounts(config.data_dir / section.accounts)
    live.start()
    wait_until(lambda: live.hub_online and live.services and live.board, what="the console to see the ward")
    yield live, accounts, make_app(live, accounts, section)
    live.stop()
    accounts.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: ./run test installs it (apt-get install chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def console_url(tmp_path: Path, broker: Broker, hub: HubService) -> Iterator[str]:
    """`motcua run` of a console with OFFICERS as its accounts; its address."""
    from devkit.broker import port_open
    from devkit.processes import RoleProcess

    http = free_port()
    path, _, _ = _console_config(tmp_path, broker, http)
    process = RoleProcess("console", path, tmp_path / "console.log", command=("run",)).start()
    try:
        wait_until(lambda: port_open("127.0.0.1", http) or process.check_alive(), timeout=20,
                   what="the console to listen")
        yield f"http://127.0.0.1:{http}"
    finally:
        process.stop()
