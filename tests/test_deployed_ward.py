# A ward set up as docs/deploy.md says: enrolled devices, a locked-down mosquitto, every service run by `motcua run`.
from __future__ import annotations

import dataclasses
import json
import re
import shutil
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pygame
import pytest
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion

from bus.config import BrokerSection, build
from devkit.big_catalogue import VERSION, write
from devkit.broker import Broker, free_port, lan_address
from devkit.processes import RoleProcess
from firmware_bridge.fake_mcu import FakeMcu
from provisioning.broker_conf import WardBroker
from provisioning.cli import cli
from provisioning.fleet import FleetWatch
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "screenshots" / "deployed"
WARD = "phuong-ben-nghe"
HEADLESS = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "GPIOZERO_PIN_FACTORY": "mock"}
OFFLINE_BANNER = (120, 60, 0)  # display/board.py draws "Mất kết nối" on this colour


@dataclass
class Ward:
    tmp: Path
    broker: Broker
    it_password: str
    units: dict[str, FakeMcu]
    lan: str
    tls_port: int
    procs: dict[str, RoleProcess]

    def account(self, name: str) -> BrokerSection:
        raw = tomllib.loads((self.tmp / "etc" / f"{name}.toml").read_text(encoding="utf-8"))["broker"]
        return build(BrokerSection, raw, name, "broker")

    def it(self) -> BrokerSection:
        return BrokerSection(port=self.broker.port, username="it", password=self.it_password)

    def cli(self, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, [*args, "--ward", WARD, "--port", str(self.broker.port)])
        return result.exit_code, result.output


def enrol(tmp: Path, name: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["enrol", name, *args, "--ward", WARD, "--cert-dir", str(tmp / "certs"),
                                      "--out", str(tmp / "etc"), "--data-dir", str(tmp / "data" / name),
                                      "--password-file", str(tmp / "passwd"), "--acl-file", str(tmp / "acl")])
    assert result.exit_code == 0, result.output
    return result.output


def ward_broker(tmp: Path, plain: int, tls: int) -> Broker:
    """The ward broker as `motcua install` configures it (provisioning/broker_conf.py), on the enrolment's files."""
    return Broker(tmp / "broker", ward=WardBroker(password_file=tmp / "passwd", acl_file=tmp / "acl",
                                                  cert=tmp / "certs" / "motcua-broker.pem",
                                                  key=tmp / "certs" / "motcua-broker.key", plain_port=plain,
                                                  tls_port=tls, persistence=False))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


CONSOLE_PORT = [0]


