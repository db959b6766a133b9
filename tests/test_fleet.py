# Ward IT's view: every device's health from the retained states, and commands to one device, on a real broker.
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from bus import health, messages
from bus.device_commands import DeviceCommands, command_body
from devkit.broker import Broker
from devkit.configs import write_hub_config
from devkit.processes import RoleProcess
from hub.service import HubService
from provisioning.cli import cli
from provisioning.updates import refusal, update_state
from tests.conftest import WARD, wait_until


def run(broker: Broker, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [*args, "--ward", WARD, "--port", str(broker.port)])
    return result.exit_code, result.output


def test_fleet_status_lists_devices_and_what_needs_attention(hub: HubService, broker: Broker, make_client) -> None:  # noqa: ANN001
    sent = hub.catalogue["version"]
    kiosk = make_client("kiosk-7", outbox=True)
    kiosk.state_detail = lambda: {"printer": "paper_out", "hub": "ok", "catalogue": sent - 1}  # missed the last one
    kiosk.wait_connected(5)
    kiosk.publish_state()  # the state sent on connect may predate the detail set above
    current = make_client("kiosk-8")
    current.state_detail = lambda: {"printer": "ok", "hub": "ok", "catalogue": sent}
    current.wait_connected(5)
    current.publish_state()
    gone = make_client("board-2", role="display")
    gone.wait_connected(5)
    gone.stop()  # says goodbye: retained offline
    code, out = run(broker, "ticket", "HT")  # a command-line client leaves no device behind
    assert code == 0, out
    code, out = run(broker, "fleet", "status")
    assert code == 0, out
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert set(lines) == {"hub", "kiosk-7", "kiosk-8", "board-2"}
    assert "online" in lines["hub"] and lines["hub"].rstrip().endswith("-")
    assert "printer: paper_out" in lines["kiosk-7"]
    assert f"procedure catalogue version {sent - 1}, the hub's is {sent}" in lines["kiosk-7"]
    assert lines["kiosk-8"].rstrip().endswith("-")  # on the hub's catalogue: nothing to look at
    assert "offline" in lines["board-2"]
    code, out = run(broker, "fleet", "status", "--json", "--check")
    assert code == 1
    rows = {r["device"]: r for r in json.loads(out)}
    assert rows["kiosk-7"]["role"] == "kiosk" and rows["kiosk-7"]["detail"]["printer"] == "paper_out"


def test_since_says_when_a_device_started_or_stopped_not_when_it_last_said_so(broker: Broker, make_client) -> None:  # noqa: ANN001
    """The column showed each state's own time: an online device's last refresh (a minute ago at most, whatever
    happened), and for one that vanished the time it had started, as if it went offline then."""
    import time

    from bus.config import BrokerSection
    from provisioning.fleet import fleet_rows

    def rows() -> dict[str, dict]:
        return {r["device"]: r for r in fleet_rows(BrokerSection(port=broker.port), WARD, settle_s=0.3)}

    running, leaving, vanishing = (make_client(name) for name in ("kiosk-1", "kiosk-2", "kiosk-3"))
    for c in (running, leaving, vanishing):
        c.wait_connected(5)
    started = health.local(running.facts["up_since"])
    time.sleep(1.1)  # the refresh below is a second later by the clock states are written with
    running.publish_state()
    stopping = health.local(messages.now_ts())
    leaving.stop()
    stopped = health.local(messages.now_ts())
    vanishing._mqtt._sock.close()  # the cable is pulled: the broker publishes its last will
    wait_until(lambda: rows().get("kiosk-3", {}).get("status") == "offline", timeout=60, what="the last will")
    now = rows()
    assert now["kiosk-1"]["since"] == started and now["kiosk-1"]["status"] == "online"
    assert now["kiosk-2"]["status"] == "offline" and now["kiosk-2"]["since"] in (stopping, stopped)
    assert now["kiosk-3"]["since"] == "-"


