# `motcua backup` and `motcua restore` on an enrolled hub's files: a consistent copy while it issues, a new card after.
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import threading
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus.client import BusClient
from bus.config import BrokerSection, build
from bus.health import problems
from devkit.broker import free_port
from devkit.configs import write_hub_config
from hub.config import load_hub
from hub.service import HubService
from provisioning.backup import MANIFEST, back_up, backups, restore
from provisioning.backup_schedule import SERVICE, TIMER, units
from provisioning.cli import cli
from provisioning.errors import ProvisioningError
from provisioning.fleet import wait_online
from tests.conftest import wait_until
from tests.test_deployed_ward import WARD, enrol, ward_broker


def account(etc: Path, name: str) -> BrokerSection:
    raw = tomllib.loads((etc / f"{name}.toml").read_text(encoding="utf-8"))["broker"]
    return build(BrokerSection, raw, name, "broker")


def started_hub(config: Path) -> HubService:
    """The hub from its config, once it said "online" (from then on requests reach it, as in tests/conftest.py)."""
    hub = HubService(*load_hub(str(config)))
    hub.start()
    wait_online(account(config.parent, "hub"), WARD, "hub", timeout=10)
    return hub


def take_ticket(kiosk: BusClient) -> str | None:
    reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
    return reply.body["ticket"]["label"] if reply is not None and reply.type == "ticket.issued" else None


