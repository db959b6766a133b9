# The firmware bridge end to end: fake microcontrollers on ptys, a real broker and hub, noise, unplugs and outages.
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bus.errors import ConfigError
from devkit.broker import Broker
from devkit.configs import write_bridge_config
from devkit.processes import RoleProcess
from firmware_bridge.config import load_bridge
from firmware_bridge.fake_mcu import FakeMcu
from firmware_bridge.service import BridgeService
from hub.service import HubService
from tests.conftest import wait_until

Rig = Callable[..., tuple[BridgeService, dict[str, FakeMcu]]]


@pytest.fixture
def rig(tmp_path: Path, broker: Broker) -> Iterator[Rig]:
    """Builds a bridge with one fake device per unit: units given as (name, kind, counter, extra options)."""
    made: list[tuple[BridgeService, dict[str, FakeMcu]]] = []

    def make(*units: tuple[str, str, int, dict[str, object]], device_kinds: dict[str, str] | None = None,
             start: bool = True) -> tuple[BridgeService, dict[str, FakeMcu]]:
        mcus = {name: FakeMcu((device_kinds or {}).get(name, kind), tmp_path, name=name, keys=8).plug()
                for name, kind, _, _ in units}
        path = write_bridge_config(tmp_path, broker.port, [
            {"port": str(mcus[name].path), "kind": kind, "counter": counter, **extra}
            for name, kind, counter, extra in units])
        service = BridgeService(*load_bridge(str(path)))
        made.append((service, mcus))
        if start:
            service.start()
            service.bus.wait_connected(5)
        return service, mcus

    yield make
    for service, mcus in made:
        service.stop()
        for mcu in mcus.values():
            mcu.close()


def serve_one(hub: HubService, counter: int = 1) -> str:
    """A ticket issued, called and finished at `counter` through the hub's own queue (the officer's side)."""
    n = len(hub.queue.db.execute("SELECT id FROM tickets").fetchall()) + 1
    hub.queue.handle(("kiosk-x", "b1", n), "issue", service="HT")
    for i, action in enumerate(("open", "call_next", "done")):
        hub.queue.handle(("officer", "b1", n * 10 + i), action, counter=counter)
    return hub.db.execute("SELECT label FROM tickets ORDER BY id DESC").fetchone()[0]


def ratings(hub: HubService) -> list[tuple]:
    return hub.db.execute("SELECT counter, level, version FROM ratings ORDER BY ticket_id").fetchall()


def ready(service: BridgeService) -> None:
    wait_until(lambda: all(u.state == "ready" for u in service.units), what="every unit to be ready")


def test_a_rating_key_is_recorded_once_and_the_keypad_says_so(rig: Rig, hub: HubService) -> None:
    service, mcus = rig(("rate1", "rating_keypad", 1, {"hold_off_s": 0.3}))
    ready(service)
    mcus["rate1"].press(1)  # nothing served yet
    wait_until(lambda: mcus["rate1"].feedback == ["refused"], what="refusal shown on the keypad")
    serve_one(hub)
    time.sleep(0.3)
    mcus["rate1"].press(2)
    mcus["rate1"].press(2)  # pressed again at once: filtered
    wait_until(lambda: mcus["rate1"].feedback[-1:] == ["ok"], what="ok shown on the keypad")
    time.sleep(0.3)
    mcus["rate1"].press(7)  # outside the three-level scale
    wait_until(lambda: mcus["rate1"].feedback[-1:] == ["error"], what="error shown for a key off the scale")
    assert ratings(hub) == [(1, 2, 1)]
    unit = service.units[0].status()
    assert unit["ratings_sent"] == 2 and unit["presses_ignored"] == 1 and unit["device"]["kind"] == "rating_keypad"


def test_noise_and_lost_blocks_on_the_line_lose_no_rating(rig: Rig, hub: HubService) -> None:
    service, mcus = rig(("rate1", "rating_keypad", 1, {"hold_off_s": 0.2}))
    ready(service)
    mcu = mcus["rate1"]
    for level in (1, 3, 2):
        serve_one(hub)
        time.sleep(0.25)  # past the hold-off
        answers = len(mcu.feedback)
        mcu.noise(b"\x7e\x09\x10garbage\x00\x7e\x30")
        mcu.drop_blocks = 1  # the key's first block is lost; the firmware resends it
        mcu.press(level)
        wait_until(lambda n=answers: len(mcu.feedback) > n, what="the rating's answer")
    assert [r[1] for r in ratings(hub)] == [1, 3, 2]
    status = service.units[0].status()
    assert sum(status["line_errors"].values()) > 0 and status["state"] == "ready"
    assert mcu.session.counters.retransmits >= 3