def test_device_commands_answer_and_refuse_clearly(hub: HubService, broker: Broker) -> None:
    code, out = run(broker, "device", "ping", "hub")
    assert code == 0, out
    body = json.loads(out)
    assert body["ok"] and body["result"]["role"] == "hub" and body["result"]["boot"] == hub.bus.boot
    code, out = run(broker, "device", "status", "hub")
    assert code == 0 and json.loads(out)["result"]["detail"]["day"]
    code, out = run(broker, "device", "log-level", "hub", "debug")
    assert code == 0 and json.loads(out)["result"] == {"level": "debug"}
    code, out = run(broker, "device", "ping", "kiosk-99", "--timeout", "1")
    assert code == 1 and "kiosk-99 did not answer within 1.0 s" in out
    code, out = run(broker, "device", "log-level", "hub", "loud")
    assert code == 2 and "Invalid value" in out and "'loud' is not one of" in out


def test_unknown_commands_get_the_list_of_known_ones(broker: Broker, make_client) -> None:  # noqa: ANN001
    restarted = threading.Event()
    target = make_client("bridge-3", role="bridge")
    DeviceCommands(target, restart=restarted.set)
    target.wait_connected(5)
    it = make_client("it", role="cli")
    it.wait_connected(5)
    reply = None
    for _ in range(3):  # the target subscribed after it connected: its SUBSCRIBE may still be on the way
        reply = it.request(it.topics.device_command("bridge-3"), "device.command", command_body("explode"),
                           timeout=2)
        if reply is not None:
            break
    assert reply is not None and not reply.body["ok"]
    assert reply.body["result"]["refused"] == "unknown_command"
    assert ("known: factory_reset, identify, log_level, ping, reload, restart, status"
            in reply.body["result"]["reason"])
    reply = it.request(it.topics.device_command("bridge-3"), "device.command", command_body("restart"), timeout=5)
    assert reply is not None and reply.body["ok"]
    assert restarted.wait(3)  # only after the answer went out


def test_remote_restart_stops_the_hub_cleanly_for_systemd_to_start_again(tmp_path: Path, broker: Broker) -> None:
    from bus.config import BrokerSection
    from provisioning.fleet import wait_online

    hub = RoleProcess("hub", write_hub_config(tmp_path, broker.port), tmp_path / "hub.log").start()
    try:
        wait_online(BrokerSection(port=broker.port), WARD, "hub", timeout=15, alive=hub.check_alive)
        code, out = run(broker, "device", "restart", "hub")
        assert code == 0, out
        proc = hub.proc
        assert proc is not None
        wait_until(lambda: proc.poll() is not None, what="the hub to stop")
        assert proc.returncode == 0  # a clean stop: systemd's Restart=always brings it back
        hub.proc = None
        hub.start()
        wait_online(BrokerSection(port=broker.port), WARD, "hub", timeout=15, alive=hub.check_alive)
    finally:
        hub.stop()


@pytest.mark.parametrize("role", ["hub", "district"])
def test_a_server_on_a_machine_left_in_another_time_zone_says_so(tmp_path: Path, broker: Broker, role: str) -> None:
    """A hub or a collector installed on a Debian machine still at UTC (docs/deploy.md, section 1) writes its log,
    shows the console's times and runs its nightly backup seven hours off the ward's clocks: on the fleet page and
    in its log, with the command that sets it. (The demo's, on the ward's zone, say nothing: tests/test_demo.py.)"""
    from bus.config import BrokerSection
    from devkit.configs import write_district_config
    from provisioning.fleet import fleet_rows, wait_online

    config, ward, name = (write_hub_config(tmp_path, broker.port), WARD, "hub") if role == "hub" else \
        (write_district_config(tmp_path, broker.port, [WARD]), "district", "collector-1")
    server = RoleProcess(role, config, tmp_path / "server.log", command=("run",), env={"TZ": "UTC"}).start()
    try:
        wait_online(BrokerSection(port=broker.port), ward, name, timeout=15, alive=server.check_alive)
        row = next(r for r in fleet_rows(BrokerSection(port=broker.port), ward) if r["device"] == name)
    finally:
        server.stop()
    assert "this machine's time zone is UTC+00:00, its config's (Asia/Ho_Chi_Minh) UTC+07:00: its log, the times it " \
           "shows and its timers (the nightly backup) are off the ward's clocks (sudo timedatectl set-timezone " \
           "Asia/Ho_Chi_Minh)" in row["problems"], row["problems"]
    assert f"{role}.timezone's (Asia/Ho_Chi_Minh) UTC+07:00" in (tmp_path / "server.log").read_text()


