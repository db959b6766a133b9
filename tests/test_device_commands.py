# Ward IT's commands carried out once and in time, identify, test print, reload, and a factory reset that loses nothing.
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from click.testing import CliRunner
from gpiozero.pins.mock import MockFactory
from paho.mqtt.enums import CallbackAPIVersion

from bus.client import BusClient
from bus.config import BrokerSection
from bus.device_commands import Device, DeviceCommands, command_body
from bus.errors import AccessRefused
from bus.lifecycle import running
from bus.messages import Message, decode
from devkit.broker import Broker
from hub.service import HubService
from provisioning.cli import cli
from rating.config import load_rating
from rating.main import RESET as RATING_RESET
from tests.conftest import WARD, wait_until

RATINGS = 5


def rating_config(tmp: Path, port: int, name: str = "rating-1", extra: str = "") -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(f'[device]\nid = "{name}"\nrole = "rating"\nward = "{WARD}"\ndata_dir = "{tmp / name}"\n\n'
                    f'[broker]\nport = {port}\n\n[rating]\ncounter = 1\npins = [5, 6, 13]\n{extra}',
                    encoding="utf-8")
    return path


class RatingDevice:
    """A rating keypad's bus side as rating/main.py wires it: its outbox, its commands; `restart` stands for
    systemd starting the service again after the command stopped it."""

    def __init__(self, config_path: Path, pin_factory: object = None) -> None:
        self.path = config_path
        self.config, self.section = load_rating(str(config_path))
        self.restarted = threading.Event()
        self.pin_factory = pin_factory
        self.bus = self._start()

    def _start(self) -> BusClient:
        bus = BusClient(self.config.broker, WARD, self.config.device.id, "rating",
                        outbox_path=self.config.data_dir / "rating-outbox.db", counters=(1,))
        self.commands = DeviceCommands(bus, Device(self.config, load_rating, reset=RATING_RESET,
                                                   pin_factory=self.pin_factory), restart=self.restarted.set)
        bus.start()
        return bus

    def rate(self, ticket_id: int) -> None:
        self.bus.send_durable(self.bus.topics.rating, "rating.submit",
                              {"counter": 1, "level": 1, "scale": 3, "ticket_id": ticket_id, "left_s": 1})

    def restart(self) -> None:
        """What the next start does: the pending reset carried out before anything opens, then a new client."""
        assert self.restarted.wait(10), "the device did not stop itself after the reset"
        self.bus.stop()
        if self.commands.button is not None:
            self.commands.button.close()
        with running(self.config, RATING_RESET):
            pass
        self.restarted.clear()
        self.bus = self._start()

    def stop(self) -> None:
        self.bus.stop()
        if self.commands.button is not None:
            self.commands.button.close()


@pytest.fixture
def it(make_client: Callable[..., BusClient]) -> BusClient:
    client = make_client("it", role="cli")
    assert client.wait_connected(5)
    return client


def ask(it: BusClient, device: str, body: dict, timeout: float = 10) -> dict:
    reply = it.request(it.topics.device_command(device), "device.command", body, timeout=timeout)
    assert reply is not None, f"{device} did not answer {body['command']}"
    return reply.body


def served(make_client: Callable[..., BusClient], issue: Callable[..., list[str]], n: int) -> list[int]:
    """n tickets issued, called, served and finished at counter 1 (by the console): each may then be rated once."""
    officer = make_client("console", role="console")
    officer.wait_connected(5)
    ids = []
    for _ in range(n):
        issue(1)
        for action in ("open", "call_next", "start", "done"):
            reply = officer.request(officer.topics.counter_command(1), "counter.command",
                                    {"action": action, "counter": 1}, timeout=5)
            assert reply is not None
            if action == "call_next":
                ids.append(reply.body["ticket"]["id"])
    return ids


