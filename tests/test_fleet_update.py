# Fleet updates with real processes: this checkout (A) to a release B that is kept, then to a broken C that the
# device abandons by itself, going back to B; the hub's release shelf serves them, the fleet table shows each step.
from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus.config import BrokerSection
from bus.version import VERSION
from devkit.broker import Broker
from devkit.configs import write_hub_config
from devkit.processes import RoleProcess
from provisioning.errors import ProvisioningError
from provisioning.fleet import fleet_rows
from provisioning.release import SOURCE, build_wheel, offer, write_manifest
from provisioning.updates import hub_behind, targets, update
from tests.conftest import WARD, wait_until

B, C = f"{VERSION}.post1", f"{VERSION}.post2"


class Supervised:
    """A device's `motcua run` kept running as systemd's Restart=always would: started again whenever it exits."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log, self.starts = config, log, 0
        self.proc: RoleProcess | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep, daemon=True)
        self._thread.start()

    def _keep(self) -> None:
        while not self._stop.is_set():
            self.proc = RoleProcess("hub", self.config, self.log, command=("run",)).start()
            self.starts += 1
            while self.proc.proc is not None and self.proc.proc.poll() is None and not self._stop.is_set():
                time.sleep(0.1)
            self._stop.wait(0.5)  # RestartSec

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)
        if self.proc is not None:
            self.proc.stop()


def release(tmp: Path, version: str, broken: bool = False) -> Path:
    """A release folder as `motcua release build` makes it; `broken`: its hub dies as it starts."""
    def _break(tree: Path) -> None:
        main = tree / "hub" / "main.py"
        main.write_text(main.read_text("utf-8") + "\nraise SystemExit('this release is broken on purpose')\n")

    out = tmp / f"release-{version}"
    build_wheel(SOURCE, out, version=version, edit=_break if broken else None)
    write_manifest(out)
    return out


@pytest.fixture
def shelf_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def hub_process(tmp_path: Path, broker: Broker, shelf_port: int) -> Iterator[Supervised]:
    config = write_hub_config(tmp_path, broker.port)
    config.write_text(config.read_text("utf-8").replace("[hub]\n", f"[hub]\nrelease_port = {shelf_port}\n", 1))
    hub = Supervised(config, tmp_path / "hub.log")
    yield hub
    hub.stop()


def hub_row(port: int) -> dict:
    rows = {r["device"]: r for r in fleet_rows(BrokerSection(port=port), WARD, settle_s=0.5)}
    return rows.get("hub", {"status": "none"})


def test_an_update_is_kept_when_healthy_and_a_broken_one_rolls_back(tmp_path: Path, broker: Broker,
                                                                    hub_process: Supervised, shelf_port: int) -> None:
    wait_until(lambda: hub_row(broker.port)["status"] == "online", timeout=30, what="the hub online")
    assert hub_row(broker.port)["version"] == VERSION
    data = tmp_path / "hub"
    url = f"http://127.0.0.1:{shelf_port}/"
    ward_it = BrokerSection(port=broker.port)
    said: list[str] = []

    good = release(tmp_path, B)
    offer(good, data / "offered", say=said.append)
    states = update(ward_it, WARD, good, url, ("hub",), healthy_s=20, say=said.append)
    assert states["hub"]["state"] == "ok" and states["hub"]["release"] == B, said
    row = hub_row(broker.port)
    assert row["version"] == B and row["detail"]["update"]["state"] == "ok" and not row["problems"]
    assert (data / "releases" / B / "provisioning").is_dir()

    bad = release(tmp_path, C, broken=True)
    offer(bad, data / "offered", say=said.append)
    starts = hub_process.starts
    with pytest.raises(ProvisioningError, match=f"1 of 1 devices did not take {C}.*the 1 other device"):
        update(ward_it, WARD, bad, url, ("kiosk-9", "hub"), healthy_s=30, say=said.append)  # the hub first
    assert not any(line.startswith("kiosk-9") for line in said), said  # never asked: the hub did not take C
    assert hub_process.starts - starts >= 5  # C died at every start; the device gave up on it by itself
    row = hub_row(broker.port)
    assert row["version"] == B and row["status"] == "online"  # back on B, with no one at the device
    assert row["detail"]["update"]["state"] == "rolled_back" and row["detail"]["update"]["failed"] == C
    assert any("update to " + C in p for p in row["problems"]), row["problems"]
    assert "this release is broken on purpose" in (tmp_path / "hub.log").read_text("utf-8")


def test_the_hub_is_updated_first_and_a_device_updated_before_it_is_warned_of() -> None:
    rows = [{"device": "kiosk-1", "role": "kiosk", "status": "online", "version": "0.1.0"},
            {"device": "board", "role": "display", "status": "online", "version": "0.2.0"},
            {"device": "hub", "role": "hub", "status": "online", "version": "0.1.0"},
            {"device": "kiosk-2", "role": "kiosk", "status": "offline", "version": "0.1.0"}]
    assert targets(rows, (), True, "0.2.0") == ["hub", "kiosk-1"]
    assert targets(rows, ("kiosk-2", "hub", "kiosk-1"), False, "0.2.0") == ["hub", "kiosk-2", "kiosk-1"]
    assert hub_behind(rows, ["hub", "kiosk-1"], "0.2.0") is None
    assert "hub runs 0.1.0, not 0.2.0; update the hub first" in (hub_behind(rows, ["kiosk-1"], "0.2.0") or "")
    assert hub_behind(rows, ["kiosk-1"], "0.1.0") is None  # the hub's own release: nothing it cannot read
    with pytest.raises(ProvisioningError, match="not both"):
        targets(rows, ("hub",), True, "0.2.0")


def test_a_release_that_does_not_match_its_checksum_is_refused(tmp_path: Path, broker: Broker,
                                                              hub_process: Supervised, shelf_port: int) -> None:
    wait_until(lambda: hub_row(broker.port)["status"] == "online", timeout=30, what="the hub online")
    good = release(tmp_path, B)
    offer(good, tmp_path / "hub" / "offered", say=lambda _: None)
    shelved = tmp_path / "hub" / "offered" / B
    wheel = next(shelved.glob("motcua-*.whl"))
    wheel.write_bytes(wheel.read_bytes()[:-10] + b"0123456789")  # damaged on the shelf
    with pytest.raises(ProvisioningError, match="does not match its checksum in the manifest"):
        update(BrokerSection(port=broker.port), WARD, good, f"http://127.0.0.1:{shelf_port}", ("hub",), healthy_s=20,
               say=lambda _: None)
    row = hub_row(broker.port)
    assert row["version"] == VERSION and not (tmp_path / "hub" / "releases" / B).exists()


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A release shelf with one release, and a secret file beside it: the port."""
    from hub.releases import ReleaseServer

    data = tmp_path_factory.mktemp("shelf")
    (data / "secret.toml").write_text("password = 'do-not-serve'")
    server = ReleaseServer(data, 0, host="127.0.0.1")
    (server.folder / "1.0").mkdir()
    (server.folder / "1.0" / "release.json").write_text('{"files": []}')
    server.start()
    yield server.port
    server.stop()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.one_of(st.binary(max_size=300), st.sampled_from([b"/../secret.toml", b"/1.0/../../secret.toml",
                                                                 b"/%2e%2e/secret.toml", b"/1.0/", b"/"])))
def test_the_release_shelf_serves_its_files_and_nothing_else(shelf: int, path: bytes) -> None:
    with socket.create_connection(("127.0.0.1", shelf), timeout=5) as sock:
        sock.sendall(b"GET " + path + b" HTTP/1.0\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/") else b"-"
    assert status in (b"200", b"301", b"400", b"404", b"414", b"-"), answer[:200]
    assert b"do-not-serve" not in answer and b"<a href" not in answer  # nothing off the shelf, no listings
    with urllib.request.urlopen(f"http://127.0.0.1:{shelf}/1.0/release.json", timeout=5) as good:
        assert good.read() == b'{"files": []}'  # and the next device is served as ever