def test_one_run_command_starts_any_role(tmp_path: Path, broker: Broker) -> None:
    from bus.config import BrokerSection
    from devkit.configs import write_bridge_config
    from firmware_bridge.fake_mcu import FakeMcu
    from provisioning.fleet import wait_online

    mcu = FakeMcu("led_display", tmp_path, name="led1").plug()
    config = write_bridge_config(tmp_path, broker.port, [{"port": str(mcu.path), "kind": "led_display",
                                                          "counter": 1}])
    bridge = RoleProcess("bridge", config, tmp_path / "bridge.log", command=("run",)).start()
    try:
        wait_online(BrokerSection(port=broker.port), WARD, "bridge-1", timeout=15, alive=bridge.check_alive)
        wait_until(lambda: mcu.shown == ["--"], what="the bridge to drive its display")
    finally:
        bridge.stop()
        mcu.close()
    bad = tmp_path / "bad.toml"
    bad.write_text('[device]\nid = "x"\nrole = "toaster"\nward = "w"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "--config", str(bad)])
    assert result.exit_code == 1 and "device.role: 'toaster' is not one of hub, kiosk" in result.output


def test_services_tell_systemd_they_are_ready_and_kick_the_watchdog(tmp_path: Path, broker: Broker) -> None:
    """A real notify socket, as systemd gives a Type=notify service with WatchdogSec=2."""
    import socket

    from devkit.configs import write_district_config

    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    config = write_district_config(tmp_path, broker.port, [WARD])
    proc = RoleProcess("district", config, tmp_path / "district.log", command=("run",),
                       env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}).start()
    try:
        said = [sock.recv(256).decode() for _ in range(4)]
        proc.stop()
        while said[-1] != "STOPPING=1":  # told as the stop begins (recv times out after 10 s if never)
            said.append(sock.recv(256).decode())
    finally:
        proc.stop()
        sock.close()
    assert "READY=1" in said and said.count("WATCHDOG=1") >= 2


def test_an_online_state_nobody_refreshed_is_called_stale(broker: Broker, make_client) -> None:  # noqa: ANN001
    """A device that died while the broker itself was down leaves a retained 'online' behind (its last will
    never fired); live devices refresh their state every minute, so an old one is flagged."""
    from datetime import UTC, datetime, timedelta

    from bus.messages import Message

    it = make_client("old-news", role="cli")
    it.wait_connected(5)
    ts = (datetime.now(UTC) - timedelta(minutes=10)).isoformat(timespec="milliseconds")
    ghost = Message(type="device.state", device="kiosk-9", boot="0bad", seq=1, ts=ts,
                    body={"status": "online", "role": "kiosk", "version": "0.1.0", "detail": {}})
    it.publish(it.topics.device_state("kiosk-9"), ghost, retain=True).wait_for_publish(5)
    live = make_client("kiosk-8")
    live.wait_connected(5)
    code, out = run(broker, "fleet", "status", "--check")
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert code == 1 and "no news for 10 min" in lines["kiosk-9"], out
    assert lines["kiosk-8"].rstrip().endswith("-")



def test_a_device_speaking_another_contract_is_named(broker: Broker, make_client) -> None:  # noqa: ANN001
    """A device left on a release with another contract cannot be read by the rest of the ward; the fleet table
    says so instead of leaving it out."""
    import dataclasses

    from bus.messages import Message

    it = make_client("new-release", role="cli")
    it.wait_connected(5)
    ahead = Message(type="device.state", device="kiosk-7", boot="0b0b", seq=1, ts="2026-12-02T08:00:00.000+07:00",
                    body={"status": "online", "role": "kiosk", "version": "9.0", "detail": {}})
    it.publish(it.topics.device_state("kiosk-7"), dataclasses.replace(ahead, v=2), retain=True).wait_for_publish(5)
    code, out = run(broker, "fleet", "status", "--check")
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert code == 1 and "speaks contract v2, this motcua v1" in lines["kiosk-7"], out