def test_unplugged_keypad_comes_back_on_the_same_path(rig: Rig, hub: HubService) -> None:
    service, mcus = rig(("rate1", "rating_keypad", 1, {}))
    ready(service)
    mcus["rate1"].unplug()
    wait_until(lambda: service.units[0].link.state == "closed", what="the bridge to notice the unplug")
    mcus["rate1"].plug()
    ready(service)
    serve_one(hub)
    mcus["rate1"].press(1)
    wait_until(lambda: ratings(hub) == [(1, 1, 1)], what="a rating after the replug")
    assert service.units[0].link.opened == 2


def test_ratings_pressed_while_the_broker_is_down_survive_a_killed_bridge(
        tmp_path: Path, broker: Broker, hub: HubService) -> None:
    mcu = FakeMcu("rating_keypad", tmp_path, name="rate1").plug()
    config = write_bridge_config(tmp_path, broker.port, [{"port": str(mcu.path), "kind": "rating_keypad",
                                                          "counter": 1}])
    bridge = RoleProcess("bridge", config, tmp_path / "bridge.log", command=("bridge", "run")).start()
    try:
        wait_until(lambda: mcu.received, what="the bridge process to open the port")
        serve_one(hub)
        broker.stop()
        mcu.press(3)
        outbox = tmp_path / "bridge-1" / "bridge-outbox.db"
        wait_until(lambda: outbox.exists() and _rows(outbox) == 1, what="the rating stored in the outbox")
        bridge.kill()  # power cut on the bridge's machine while the rating waits
        broker.start()
        bridge.start()
        wait_until(lambda: ratings(hub) == [(1, 3, 1)], timeout=30, what="the rating after restart")
        wait_until(lambda: _rows(outbox) == 0, what="the outbox emptied by the hub's answer")
    finally:
        bridge.stop()
        mcu.close()


def _rows(outbox: Path) -> int:
    import sqlite3

    with sqlite3.connect(outbox) as db:
        return db.execute("SELECT count(*) FROM outbox").fetchone()[0]


def test_counter_keypad_calls_and_its_display_follows(rig: Rig, hub: HubService) -> None:
    service, mcus = rig(("keys3", "counter_keypad", 3, {"officer": "Nguyễn Văn An"}), ("led3", "led_display", 3, {}))
    ready(service)
    wait_until(lambda: mcus["led3"].shown[-1:] == ["--"], what="a closed counter shown as --")
    keys = mcus["keys3"]
    keys.press(4)  # done, with nobody called: the hub refuses
    wait_until(lambda: keys.feedback[-1:] == ["refused"], what="refusal")
    hub.queue.handle(("kiosk-x", "b1", 1), "issue", service="CT")  # counter 3 serves CT
    label = hub.db.execute("SELECT label FROM tickets").fetchone()[0]
    for code in (7, 1):  # open, then call next
        n = len(keys.feedback)
        keys.press(code)
        wait_until(lambda n=n: len(keys.feedback) > n, what="the hub's answer")
    assert keys.feedback[-2:] == ["ok", "ok"]
    wait_until(lambda: mcus["led3"].shown[-1:] == [label] and keys.shown[-1:] == [label], what="number shown")
    assert hub.db.execute("SELECT officer FROM counters WHERE id=3").fetchone()[0] == "Nguyễn Văn An"
    mcus["led3"].reboot()  # the display restarts blank; the bridge shows the number again
    wait_until(lambda: mcus["led3"].shown.count(label) == 2, what="number shown again after a reboot")


def test_a_device_of_another_kind_is_refused(rig: Rig, hub: HubService) -> None:
    service, mcus = rig(("p1", "rating_keypad", 1, {}), device_kinds={"p1": "led_display"})
    wait_until(lambda: service.units[0].link.state == "wrong_device", what="wrong device noticed")
    assert "led_display" in service.units[0].status()["last_error"]
    serve_one(hub)
    mcus["p1"].press(1)
    assert ratings(hub) == []