def hub_ratings(hub_config_dir: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(hub_config_dir / "hub" / "hub.db") as db:
        return db.execute("SELECT ticket_id, version FROM ratings ORDER BY ticket_id").fetchall()


def test_a_command_is_carried_out_once_and_only_in_time(hub: HubService, it: BusClient, make_client) -> None:  # noqa: ANN001
    body = command_body("ping")
    assert ask(it, "hub", body)["ok"]
    again = ask(it, "hub", body)  # the same command sent again (a replay, or the broker's redelivery)
    assert not again["ok"] and again["result"]["refused"] == "replayed"
    late = ask(it, "hub", command_body("ping", ttl_s=-1))
    assert not late["ok"] and late["result"]["refused"] == "expired" and "expired 1 s ago" in late["result"]["reason"]
    far = ask(it, "hub", command_body("ping", ttl_s=3600))
    assert not far["ok"] and far["result"]["refused"] == "expired" and "more than the 600 s" in far["result"]["reason"]
    kiosk = make_client("kiosk-4")
    kiosk.wait_connected(5)
    with pytest.raises(AccessRefused, match="kiosk account 'kiosk-4' may not send device commands"):
        ask(kiosk, "hub", command_body("restart"))
    # sent anyway, past its own client (a broker without the ward's access list lets it through): the hub refuses
    answers: list[Message] = []
    raw = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="rogue")
    raw.on_message = lambda c, u, m: answers.append(decode(m.payload))
    raw.connect("127.0.0.1", hub.config.broker.port)
    raw.subscribe(kiosk.topics.reply("kiosk-4"), qos=1)
    raw.loop_start()
    try:
        rogue = kiosk.message("device.command", command_body("restart"), corr="rogue-1")
        raw.publish(kiosk.topics.device_command("hub"), rogue.encode(), qos=1)
        wait_until(lambda: answers, what="the hub's refusal")
    finally:
        raw.loop_stop()
        raw.disconnect()
    refused = answers[0].body
    assert not refused["ok"] and refused["result"]["refused"] == "not_allowed"
    console = make_client("console", role="console")
    console.wait_connected(5)
    reset = ask(console, "hub", command_body("factory_reset"))
    assert not reset["ok"] and "only from ward IT's account 'it'" in reset["result"]["reason"]
    assert hub.bus.rejected.as_dict()["command"] >= 4
    seen = json.loads((hub.config.data_dir / "commands-seen-hub.json").read_text())
    assert body["id"] in seen  # kept on disk: a restart does not make an old command new again


def test_a_command_id_stays_used_across_a_restart_and_a_damaged_list_starts_empty(tmp_path: Path) -> None:
    from bus.seen_commands import SeenCommands

    path = tmp_path / "commands-seen-hub.json"
    assert SeenCommands(path).admit("c1", expires=2000.0, now=1000.0)
    restarted = SeenCommands(path)  # the device restarted (or was reset): the old command is still old
    assert not restarted.admit("c1", expires=2000.0, now=1500.0)
    assert restarted.admit("c2", expires=2000.0, now=1500.0)
    later = SeenCommands(path)
    assert later.admit("c3", expires=5000.0, now=3000.0) and set(later.ids) == {"c3"}  # the expired are forgotten
    for damaged, kept in ((b"{not json", {}), (b"[1, 2]", {}), (b"\xff\xfe", {}),
                          (b'{"x": true, "y": "soon", "z": 12}', {"z": 12.0})):
        path.write_bytes(damaged)
        assert SeenCommands(path).ids == kept, damaged  # read as what it can say, never a crash at start


def test_reload_applies_what_it_can_and_names_the_rest(hub: HubService, hub_config: Path, it: BusClient) -> None:
    level = logging.getLogger().level
    try:
        _reload(hub, hub_config, it)
    finally:
        logging.getLogger().setLevel(level)  # the reload set this process's level, as a device's