DETAIL_WORDS = ("outbox", "outbox_in_memory", "damaged_copies", "repaired", "update", "hub", "printer", "gateway",
                "database", "store", "day_held", "day", "upstream", "units", "kiosk_clocks", "catalogue", "reason",
                "files", "folder", "unreadable", "state", "failed", "release", "failing", "free_mb", "last_backup",
                "age_h", "slowest_commit_ms", "backlog", "connected", "out_h", "at")
ANY_JSON = st.recursive(
    st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(DETAIL_WORDS) | st.text(max_size=3),
                                                                inner | st.none(), max_size=5), max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(role=st.sampled_from(("hub", "kiosk", "display", "notify", "district", "bridge", "rating")), detail=ANY_JSON,
       hub_detail=ANY_JSON, status=st.sampled_from(("online", "offline")), lang=st.sampled_from(("en", "vi")))
def test_a_device_state_whatever_its_free_form_detail_never_breaks_the_fleets_view(
        role: str, detail: object, hub_detail: object, status: str, lang: str) -> None:
    """`detail` is free-form JSON in the contract: `motcua fleet status`, the console's fleet page and `fleet update`
    read whatever a device (a bug, an older or newer release, an attacker with its account) puts there. Before, a
    `repaired` list holding a null, a `reason` that was a list or a detail that was not an object broke them all."""
    state = messages.make("device.state", "dev-1", "abcd", 1, {"status": status, "role": role, "detail": detail})
    hub = messages.make("device.state", "hub", "abcd", 1, {"status": "online", "role": "hub", "detail": hub_detail})
    rows = health.across([health.row("dev-1", state, lang), health.row("hub", hub, lang)], lang)
    assert all(isinstance(p, str) for r in rows for p in r["problems"])
    update_state(state.body)
    said = refusal(messages.make("device.reply", "dev-1", "abcd", 2, {"command": "update", "ok": False,
                                                                     "result": detail}).body)
    assert said == (str(detail.get("reason", "refused")) if isinstance(detail, dict) else "refused")