def test_a_hub_backed_up_while_it_issues_comes_back_on_a_new_card_numbering_past_the_backup(tmp_path: Path) -> None:
    """The backup is taken while a kiosk takes tickets as fast as the hub answers: its copy of the hub's database
    holds exactly the first tickets issued, none half-written. The hub's machine then dies: its configs, CA, broker
    files and data folder are gone (a stale -wal left where the database was). Restored from the backup, the broker
    takes the same accounts and certificate, the kiosk's old password works, and the hub's numbering jumps past
    what it may have printed after the backup (A0NN + 101), once."""
    port, tls = free_port(), free_port()
    local = ("--broker-host", "127.0.0.1", "--broker-port", str(port))
    enrol(tmp_path, "hub", "--role", "hub", *local, "--lan-address", "127.0.0.1")
    enrol(tmp_path, "kiosk-1", "--role", "kiosk", *local, "--offline-block", "1", "--printer", f"file:{tmp_path}/p")
    etc, dest = tmp_path / "etc", tmp_path / "usb"
    database = load_hub(str(etc / "hub.toml"))[0].data_dir / "hub.db"
    broker = ward_broker(tmp_path, port, tls).start()
    hub = started_hub(etc / "hub.toml")
    kiosk = BusClient(account(etc, "kiosk-1"), WARD, "kiosk-1", "kiosk")
    kiosk.start()
    issued: list[str] = []
    done = threading.Event()

    def keep_taking() -> None:
        while not done.is_set():
            if (label := take_ticket(kiosk)) is not None:
                issued.append(label)

    taker = threading.Thread(target=keep_taking)
    try:
        assert kiosk.wait_connected(10)
        taker.start()
        wait_until(lambda: len(issued) >= 20, what="20 tickets")
        before = len(issued)
        umask = os.umask(0o077)  # root's, as some images set it
        try:
            result = CliRunner().invoke(cli, ["backup", "--to", str(dest), "--config", str(etc / "hub.toml"),
                                              "--password-file", str(tmp_path / "passwd"), "--acl-file",
                                              str(tmp_path / "acl"), "--cert-dir", str(tmp_path / "certs")])
        finally:
            os.umask(umask)
        assert result.exit_code == 0, result.output
    finally:
        done.set()
        if taker.is_alive():
            taker.join(10)
        kiosk.stop()
        hub.stop()
        broker.stop()
    [made] = backups(dest, "hub")
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    assert stat.S_IMODE((database.parent / "last-backup.json").stat().st_mode) == 0o644  # the hub's user reads it
    last = hub.database.status()["last_backup"]  # what the hub's state tells fleet status
    assert last["folder"] == str(made) and 0 <= last["age_h"] < 0.1
    assert not [p for p in problems("hub", "online", {"database": {"last_backup": last}}) if "backup" in p]
    missed = problems("hub", "online", {"database": {"last_backup": {**last, "age_h": 50.0}}})
    assert f"last backup 2 days ago, into {made} (is the backup disk in? docs/deploy.md, section 8)" in missed
    manifest = json.loads((made / MANIFEST).read_text(encoding="utf-8"))
    places = {e["path"]: e for e in manifest["files"]}
    for needed in (etc / "hub.toml", etc / "kiosk-1.toml", etc / "ca" / "ward-ca.key", tmp_path / "passwd",
                   tmp_path / "acl", tmp_path / "certs" / "motcua-broker.key", database):
        assert needed.as_posix() in places, needed
    assert places[database.as_posix()]["database"] and places[database.as_posix()]["numbering"]
    assert all(stat.S_IMODE((made / e["stored"]).stat().st_mode) == 0o600 for e in manifest["files"])
    with sqlite3.connect(made / places[database.as_posix()]["stored"]) as copy:
        labels = [r[0] for r in copy.execute("SELECT label FROM tickets WHERE status != 'void' ORDER BY rowid")]
    assert before <= len(labels) <= len(issued) and labels == issued[:len(labels)]  # a moment of the hub, whole

    originals = {p: Path(p).read_bytes() for p, e in places.items() if not e["database"]}
    staged = tmp_path / "new-card"
    result = CliRunner().invoke(cli, ["restore", str(made), "--root", str(staged)])
    assert result.exit_code == 0, result.output
    assert f"next, as root: motcua install --config {etc / 'hub.toml'}; systemctl restart mosquitto" in result.output
    for place, content in originals.items():
        assert (staged / place.lstrip("/")).read_bytes() == content, place
        assert stat.S_IMODE((staged / place.lstrip("/")).stat().st_mode) == places[place]["mode"], place

    for gone in (etc, database.parent, tmp_path / "certs"):  # the card dies
        shutil.rmtree(gone)
    (tmp_path / "passwd").unlink()
    (tmp_path / "acl").unlink()
    database.parent.mkdir(parents=True)
    Path(f"{database}-wal").write_bytes(os.urandom(4096))  # left by another database: it must not be read with ours
    assert restore(made, Path("/"), say=lambda _: None) == len(manifest["files"])
    assert not Path(f"{database}-wal").exists()

    broker = ward_broker(tmp_path, port, tls).start()
    hub = started_hub(etc / "hub.toml")
    kiosk = BusClient(account(etc, "kiosk-1"), WARD, "kiosk-1", "kiosk")
    kiosk.start()
    try:
        assert kiosk.wait_connected(10), kiosk.refused_by_broker
        last = int(labels[-1][1:])
        assert take_ticket(kiosk) == f"A{last + 101:03d}"  # past anything printed after the backup
        assert not Path(f"{database}.restored").exists()
    finally:
        kiosk.stop()
        hub.stop()
    hub = started_hub(etc / "hub.toml")  # the next start does not jump again
    kiosk = BusClient(account(etc, "kiosk-1"), WARD, "kiosk-1", "kiosk")
    kiosk.start()
    try:
        assert kiosk.wait_connected(10)
        assert take_ticket(kiosk) == f"A{last + 102:03d}"
    finally:
        kiosk.stop()
        hub.stop()
        broker.stop()


def folder_with_a_database(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "notes.db") as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE notes(text TEXT)")
        db.execute("INSERT INTO notes VALUES ('Phường Bến Nghé')")
    (data / "settings.json").write_text('{"a": 1}', encoding="utf-8")
    (data / "offered").mkdir()
    (data / "offered" / "big.whl").write_bytes(b"x" * 1000)  # the release shelf is not backed up
    (data / "old.db.damaged-20261201T000000").write_bytes(b"junk")  # nor a repair's damaged copy
    return data


