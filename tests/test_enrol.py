# Enrolment against a locked-down mosquitto: the shipped ACL, a password file made by `motcua enrol`, real roles.
from __future__ import annotations

import re
import shutil
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from bus import access
from bus.client import BusClient
from bus.config import BrokerSection, build
from bus.device_commands import DeviceCommands
from bus.errors import AccessRefused
from devkit.broker import Broker, free_port
from hub.config import load_hub
from hub.service import HubService
from provisioning.cli import cli
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parent.parent
WARD = "phuong-ben-nghe"


def enrol(tmp_path: Path, port: int, *args: str) -> str:
    result = CliRunner().invoke(cli, ["enrol", *args, "--ward", WARD, "--broker-port", str(port), "--out",
                                      str(tmp_path / "etc"), "--data-dir", str(tmp_path / "data"),
                                      "--cert-dir", str(tmp_path / "certs"),
                                      "--password-file", str(tmp_path / "passwd"), "--acl-file", str(tmp_path / "acl")])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def ward(tmp_path: Path) -> Iterator[tuple[Broker, dict[str, BrokerSection], str]]:
    """A broker that knows only enrolled devices, limited by the access list enrolment wrote; each device's broker
    section."""
    port = free_port()
    for args in (["hub", "--role", "hub"],
                 ["kiosk-1", "--role", "kiosk", "--offline-block", "1", "--printer", "usb:04B8:0E15"],
                 ["rating-1", "--role", "rating", "--counter", "1"], ["desk-2", "--role", "desk", "--counter", "2"]):
        enrol(tmp_path, port, *args)
    it = enrol(tmp_path, port, "it", "--role", "it")
    password = re.search(r"shown once\): (\S+)", it).group(1)
    sections = {name: build(BrokerSection, tomllib.loads((tmp_path / "etc" / f"{name}.toml").read_text())["broker"],
                            name, "broker") for name in ("hub", "kiosk-1", "rating-1", "desk-2")}
    broker = Broker(tmp_path / "broker", port=port, kind="mosquitto",
                    auth=(tmp_path / "passwd", tmp_path / "acl")).start()
    yield broker, sections, password
    broker.stop()


def test_enrolled_devices_work_through_the_locked_down_broker(tmp_path: Path, ward: tuple) -> None:
    broker, sections, it_password = ward
    config, section = load_hub(str(tmp_path / "etc" / "hub.toml"))
    hub = HubService(config, section)
    hub.start()
    kiosk = BusClient(sections["kiosk-1"], WARD, "kiosk-1", "kiosk")
    DeviceCommands(kiosk)
    stranger = BusClient(BrokerSection(port=broker.port, username="kiosk-1", password="guess"), WARD, "x", "kiosk")
    clients = [kiosk, stranger]
    try:
        for c in clients:
            c.start()
        assert kiosk.wait_connected(10) and not stranger.wait_connected(2)  # a wrong password is refused
        wait_until(lambda: hub.bus.connected.is_set(), what="the hub to connect with its own account")
        reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
        assert reply is not None and reply.type == "ticket.issued", reply
        # a kiosk may not act as a counter: its client says so at once, and the broker drops what a raw client sends
        with pytest.raises(AccessRefused, match="kiosk account 'kiosk-1' may not send counter commands"):
            kiosk.request(kiosk.topics.counter_command(1), "counter.command", {"action": "call_next", "counter": 1},
                          timeout=1.5)
        command = kiosk.message("counter.command", {"action": "call_next", "counter": 1})
        kiosk._mqtt.publish(kiosk.topics.counter_command(1), command.encode(), qos=1).wait_for_publish(5)
        time.sleep(1.0)
        assert hub.db.execute("SELECT COUNT(*) FROM events WHERE kind='called'").fetchone()[0] == 0
        desk = BusClient(sections["desk-2"], WARD, "desk-2", "desk", counters=(2,))  # buttons at counter 2
        clients.append(desk)
        desk.start()
        assert desk.wait_connected(10)
        called = desk.request(desk.topics.counter_command(2), "counter.command", {"action": "call_next", "counter": 2},
                              timeout=5)
        assert called is not None and called.body["ticket"]["label"] == "A001", called
        with pytest.raises(AccessRefused, match="may not send counter commands"):  # another counter's: refused
            desk.request(desk.topics.counter_command(1), "counter.command", {"action": "call_next", "counter": 1},
                         timeout=1.5)
        base = ["--ward", WARD, "--port", str(broker.port), "--username", "it", "--password", it_password]
        result = CliRunner().invoke(cli, ["device", "ping", "hub", *base])
        assert result.exit_code == 0 and '"role": "hub"' in result.output, result.output
        result = CliRunner().invoke(cli, ["device", "ping", "kiosk-1", *base])
        assert result.exit_code == 0 and '"role": "kiosk"' in result.output, result.output
        result = CliRunner().invoke(cli, ["fleet", "status", *base])
        assert result.exit_code == 0 and "kiosk-1" in result.output and "hub" in result.output, result.output
        anonymous = CliRunner().invoke(cli, ["device", "ping", "hub", "--ward", WARD, "--port", str(broker.port),
                                             "--timeout", "1"])
        assert anonymous.exit_code == 1
    finally:
        for c in clients:
            c.stop()
        hub.stop()