@pytest.fixture
def ward(tmp_path: Path) -> Iterator[Ward]:
    """Every role enrolled with `motcua enrol`, the broker on the enrolment's password file, access list and TLS
    certificate (plain MQTT on loopback for the hub and the console, TLS on the LAN address for every other device,
    each checking the ward CA), every service run with `motcua run` as systemd would (the second kiosk is driven by
    the test, in-process)."""
    port, tls, lan = free_port(), free_port(), lan_address()
    CONSOLE_PORT[0] = free_port()
    units = {kind: FakeMcu(kind, tmp_path, name=f"usb-{kind}", serial_no=f"T-{kind[:4]}", keys=8)
             for kind in ("counter_keypad", "rating_keypad", "led_display")}
    for unit in units.values():
        unit.plug()
    local = ("--broker-host", "127.0.0.1", "--broker-port", str(port))
    over_lan = ("--broker-host", lan, "--broker-port", str(tls))
    enrol(tmp_path, "hub", "--role", "hub", *local, "--lan-address", lan)
    enrol(tmp_path, "kiosk-1", "--role", "kiosk", *over_lan, "--offline-block", "1", "--printer", f"file:{tmp_path}/p1")
    enrol(tmp_path, "kiosk-2", "--role", "kiosk", *over_lan, "--offline-block", "2", "--printer", f"file:{tmp_path}/p2")
    enrol(tmp_path, "board-1", "--role", "display", *over_lan)
    enrol(tmp_path, "rating-2", "--role", "rating", *over_lan, "--counter", "2")
    enrol(tmp_path, "bridge-1", "--role", "bridge", *over_lan, *[a for kind, unit in units.items()
                                                                for a in ("--unit", str(unit.path), kind, "1")])
    enrol(tmp_path, "console", "--role", "console", *local)
    console = tmp_path / "etc" / "console.toml"
    edit(console, "port = 8080", f"port = {CONSOLE_PORT[0]}")
    added = CliRunner().invoke(cli, ["officer", "add", "mai", "--config", str(console), "--display", "Nguyễn Thị Mai",
                                     "--counters", "2", "--password", "-"], input="mật-khẩu-đủ-dài-1\n")
    assert added.exit_code == 0, added.output
    it = enrol(tmp_path, "it", "--role", "it")
    for folder in ("p1", "p2"):
        (tmp_path / folder).mkdir()
    hub_toml = tmp_path / "etc" / "hub.toml"  # a commune's whole catalogue: more than one message holds as plain JSON
    hub_toml.write_text(re.sub(r'(?m)^catalogue = .*$', f'catalogue = "{write(tmp_path / "catalogue.json", 280)}"',
                               hub_toml.read_text(encoding="utf-8")), encoding="utf-8")
    board = tmp_path / "etc" / "board-1.toml"  # as ward IT would for a board without a speaker
    edit(board, "speak = true", "speak = false")
    edit(board, "fullscreen = true", f'fullscreen = false\nscreenshots = "{tmp_path / "board-shots"}"')
    broker = ward_broker(tmp_path, port, tls).start()
    password = re.search(r"shown once\): (\S+)", it).group(1)  # type: ignore[union-attr]
    procs = [RoleProcess(name, tmp_path / "etc" / f"{name}.toml", tmp_path / f"{name}.log", env=HEADLESS,
                         command=("run",))
             for name in ("hub", "kiosk-1", "board-1", "rating-2", "bridge-1", "console")]
    for proc in procs:
        proc.start()
    try:
        yield Ward(tmp_path, broker, password, units, lan, tls, {p.role: p for p in procs})
    finally:
        for proc in procs:
            proc.stop()
        broker.stop()
        for unit in units.values():
            unit.close()


def states(ward: Ward, settle: float = 1.0) -> dict[str, dict]:
    with FleetWatch(ward.it(), WARD) as watch:
        time.sleep(settle)
        return {name: msg.body for name, msg in watch.states.items()}