def test_only_the_newest_backups_are_kept_and_one_cut_short_never_counts(tmp_path: Path) -> None:
    data, dest = folder_with_a_database(tmp_path), tmp_path / "usb"
    dest.mkdir()
    (dest / ".partial-motcua-backup-hub-20261201T000000Z").mkdir()  # a power cut in an earlier run
    (dest / "motcua-backup-hub-20261130T000000Z").mkdir()  # no manifest: never taken for a backup
    said: list[str] = []
    made = [back_up([data], dest, "hub", keep=2, now=1_796_000_000 + i * 86400, say=said.append) for i in range(3)]
    assert backups(dest, "hub") == [made[2], made[1]]
    assert any("removed the older backup" in s for s in said)
    assert said[-1].startswith(f"note: {dest} is on the same disk as {data}: this backup dies with that card")
    assert not (dest / ".partial-motcua-backup-hub-20261201T000000Z").exists()
    stored = {e["path"] for e in json.loads((made[2] / MANIFEST).read_text())["files"]}
    assert stored == {(data / "notes.db").as_posix(), (data / "settings.json").as_posix()}
    with pytest.raises(ProvisioningError, match="not a motcua backup"):
        restore(dest / "motcua-backup-hub-20261130T000000Z", tmp_path / "root", say=lambda _: None)
    for day in range(2):  # a folder inside what is backed up is not backed up into itself
        inside = back_up([data], data / "backups", "hub", now=1_796_000_000 + day, say=lambda _: None)
    assert {e["path"] for e in json.loads((inside / MANIFEST).read_text())["files"]} == stored


def test_a_damaged_backup_restores_nothing_and_existing_files_are_not_replaced_unasked(tmp_path: Path) -> None:
    data, dest = folder_with_a_database(tmp_path), tmp_path / "usb"
    made = back_up([data], dest, "hub", say=lambda _: None)
    root = tmp_path / "root"
    assert restore(made, root, say=lambda _: None) == 2
    with pytest.raises(ProvisioningError, match=r"2 file\(s\) already exist.*add --force"):
        restore(made, root, say=lambda _: None)
    assert restore(made, root, force=True, say=lambda _: None) == 2
    with sqlite3.connect(root / (data / "notes.db").as_posix().lstrip("/")) as db:
        assert db.execute("SELECT text FROM notes").fetchall() == [("Phường Bến Nghé",)]
    copy = next(made.rglob("settings.json"))
    copy.write_text('{"a": 2}', encoding="utf-8")
    fresh = tmp_path / "fresh"
    result = CliRunner().invoke(cli, ["restore", str(made), "--root", str(fresh)])
    assert result.exit_code == 1 and "is damaged, nothing was restored" in result.output, result.output
    assert "settings.json (checksum differs)" in result.output and not fresh.exists()
    result = CliRunner().invoke(cli, ["restore", str(dest), "--root", str(fresh)])  # the folder of backups
    assert result.exit_code == 1 and f"motcua restore {made}" in result.output, result.output



def test_a_backup_or_restore_that_cannot_write_says_so_in_one_line_and_leaves_nothing_half_made(tmp_path: Path) -> None:
    data = folder_with_a_database(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ProvisioningError, match=f"backing up into {blocker} failed: .*File exists"):
        back_up([data], blocker, "hub", say=lambda _: None)
    made = back_up([data], tmp_path / "usb", "hub", say=lambda _: None)
    root = tmp_path / "root"
    root.mkdir()
    (root / data.parts[1]).write_text("x", encoding="utf-8")  # where the first folder of each place must go
    with pytest.raises(ProvisioningError, match=r"restoring stopped after 0 of 2 files: .*run it again with --force"):
        restore(made, root, say=lambda _: None)

MANIFESTS = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                         lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4), max_leaves=20)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(MANIFESTS, st.fixed_dictionaries({"format": st.just(1), "files": st.lists(
    st.fixed_dictionaries({"path": st.sampled_from(["/../../etc/x", "/a/b", "rel/x", ""]),
                           "stored": st.sampled_from(["files/a/b", "../../x", "/abs", "files/missing"]),
                           "sha256": st.text(max_size=8), "bytes": st.integers(), "mode": st.integers(0, 0o7777),
                           "owner": st.text(max_size=5), "group": st.text(max_size=5), "database": st.booleans()}),
    max_size=3)})), raw=st.one_of(st.none(), st.binary(max_size=40)))