def test_enrolled_configs_are_complete_and_private(tmp_path: Path) -> None:
    out = enrol(tmp_path, 1883, "bridge-1", "--role", "bridge", "--unit", "/dev/serial/by-id/usb-rk1", "rating_keypad",
                "2", "--unit", "/dev/serial/by-id/usb-led1", "led_display", "2")
    path = tmp_path / "etc" / "bridge-1.toml"
    assert f"wrote {path}" in out
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert raw["broker"]["username"] == "bridge-1" and len(raw["broker"]["password"]) >= 20
    assert [u["kind"] for u in raw["bridge"]["units"]] == ["rating_keypad", "led_display"]
    assert path.stat().st_mode & 0o077 == 0o040  # readable by its group, not by everyone
    assert "bridge-1:" in (tmp_path / "passwd").read_text()  # hashed by mosquitto_passwd
    assert raw["broker"]["password"] not in (tmp_path / "passwd").read_text()


@pytest.mark.parametrize(("args", "problem"), [
    (["k", "--role", "kiosk"], "a kiosk needs --offline-block"),
    (["k", "--role", "kiosk", "--offline-block", "2", "--printer", "usb:epson"], "a kiosk needs --printer usb:"),
    (["k", "--role", "kiosk", "--offline-block", "2", "--printer", "network:10.0.0.5:²"], "a kiosk needs --printer"),
    (["r", "--role", "rating"], "a rating keypad needs --counter"),
    (["b", "--role", "bridge"], "a bridge needs at least one --unit"),
    (["main", "--role", "hub"], "the hub's name must be 'hub'"),
    (["Kiosk 1", "--role", "display"], "must match"),
])
def test_enrolment_mistakes_are_explained(tmp_path: Path, args: list[str], problem: str) -> None:
    result = CliRunner().invoke(cli, ["enrol", *args, "--ward", WARD, "--out", str(tmp_path), "--password-file", "",
                                      "--acl-file", ""])
    assert result.exit_code == 1 and problem in result.output, result.output
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_a_device_is_enrolled_once(tmp_path: Path) -> None:
    enrol(tmp_path, 1883, "board-1", "--role", "display")
    again = CliRunner().invoke(cli, ["enrol", "board-1", "--role", "display", "--ward", WARD, "--out",
                                     str(tmp_path / "etc"), "--password-file", "", "--acl-file", ""])
    assert again.exit_code == 1 and "exists; a device is enrolled once" in again.output


def test_re_enrolling_replaces_the_devices_access_block(tmp_path: Path) -> None:
    enrol(tmp_path, 1883, "board-1", "--role", "display")
    enrol(tmp_path, 1883, "board-1", "--role", "display", "--force")
    enrol(tmp_path, 1883, "rating-2", "--role", "rating", "--counter", "2")
    acl = (tmp_path / "acl").read_text(encoding="utf-8")
    assert acl.count("user board-1\n") == 1 and acl.count("user rating-2\n") == 1
    assert f"user board-1\ntopic read motcua/v1/{WARD}/board/state\n" in acl


def test_install_into_a_staging_root(tmp_path: Path) -> None:
    enrol(tmp_path, 1883, "hub", "--role", "hub")
    enrol(tmp_path, 1883, "board-1", "--role", "display")
    image = tmp_path / "image"
    for name in ("hub", "board-1"):
        result = CliRunner().invoke(cli, ["install", "--config", str(tmp_path / "etc" / f"{name}.toml"),
                                          "--root", str(image)])
        assert result.exit_code == 0 and f"installed motcua@{name}" in result.output, result.output
        assert "staging root" in result.output
    unit = (image / "etc/systemd/system/motcua@.service").read_text(encoding="utf-8")
    assert "ExecStart=" + str(Path(__import__("sys").executable).parent / "motcua") + " run --config " in unit
    assert (image / "etc/motcua/board-1.toml").read_text() == (tmp_path / "etc/board-1.toml").read_text()
    assert (image / "etc/motcua/hub.toml").stat().st_mode & 0o777 == 0o640
    assert (image / str(tmp_path / "data").lstrip("/")).is_dir()
    assert "password_file /etc/mosquitto/motcua.passwd" in (image / "etc/mosquitto/conf.d/motcua.conf").read_text()
    (image / "etc/mosquitto/motcua.acl").write_text("# edited by enrolment\n")
    again = CliRunner().invoke(cli, ["install", "--config", str(tmp_path / "etc/hub.toml"), "--root", str(image)])
    assert again.exit_code == 0
    assert (image / "etc/mosquitto/motcua.acl").read_text() == "# edited by enrolment\n"  # never overwritten
    bad = CliRunner().invoke(cli, ["install", "--config", str(tmp_path / "nothing.toml"), "--root", str(image)])
    assert bad.exit_code == 2 and "does not exist" in bad.output