def test_device_state_carries_every_unit(rig: Rig, make_client) -> None:  # noqa: ANN001
    watcher = make_client("watcher", role="cli")
    states = []
    watcher.subscribe(watcher.topics.device_state("bridge-1"), lambda m, _: states.append(m.body))
    service, _ = rig(("rate1", "rating_keypad", 1, {}))
    ready(service)
    wait_until(lambda: any(s["detail"].get("units", [{}])[0].get("state") == "ready" for s in states),
               what="a state naming the ready unit")
    assert states[-1]["role"] == "bridge"


@pytest.mark.parametrize(("units", "problem"), [
    ([], "bridge.units: no units"),
    ([{"port": "/dev/ttyACM0", "kind": "rating_keypad", "counter": 1}] * 2, "already used"),
    ([{"port": "/dev/ttyACM0", "kind": "keypad", "counter": 1}], "bridge.units[0].kind"),
    ([{"port": "/dev/ttyACM0", "kind": "rating_keypad", "counter": 1, "baud": 1234}], "bridge.units[0].baud"),
    ([{"port": "/dev/ttyACM0", "kind": "rating_keypad"}], "bridge.units[0].counter: missing"),
])
def test_config_mistakes_name_the_key(tmp_path: Path, units: list, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        load_bridge(str(write_bridge_config(tmp_path, 1883, units)))


def test_a_missing_port_is_retried_until_it_appears(rig: Rig, tmp_path: Path) -> None:
    service, mcus = rig(("late", "rating_keypad", 1, {}))
    mcus["late"].unplug()
    mcus["late"].path.unlink()
    wait_until(lambda: "No such file" in service.units[0].status()["last_error"], what="the open failure recorded")
    mcus["late"].plug()
    ready(service)


def test_probe_tells_ward_it_who_is_on_a_port(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from provisioning.cli import cli

    mcu = FakeMcu("led_display", tmp_path, name="led9", serial_no="LED-0042").plug()
    try:
        result = CliRunner().invoke(cli, ["bridge", "probe", str(mcu.path), "--show", "88"])
        assert result.exit_code == 0, result.output
        status = json.loads(result.stdout)  # the log (a port that hiccups is reopened) goes to stderr
        assert status["device"] == {"kind": "led_display", "firmware": "1.2", "serial": "LED-0042", "keys": 3}
        assert mcu.shown == ["88"]
    finally:
        mcu.close()
    missing = CliRunner().invoke(cli, ["bridge", "probe", str(tmp_path / "nothing"), "--timeout", "0.5"])
    assert missing.exit_code == 1 and "No such file" in json.loads(missing.stdout)["last_error"]


def test_config_check_knows_the_bridge(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from provisioning.cli import cli

    good = write_bridge_config(tmp_path, 1883, [{"port": "/dev/ttyACM0", "kind": "led_display", "counter": 2}])
    assert "valid bridge config" in CliRunner().invoke(cli, ["config", "check", str(good)]).output
    bad = write_bridge_config(tmp_path, 1883, [{"port": "/dev/ttyACM0", "kind": "led_display", "counter": 0}])
    result = CliRunner().invoke(cli, ["config", "check", str(bad)])
    assert result.exit_code == 1 and "bridge.units[0].counter: expected at least 1, got 0" in result.output


def test_a_failing_handler_does_not_stop_the_link(tmp_path: Path) -> None:
    from firmware_bridge.link import Link

    mcu = FakeMcu("rating_keypad", tmp_path, name="k").plug()
    got: list[int] = []

    def handler(msg) -> None:  # noqa: ANN001
        got.append(msg.args[0])
        if len(got) == 1:
            raise RuntimeError("a bug in a unit")

    link = Link(str(mcu.path), 115200, "rating_keypad", on_message=handler)
    link.start()
    try:
        wait_until(lambda: link.state == "ready", what="ready")
        mcu.press(1)
        wait_until(lambda: got == [1], what="first key")
        mcu.press(2)
        wait_until(lambda: got == [1, 2], what="the key after the failure")
        assert link.state == "ready"
    finally:
        link.stop()
        mcu.close()