def test_a_hostile_manifest_is_refused_in_words_and_writes_nothing(tmp_path: Path, body: object,
                                                                   raw: bytes | None) -> None:
    """Whatever a backup folder's manifest holds (any JSON, bytes that are not JSON, paths that climb out), restore
    says what is wrong and writes nothing."""
    made = tmp_path / "made"
    shutil.rmtree(made, ignore_errors=True)
    (made / "files" / "a").mkdir(parents=True)
    (made / "files" / "a" / "b").write_text("x", encoding="utf-8")
    (made / MANIFEST).write_bytes(raw if raw is not None else json.dumps(body).encode())
    root = tmp_path / "root"
    with pytest.raises(ProvisioningError):
        restore(made, root, say=lambda _: None)
    assert not root.exists()


def test_the_nightly_timer_runs_the_same_backup_and_systemd_accepts_it(tmp_path: Path) -> None:
    """`--install-timer` writes a service whose command, run as it stands, makes the backup this one made, only
    once the backup disk is mounted, and a timer for the night (and the next boot after a night the hub was off)."""
    config = write_hub_config(tmp_path, 1883)
    (tmp_path / "hub").mkdir()
    sqlite3.connect(tmp_path / "hub" / "hub.db").close()
    image, usb = tmp_path / "image", tmp_path / "usb"
    args = ["backup", "--to", str(usb), "--config", str(config), "--keep", "3", "--password-file",
            str(tmp_path / "passwd"), "--install-timer", "--at", "23:15"]
    result = CliRunner().invoke(cli, [*args, "--root", str(image)])
    assert result.exit_code == 0, result.output
    assert not usb.exists()  # an image being built: nothing backed up here
    folder = image / "etc/systemd/system"
    service, timer = ((folder / name).read_text(encoding="utf-8") for name in (SERVICE, TIMER))
    assert "OnCalendar=*-*-* 23:15:00\nPersistent=true" in timer and "WantedBy=timers.target" in timer
    assert f"RequiresMountsFor={usb}\n" in service
    command = next(line for line in service.splitlines() if line.startswith("ExecStart=")).split()
    assert command[1:] == ["backup", "--to", str(usb), "--config", str(config), "--keep", "3", "--password-file",
                           str(tmp_path / "passwd")]
    ran = CliRunner().invoke(cli, command[1:])  # what the timer will run, each night
    assert ran.exit_code == 0, ran.output
    assert len(backups(usb, "hub")) == 1
    if shutil.which("systemd-analyze"):
        for name in (SERVICE, TIMER):
            verified = subprocess.run(["systemd-analyze", "verify", str(folder / name)], capture_output=True,
                                      text=True)
            assert verified.returncode == 0 and "nknown" not in verified.stderr, verified.stderr
    for bad, said in ((["--at", "25:00"], "--at '25:00' is not a time of day"),
                      (["--to", str(tmp_path / "USB DISK")], "no spaces or quotes")):
        result = CliRunner().invoke(cli, [*args, *bad, "--root", str(image)])
        assert result.exit_code == 1 and said in result.output, result.output
    result = CliRunner().invoke(cli, [*args[:-3], "--root", str(image)])
    assert result.exit_code == 1 and "--root is for --install-timer" in result.output, result.output


@settings(max_examples=300, deadline=None, derandomize=True)
@given(dest=st.text(max_size=30), at=st.text(max_size=8) | st.sampled_from(["22:30", "07:05"]),
       more=st.lists(st.text(max_size=12), max_size=3))
def test_no_argument_can_write_a_line_of_its_own_into_the_units(dest: str, at: str, more: list[str]) -> None:
    """What reaches the timer's units from the command line is refused in words, or stays inside its own setting:
    no newline, quote or `%` specifier can add a directive (an ExecStartPre, say) to a unit run as root."""
    try:
        written = units(Path(dest), Path("/etc/motcua/hub.toml"), 14, at, "/opt/motcua/.venv/bin/motcua", tuple(more))
    except ProvisioningError as exc:
        assert str(exc)
        return
    keys = {"[Unit]", "[Service]", "[Timer]", "[Install]", "Description", "RequiresMountsFor", "After", "Type", "Nice",
            "IOSchedulingClass", "ExecStart", "OnCalendar", "Persistent", "WantedBy"}
    for text in written.values():
        for line in text.splitlines():
            assert not line or line.startswith("#") or line.split("=", 1)[0] in keys, line
    assert not any(c in written[SERVICE].split("ExecStart=", 1)[1] for c in "%\"'\\$;")