ROLES = {"hub": ["--role", "hub"],
         "kiosk-1": ["--role", "kiosk", "--offline-block", "1", "--printer", "usb:04b8:0e15"],
         "board-1": ["--role", "display"], "rating-1": ["--role", "rating", "--counter", "1"],
         "desk-2": ["--role", "desk", "--counter", "2"],
         "bridge-1": ["--role", "bridge", "--unit", "/dev/ttyUSB0", "led_display", "1"],
         "console": ["--role", "console"]}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not on this machine")
def test_every_role_runs_in_a_sandbox_that_systemd_accepts(tmp_path: Path) -> None:
    image = tmp_path / "image"
    for name, args in ROLES.items():
        enrol(tmp_path, 1883, name, *args)
        result = CliRunner().invoke(cli, ["install", "--config", str(tmp_path / "etc" / f"{name}.toml"),
                                          "--root", str(image)])
        assert result.exit_code == 0, result.output
    units = image / "etc/systemd/system"
    template = (units / "motcua@.service").read_text(encoding="utf-8")
    for setting in ("ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectHome=yes",
                    "CapabilityBoundingSet=\n", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"):
        assert setting in template
    dropin = {name: (units / f"motcua@{name}.service.d/role.conf").read_text() for name in ROLES}
    assert "PrivateDevices=yes" in dropin["hub"] and "PrivateDevices=yes" in dropin["console"]
    assert "SupplementaryGroups=dialout\n" in dropin["bridge-1"] and "gpio" in dropin["rating-1"]
    assert "SupplementaryGroups=gpio\n" in dropin["desk-2"]
    assert "audio" in dropin["board-1"] and "audio" not in dropin["kiosk-1"]
    assert f"ReadWritePaths=-{tmp_path / 'data'}" in dropin["hub"]  # not the unit's own state folder
    exposure = {}
    for name in ROLES:
        instance = units / f"motcua@{name}.service"
        instance.write_text(template, encoding="utf-8")  # verify reads an instance's file beside its drop-in
        verified = subprocess.run(["systemd-analyze", "verify", str(instance)], capture_output=True, text=True)
        assert verified.returncode == 0, verified.stderr
        assert "Unknown" not in verified.stderr and "unknown" not in verified.stderr, verified.stderr
        instance.unlink()
        scored = subprocess.run(["systemd-analyze", "security", "--offline=true", f"--root={image}",
                                 f"motcua@{name}.service"], capture_output=True, text=True)
        exposure[name] = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", scored.stdout).group(1))
    print("systemd-analyze security exposure:", exposure)
    assert all(level <= 2.0 for level in exposure.values()), exposure  # "OK" is below 4; the old unit scored 9.2


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(
    st.sampled_from(sorted({t.replace("{counter}", "1").replace("%u", "kiosk-1")
                            for rules in (access.EVERY_DEVICE, *access.GRANTS.values()) for _, t in rules})),
    st.lists(st.sampled_from(("ticket", "request", "counter", "1", "2", "state", "reply", "kiosk-1", "+", "#")),
             min_size=1, max_size=4).map("/".join)), max_size=30),
    st.sampled_from(sorted(access.GRANTS)))
def test_remembered_access_answers_agree_with_the_rules(asked: list, role: str) -> None:
    """A client keeps each access answer (it asks before every publish): kept or fresh, read or write first, past
    the limit where they are forgotten too, the answer is the rules' own."""
    kept = access.grants(role, "kiosk-1", WARD, (1,))
    assert kept is not None
    topics = [f"motcua/v1/{WARD}/{below}" for below in asked]
    for round_, kinds in enumerate((("read", "write"), ("write", "read"), ("read", "write"))):
        for topic in topics:
            fresh = access.grants(role, "kiosk-1", WARD, (1,))
            assert fresh is not None
            assert [kept.may(kind, topic) for kind in kinds] == [fresh.may(kind, topic) for kind in kinds]
        if round_ == 1:  # as many other topics as are kept: the answers above are forgotten
            for i in range(access.ANSWERS_KEPT):
                kept.may("write", f"motcua/v1/{WARD}/reply/d{i}")
    assert len(kept._answers) <= access.ANSWERS_KEPT  # what is kept stays bounded