def _reload(hub: HubService, hub_config: Path, it: BusClient) -> None:
    assert ask(it, "hub", command_body("reload"))["result"]["message"] == "nothing changed"
    text = hub_config.read_text(encoding="utf-8")
    hub_config.write_text(text.replace("max_recalls = 3", "max_recalls = 7", 1)
                          .replace('log_level = "info"', 'log_level = "debug"')
                          .replace(f'ward = "{WARD}"', 'ward = "phuong-khac"'), encoding="utf-8")
    result = ask(it, "hub", command_body("reload"))["result"]
    assert result["applied"] == ["device.log_level", "hub.policy.max_recalls"], result
    assert result["needs_restart"] == ["device.ward"]
    wait_until(lambda: hub.hub.policy.max_recalls == 7, what="the worker to apply the new policy")
    assert hub.queue.hub.policy.max_recalls == 7 and hub.bus.topics.ward == WARD
    hub_config.write_text(text.replace("max_recalls = 3", "max_recalls = 99", 1), encoding="utf-8")
    refused = ask(it, "hub", command_body("reload"))
    assert not refused["ok"] and "hub.policy.max_recalls" in refused["result"]["reason"]
    assert "nothing changed" in refused["result"]["reason"] and hub.hub.policy.max_recalls == 7


def test_identify_and_test_print_at_a_kiosk(kiosk_core, printer, it: BusClient) -> None:  # noqa: ANN001
    body = ask(it, "kiosk-1", command_body("identify", {"seconds": 3}))
    assert body["ok"] and body["result"]["host"] and body["result"]["seconds"] == 3
    printed = ask(it, "kiosk-1", command_body("test_print"))
    assert printed["ok"] and printed["result"]["printed"] and printed["result"]["printer"] == "ok"
    assert len(printer.jobs) == 1
    from kiosk.printing.status import PrinterStatus

    printer.state = PrinterStatus.PAPER_OUT
    out = ask(it, "kiosk-1", command_body("test_print"))["result"]
    assert not out["printed"] and out["printer"] == "paper_out" and out["status_vi"].startswith("Máy in hết giấy")
    assert len(printer.jobs) == 1
    bad = ask(it, "kiosk-1", command_body("identify", {"seconds": 500}))
    assert not bad["ok"] and bad["result"]["refused"] == "bad_args" and "1 to 120" in bad["result"]["reason"]


def test_factory_reset_with_the_broker_up_delivers_first(tmp_path: Path, broker: Broker, hub: HubService,
                                                         it: BusClient, make_client, issue) -> None:  # noqa: ANN001
    tickets = served(make_client, issue, RATINGS * 2)
    device = RatingDevice(rating_config(tmp_path, broker.port))
    try:
        device.bus.wait_connected(5)
        (device.config.data_dir / "rating-cache.json").write_text("{}")  # not the role's: a reset leaves it
        # the hub is up: what the outbox holds is delivered before the reset and acknowledged
        hub.stop()  # held back, so the outbox is full when the command arrives
        for t in tickets[:RATINGS]:
            device.rate(t)
        wait_until(lambda: device.bus.outbox.size() == RATINGS, what="the ratings to wait in the outbox")
        restarted = HubService(hub.config, hub.settings.current.hub)
        restarted.start()
        try:
            result = ask(it, "rating-1", command_body("factory_reset", {"wait_s": 15}), timeout=30)
            assert result["ok"], result
            assert result["result"]["delivered"] == RATINGS and result["result"]["exported"] == 0
            device.restart()
            assert "rating-outbox.db" in device.commands.bus.facts["last_reset"]["wiped"]
            assert (device.config.data_dir / "rating-cache.json").exists()
            # the hub is down now: the reset exports what it could not deliver, the next start sends it
            restarted.stop()
            for t in tickets[RATINGS:]:
                device.rate(t)
            wait_until(lambda: device.bus.outbox.size() == RATINGS, what="the ratings to wait again")
            result = ask(it, "rating-1", command_body("factory_reset", {"wait_s": 1}), timeout=30)
            assert result["ok"] and result["result"]["exported"] == RATINGS, result
        finally:
            restarted.stop()
        device.restart()
        assert device.bus.outbox.carried == RATINGS and device.bus.outbox.size() == RATINGS
        again = HubService(hub.config, hub.settings.current.hub)
        again.start()
        try:
            wait_until(lambda: device.bus.outbox.size() == 0, timeout=20, what="the carried ratings delivered")
            assert hub_ratings(tmp_path) == [(t, 1) for t in tickets]  # each rating once, none twice
        finally:
            again.stop()
    finally:
        device.stop()