def test_a_board_that_found_no_screen_says_so_on_the_fleet_page(tmp_path: Path, broker: Broker,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A board whose SDL found no display to use (a desktop holding it, no video group) falls back to drawing into
    memory: the process runs, its TV stays dark. Here a machine with no display at all, as a unit starts it."""
    from bus.config import BrokerSection
    from devkit.configs import write_display_config
    from provisioning.fleet import fleet_rows, wait_online

    if list(Path("/dev/dri").glob("card*")):
        pytest.skip("this machine has a DRM device SDL may draw on")
    for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    board = RoleProcess("display", write_display_config(tmp_path, broker.port), tmp_path / "board.log",
                        command=("run",)).start()
    try:
        wait_online(BrokerSection(port=broker.port), WARD, "board-1", timeout=20, alive=board.check_alive)
        row = next(r for r in fleet_rows(BrokerSection(port=broker.port), WARD) if r["device"] == "board-1")
    finally:
        board.stop()
    assert row["status"] == "online"
    assert any(p.startswith("shows nothing: it found no screen and draws into memory ('offscreen'")
               for p in row["problems"]), row["problems"]
    assert "no screen found: SDL draws into memory ('offscreen')" in (tmp_path / "board.log").read_text()


def test_a_hot_device_is_flagged_from_its_kernel_temperature(tmp_path: Path) -> None:
    """A Pi in a closed kiosk cabinet on a hot afternoon: the state carries the kernel's temperature, the fleet
    page flags it from the heat at which a Pi starts to slow itself."""
    from bus.sensors import temperature_c

    zone = tmp_path / "temp"
    zone.write_text("83456\n", encoding="ascii")  # as /sys/class/thermal/thermal_zone0/temp: millidegrees
    assert temperature_c(zone) == 83.5
    assert temperature_c(tmp_path / "no-such-zone") is None  # a VM or a container shows none
    (tmp_path / "odd").write_text("warm", encoding="ascii")
    assert temperature_c(tmp_path / "odd") is None
    said = health.problems("kiosk", "online", {"temperature_c": 83.5})
    assert len(said) == 1 and said[0].startswith("hot: 83.5 °C (a Raspberry Pi slows itself from 80 °C"), said
    assert health.problems("kiosk", "online", {"temperature_c": 83.5}, lang="vi")[0].startswith("quá nóng: 83.5 °C")
    assert health.problems("kiosk", "online", {"temperature_c": 61.0}) == []
    assert health.problems("kiosk", "online", {"temperature_c": "very"}) == []  # a state's detail is free-form


def test_a_pi_whose_supply_dipped_is_flagged_from_its_firmware_alarm(tmp_path: Path) -> None:
    """The kernel's hwmon device for a Raspberry Pi's firmware (`rpi_volt`), among others, as in /sys/class/hwmon."""
    from bus.sensors import under_voltage

    for index, name in enumerate(("cpu_thermal", "rpi_volt")):
        (tmp_path / f"hwmon{index}").mkdir()
        (tmp_path / f"hwmon{index}" / "name").write_text(f"{name}\n", encoding="ascii")
    alarm = tmp_path / "hwmon1" / "in0_lcrit_alarm"
    alarm.write_text("1\n", encoding="ascii")
    assert under_voltage(tmp_path) is True
    alarm.write_text("0\n", encoding="ascii")
    assert under_voltage(tmp_path) is False
    (tmp_path / "hwmon1" / "name").write_text("other\n", encoding="ascii")
    assert under_voltage(tmp_path) is None  # not a Pi
    said = health.problems("board", "online", {"under_voltage_seen": "2026-12-07T14:05:00+07:00"})
    assert len(said) == 1 and said[0].startswith("power supply too weak: its voltage dipped at 2026-12-07 "), said
    assert health.problems("board", "online", {"under_voltage_seen": 1}) == []  # a state's detail is free-form


def test_only_a_raspberry_pi_is_judged_by_a_pis_heat(tmp_path: Path) -> None:
    from bus.sensors import raspberry_pi

    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 4 Model B Rev 1.5\x00")  # as /proc/device-tree/model
    assert raspberry_pi(model)
    model.write_bytes(b"Some PC board\x00")
    assert not raspberry_pi(model) and not raspberry_pi(tmp_path / "none")


AT = "2026-12-07T22:25:10+00:00"  # as a device writes a time: UTC, with its offset


@pytest.mark.parametrize(("role", "detail"), [
    ("hub", {"database": {"failing": "disk I/O error", "since": AT}}),
    ("hub", {"database": {"slowest_commit_ms": 4200, "slowest_commit_at": AT}}),
    ("hub", {"repaired": [{"file": "hub.db", "problem": "malformed", "at": AT, "rows_kept": 9}]}),
    ("hub", {"kiosk_clocks": {"kiosk-1": {"out_h": -13.8, "at": AT}}}),
    ("district", {"store": {"failing": "database or disk is full", "since": AT}}),
    ("notify", {"gateway": {"ok": False, "kind": "sms", "error": "modem unplugged", "since": AT}, "waiting": 2}),
    ("display", {"voice": {"failing": "no such ALSA device", "since": AT}}),
    ("kiosk", {"under_voltage_seen": AT}),
])
def test_every_time_in_a_problem_reads_as_this_machine_s_clock_does(role: str, detail: dict) -> None:
    """Three of them showed the device's UTC text ("since 2026-12-07T22:25:10+00:00") beside others in local
    time: ward IT at 05:25 in Hà Nội read "22:25" on the fleet page, and no log line at that time."""
    shown = health.local(AT)
    for lang in ("en", "vi"):
        said = "; ".join(health.problems(role, "online", detail, lang=lang))
        assert shown in said and AT not in said, said