def test_a_deployed_ward_works_end_to_end_and_shows_no_false_alarm(ward: Ward) -> None:
    from kiosk.config import load_kiosk
    from kiosk.core import KioskCore
    from kiosk.printing import make_printer

    with FleetWatch(ward.it(), WARD) as watch:
        for name in ("hub", "kiosk-1", "board-1", "rating-2", "bridge-1", "console"):
            watch.wait_online(name, 30)
    wait_until(lambda: states(ward, 0.5)["bridge-1"]["detail"]["units"][0]["state"] == "ready", timeout=20,
               what="the serial units ready")

    # a citizen takes a ticket at the second kiosk (its logic in this process, its own enrolled config)
    config, section, printer_cfg, _ = load_kiosk(str(ward.tmp / "etc" / "kiosk-2.toml"))
    kiosk = KioskCore(config, section, printer_cfg, make_printer(printer_cfg))
    kiosk.start()
    try:
        wait_until(lambda: kiosk.hub_ok and "HT" in kiosk.services, what="the kiosk to know the hub's services")
        wait_until(lambda: kiosk.catalogue.version == VERSION, what="the ward's catalogue, through the ward broker")
        assert kiosk.catalogue.procedure("2.000279") is not None  # all 280 procedures, in one message
        outcome = kiosk.take_ticket("HT")
        assert outcome.state == "printed" and not outcome.offline, outcome
        assert list((ward.tmp / "p2").iterdir())  # the ticket was printed
        label = outcome.ticket["label"]
        # the officer presses Next on the serial counter keypad; the LED shows the number, the board calls it
        ward.units["counter_keypad"].press(1)
        wait_until(lambda: label in ward.units["led_display"].shown, timeout=10, what="the LED display")
        ward.units["counter_keypad"].press(3)  # start serving
        wait_until(lambda: ward.units["counter_keypad"].feedback.count("ok") >= 2, what="both keys ok")
        # the citizen rates on the serial rating keypad beside the counter
        ward.units["rating_keypad"].press(1)
        wait_until(lambda: "ok" in ward.units["rating_keypad"].feedback, timeout=10, what="the rating recorded")
        shot = ward.tmp / "board-shots" / "latest.png"
        wait_until(shot.exists, what="the board's screenshot of the call")
        # a second citizen is called from the web console, by the officer of counter 2, in a browser's place
        second = kiosk.take_ticket("HT")
        assert console_call(CONSOLE_PORT[0], "mai", 2) == second.ticket["label"]
        # ward IT sees every device well, and its commands work
        code, out = ward.cli("fleet", "status", "--check", "--username", "it", "--password", ward.it_password)
        assert code == 0, out
        assert {line.split()[0] for line in out.splitlines()[1:]} == {"hub", "kiosk-1", "kiosk-2", "board-1",
                                                                      "rating-2", "bridge-1", "console"}
    finally:
        kiosk.stop()
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SHOTS / "board-after-call.png")
    image = pygame.image.load(str(shot))
    assert all(image.get_at((x, y))[:3] != OFFLINE_BANNER for x in range(0, image.get_width(), 4)
               for y in range(image.get_height() * 3 // 4, image.get_height(), 4)), "the board shows 'Mất kết nối'"

    code, out = ward.cli("device", "ping", "board-1", "--username", "it", "--password", ward.it_password)
    assert code == 0 and json.loads(out)["result"]["role"] == "display", out
    now = states(ward)
    assert now["board-1"]["detail"]["hub"] == "ok" and now["kiosk-1"]["detail"]["hub"] == "ok"

    # the kiosk and the board can read the hub's state: they notice at once when it stops, and when it is back
    hub = RoleProcess("hub", ward.tmp / "etc" / "hub.toml", ward.tmp / "hub-2.log", env=HEADLESS, command=("run",))
    code, out = ward.cli("device", "restart", "hub", "--username", "it", "--password", ward.it_password)
    assert code == 0, out
    wait_until(lambda: states(ward, 0.3)["board-1"]["detail"]["hub"] == "unreachable", timeout=15,
               what="the board to show the hub down")
    old = ward.procs["hub"].proc
    wait_until(lambda: old is None or old.poll() is not None, what="the hub's process to end")
    hub.start()  # systemd would restart it once it ended; here the test does
    try:
        wait_until(lambda: states(ward, 0.3)["board-1"]["detail"]["hub"] == "ok", timeout=30,
                   what="the board to see the hub back")
        wait_until(lambda: states(ward, 0.3)["kiosk-1"]["detail"]["hub"] == "ok", timeout=30, what="the kiosk too")
    finally:
        hub.stop()


def console_call(port: int, name: str, counter: int) -> str:
    """Signs in to the console as `name` and presses Next at `counter`; the label called."""
    import httpx2

    with httpx2.Client(base_url=f"http://127.0.0.1:{port}", headers={"accept": "text/html"}) as web:
        token = re.search(r'name="csrf" content="([^"]+)"', web.get("/login").text).group(1)  # type: ignore[union-attr]
        signed = web.post("/login", data={"account": name, "password": "mật-khẩu-đủ-dài-1", "csrftoken": token})
        assert signed.status_code in (200, 303), signed.text
        page = web.get(f"/counter/{counter}")
        token = re.search(r'name="csrf" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        answer = web.post(f"/counter/{counter}/act", json={"action": "call_next", "expect": 0},
                          headers={"x-csrftoken": token})
        assert answer.status_code == 200, answer.text
        return answer.json()["ticket"]["label"]


def spy(ward: Ward) -> tuple[mqtt.Client, list[tuple[str, bytes]]]:
    """A client on the hub's account, which may read the whole ward: what reaches the broker's subscribers."""
    seen: list[tuple[str, bytes]] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="spy")
    hub = ward.account("hub")
    client.username_pw_set(hub.username, hub.password)
    subscribed = threading.Event()
    client.on_message = lambda c, u, m: seen.append((m.topic, m.payload))
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect("127.0.0.1", ward.broker.port)
    client.subscribe(f"motcua/v1/{WARD}/#", qos=1)
    client.loop_start()
    assert subscribed.wait(10), "the spy's subscription was never acknowledged"
    return client, seen


def attempts(ward: Ward, account: str, password: str, topics: list[str]) -> dict[str, bool]:
    """Publishes a marked payload on each topic as `account`; which ones reached the broker's subscribers."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{account}")
    client.username_pw_set(account, password)
    client.connect("127.0.0.1", ward.broker.port)
    client.loop_start()
    watcher, seen = spy(ward)
    try:
        for topic in topics:
            client.publish(topic, f"marker {account} {topic}".encode(), qos=1).wait_for_publish(5)
        time.sleep(1.0)
        return {t: any(p == f"marker {account} {t}".encode() for _, p in seen) for t in topics}
    finally:
        for c in (client, watcher):
            c.loop_stop()
            c.disconnect()


def test_what_each_account_must_not_do_is_refused_by_the_broker(ward: Ward) -> None:
    root = f"motcua/v1/{WARD}"
    kiosk = ward.account("kiosk-1")
    passed = attempts(ward, "kiosk-1", kiosk.password, [
        f"{root}/ticket/request", f"{root}/ticket/event", f"{root}/counter/1/command", f"{root}/board/state",
        f"{root}/device/board-1/command", f"{root}/device/board-1/state", f"{root}/upstream/record",
        f"{root}/device/kiosk-1/state"])
    assert passed == {f"{root}/ticket/request": True, f"{root}/ticket/event": False,
                      f"{root}/counter/1/command": False, f"{root}/board/state": False,
                      f"{root}/device/board-1/command": False, f"{root}/device/board-1/state": False,
                      f"{root}/upstream/record": False, f"{root}/device/kiosk-1/state": True}
    board = ward.account("board-1")
    passed = attempts(ward, "board-1", board.password, [
        f"{root}/device/board-1/state", f"{root}/board/state", f"{root}/ticket/request", f"{root}/counter/1/command",
        f"{root}/rating", f"{root}/device/hub/state"])
    assert [t for t, ok in passed.items() if ok] == [f"{root}/device/board-1/state"]
    bridge = ward.account("bridge-1")
    passed = attempts(ward, "bridge-1", bridge.password, [f"{root}/counter/1/command", f"{root}/counter/2/command",
                                                         f"{root}/rating", f"{root}/board/state"])
    assert passed == {f"{root}/counter/1/command": True, f"{root}/counter/2/command": False,
                      f"{root}/rating": True, f"{root}/board/state": False}
    console = ward.account("console")
    passed = attempts(ward, "console", console.password, [f"{root}/counter/2/command", f"{root}/admin/request",
                                                          f"{root}/ticket/request", f"{root}/board/state"])
    assert passed == {f"{root}/counter/2/command": True, f"{root}/admin/request": True,
                      f"{root}/ticket/request": False, f"{root}/board/state": False}
    rating = ward.account("rating-2")
    passed = attempts(ward, "rating-2", rating.password, [f"{root}/rating", f"{root}/counter/2/command"])
    assert passed == {f"{root}/rating": True, f"{root}/counter/2/command": False}
    for user, password in (("", ""), ("kiosk-1", "guess"), ("nobody", "x")):
        assert connect_answer(ward, user, password) == "Not authorized", user


def connect_answer(ward: Ward, user: str, password: str) -> str:
    answers: list[str] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"stranger-{user}")
    if user:
        client.username_pw_set(user, password)
    client.on_connect = lambda c, u, f, reason, p: answers.append(str(reason))
    client.connect("127.0.0.1", ward.broker.port)
    client.loop_start()
    wait_until(lambda: answers, what="the broker's answer")
    client.loop_stop()
    return answers[0]


def test_refusals_are_said_plainly_on_the_command_line(ward: Ward) -> None:
    it = ("--username", "it", "--password", ward.it_password)
    started = time.monotonic()
    code, out = ward.cli("counter", "call_next", "--counter", "1", *it)
    assert code == 1 and "ward IT's account 'it' may not send counter commands" in out, out
    code, out = ward.cli("ticket", "HT", *it)
    assert code == 1 and "may not send ticket requests" in out, out
    code, out = ward.cli("fleet", "status", "--username", "it", "--password", "wrong")
    assert code == 1 and "refused account 'it': Not authorized" in out, out
    code, out = ward.cli("fleet", "status", "--username", "nobody", "--password", "x")
    assert code == 1 and "refused account 'nobody'" in out, out
    code, out = ward.cli("device", "ping", "hub", "--username", "console", "--password", "x", "--timeout", "5")
    assert code == 1 and "account 'console' may not send device commands: only ward IT's account 'it'" in out, out
    assert time.monotonic() - started < 5  # said at once, not after a timeout
    code, out = ward.cli("device", "ping", "kiosk-9", "--timeout", "1", *it)
    assert code == 1 and "kiosk-9 did not answer within 1.0 s" in out  # silence stays a different message


def it_over_lan(ward: Ward, *args: str) -> tuple[int, str]:
    """Ward IT from a laptop on the LAN: the TLS port, checked against the ward CA."""
    result = CliRunner().invoke(cli, [*args, "--ward", WARD, "--host", ward.lan, "--port", str(ward.tls_port),
                                      "--ca-file", str(ward.tmp / "etc" / "ca" / "ward-ca.pem"),
                                      "--username", "it", "--password", ward.it_password])
    return result.exit_code, result.output


def test_ward_it_commands_over_tls_with_ids_and_expiry(ward: Ward) -> None:
    with FleetWatch(ward.it(), WARD) as watch:
        for name in ("kiosk-1", "board-1", "rating-2"):
            watch.wait_online(name, 30)
    code, out = it_over_lan(ward, "device", "identify", "board-1", "--seconds", "2")
    assert code == 0 and json.loads(out)["result"]["did"].startswith("the screen flashes"), out
    code, out = it_over_lan(ward, "device", "test-print", "kiosk-1")
    assert code == 0 and json.loads(out)["result"]["printed"], out
    assert len(list((ward.tmp / "p1").iterdir())) == 1  # the test ticket, on the kiosk's printer
    board = ward.tmp / "etc" / "board-1.toml"
    edit(board, "[display]\n", "[display]\nenglish = false\n")
    edit(board, "[device]\n", '[device]\nlog_level = "debug"\n')
    code, out = it_over_lan(ward, "device", "reload", "board-1")
    assert code == 0 and json.loads(out)["result"]["applied"] == ["device.log_level", "display.english"], out
    code, out = it_over_lan(ward, "device", "reset", "rating-2", "--factory", "--wait", "2")
    body = json.loads(out)
    assert code == 0 and body["result"]["identity"] == "kept" and body["result"]["exported"] == 0, out
    # a command sent again, or too late, is refused by the device (here sent by hand through the ward broker)
    from bus.client import BusClient
    from bus.device_commands import command_body

    it = BusClient(ward.it(), WARD, "it", "cli")
    it.start()
    try:
        assert it.wait_connected(5)
        command = command_body("ping")
        first = it.request(it.topics.device_command("kiosk-1"), "device.command", command, timeout=5)
        again = it.request(it.topics.device_command("kiosk-1"), "device.command", command, timeout=5)
        late = it.request(it.topics.device_command("kiosk-1"), "device.command", command_body("ping", ttl_s=-5),
                          timeout=5)
    finally:
        it.stop()
    assert first is not None and first.body["ok"]
    assert again is not None and again.body["result"]["refused"] == "replayed"
    assert late is not None and late.body["result"]["refused"] == "expired"
    kiosk = ward.account("kiosk-1")  # a kiosk's account may not command a device: its own client says so at once
    result = CliRunner().invoke(cli, ["device", "ping", "board-1", "--ward", WARD, "--port", str(ward.broker.port),
                                      "--username", "kiosk-1", "--password", kiosk.password])
    assert result.exit_code == 1 and "may not send device commands" in result.output, result.output


def test_the_lan_sees_only_tls_and_only_the_wards_broker(ward: Ward) -> None:
    import socket

    from bus.client import BusClient
    from bus.tls import handshake_problem
    from provisioning.ca import make_ca

    with pytest.raises(OSError):  # the plain port answers on loopback only
        socket.create_connection((ward.lan, ward.broker.port), timeout=2).close()
    kiosk = ward.account("kiosk-1")
    assert kiosk.tls and kiosk.port == ward.tls_port and kiosk.host == ward.lan
    assert handshake_problem(kiosk) is None  # the broker proves it is the ward's
    stranger_ca = make_ca(ward.tmp / "other-ca", "phuong-khac").pem()
    for ca in (stranger_ca, ""):  # a CA that is not the ward's, or the system's store: the broker is not trusted
        fooled = BusClient(dataclasses.replace(kiosk, ca_pem=ca), WARD, "kiosk-1x", "kiosk")
        fooled.start()
        try:
            assert not fooled.wait_connected(5)
            assert "could not be trusted" in fooled.refused_by_broker, fooled.refused_by_broker
        finally:
            fooled.stop()
    # rotating a device's password: the old one stops working, the new config works
    old = ward.account("rating-2")
    code = CliRunner().invoke(cli, ["rotate", "rating-2", "--out", str(ward.tmp / "etc"),
                                    "--password-file", str(ward.tmp / "passwd")])
    assert code.exit_code == 0, code.output
    ward.broker.reload()
    new = ward.account("rating-2")
    assert new.password != old.password and "[rating]" in (ward.tmp / "etc" / "rating-2.toml").read_text()
    assert answer_over_tls(ward, old) == "Not authorized" and answer_over_tls(ward, new) == "Success"
    # revoking one: its account is gone, its config kept as a record
    code = CliRunner().invoke(cli, ["revoke", "rating-2", "--out", str(ward.tmp / "etc"),
                                    "--password-file", str(ward.tmp / "passwd"), "--acl-file", str(ward.tmp / "acl")])
    assert code.exit_code == 0 and (ward.tmp / "etc" / "revoked" / "rating-2.toml").exists(), code.output
    ward.broker.reload()
    assert answer_over_tls(ward, new) == "Not authorized"
    assert "rating-2" not in (ward.tmp / "acl").read_text()


def answer_over_tls(ward: Ward, account: BrokerSection) -> str:
    from bus.tls import context

    answers: list[str] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"tls-{account.username}-{time.monotonic_ns()}")
    client.username_pw_set(account.username, account.password)
    client.tls_set_context(context(account))
    client.on_connect = lambda c, u, f, reason, p: answers.append(str(reason))
    client.connect(account.host, account.port)
    client.loop_start()
    try:
        wait_until(lambda: answers, what="the broker's answer")
    finally:
        client.loop_stop()
        client.disconnect()
    return answers[0]