def test_hold_to_reset_counts_down_and_an_early_release_does_nothing(tmp_path: Path, broker: Broker,
                                                                     hub: HubService, make_client, issue) -> None:  # noqa: ANN001
    tickets = served(make_client, issue, 2)
    factory = MockFactory()
    button = "\n[reset_button]\nhold_s = 6\npin = {}\nled = {}\n"  # 6 s, not the default 10: the suite's time
    held = RatingDevice(rating_config(tmp_path, broker.port, "rating-1", button.format(17, 27)), factory)
    early = RatingDevice(rating_config(tmp_path, broker.port, "rating-2", button.format(22, 23)), factory)
    try:
        held.bus.wait_connected(5)
        broker.stop()  # the broker is down: the reset exports the outbox
        held.rate(tickets[0])
        early.rate(tickets[1])
        for pin in (17, 22):
            factory.pin(pin).drive_low()
        time.sleep(5.0)
        factory.pin(22).drive_high()  # let go at 5 s of 6: nothing happens
        wait_until(lambda: held.commands.button.outcomes == ["reset"], timeout=5, what="the 6 s hold to reset")
        assert early.commands.button.outcomes == ["cancelled"] and not early.restarted.is_set()
        assert not (early.config.data_dir / "factory-reset-rating-2.pending.json").exists()
        assert early.bus.outbox.size() == 1
        # the LED blinks once a second, then fast for the last three: let go now (MockPin keeps each change's
        # time since the one before)
        ons = [sum(s.timestamp for s in factory.pin(27).states[:i + 1])
               for i, s in enumerate(factory.pin(27).states) if s.state]
        slow = sum(1 for t in ons if t - ons[0] < 2.5)
        fast = sum(1 for t in ons if 3.2 < t - ons[0] < 5.8)
        assert 2 <= slow <= 4 and fast >= 8, ons
        assert factory.pin(23).states[-1].state is False  # off after the early release
        factory.pin(17).drive_high()
        broker.start()
        held.restart()
        wait_until(lambda: held.bus.outbox.size() == 0 == early.bus.outbox.size(), timeout=20,
                   what="the exported rating (and the other keypad's) delivered")
        assert hub_ratings(tmp_path) == [(tickets[0], 1), (tickets[1], 1)]
        factory.pin(22).drive_low()  # a tap identifies
        time.sleep(0.3)
        factory.pin(22).drive_high()
        wait_until(lambda: early.commands.button.outcomes == ["cancelled", "identify"], what="a tap to identify")
    finally:
        held.stop()
        early.stop()


def test_motcua_reset_on_the_device_exports_and_refuses_while_running(tmp_path: Path, broker: Broker) -> None:
    path = rating_config(tmp_path, broker.port)
    config, _ = load_rating(str(path))
    bus = BusClient(BrokerSection(port=1), WARD, "rating-1", "rating", outbox_path=config.data_dir / "rating-outbox.db")
    bus.send_durable(bus.topics.rating, "rating.submit", {"counter": 1, "level": 2, "scale": 3})
    bus.outbox.close()  # type: ignore[union-attr]
    with running(config, RATING_RESET):  # the service runs: the reset is refused, nothing touched
        result = CliRunner().invoke(cli, ["reset", "--factory", "--config", str(path)])
        assert result.exit_code == 1 and "is already running on this machine" in result.output
    result = CliRunner().invoke(cli, ["reset", "--factory", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 outbox entr(ies) exported" in result.output and "wiped rating-outbox.db" in result.output
    assert (config.data_dir / "rating-outbox.db.export.jsonl").exists()
    result = CliRunner().invoke(cli, ["reset", "--factory", "--forget-identity", "--config", str(path)])
    assert result.exit_code == 0 and not path.exists() and "no longer has a ward identity" in result.output
    assert (config.data_dir / "rating-outbox.db.export.jsonl").exists()  # kept for a re-enrolment under the name


def test_the_hub_refuses_a_factory_reset_on_a_day_it_has_issued_tickets(hub: HubService, issue) -> None:  # noqa: ANN001
    assert hub._reset_refusal() is None  # nothing issued today: the hub may be reset
    issue(2)
    refusal = hub._reset_refusal()
    assert refusal is not None and "issued 2 ticket(s) today" in refusal
