# First boot from a prepared SD card (cloud-init user-data, wheels, one bundle) and the udev rules motcua installs.
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from provisioning.cli import cli
from provisioning.install import UNITS

WARD = "phuong-ben-nghe"


def enrol(tmp: Path, name: str, *args: str) -> Path:
    result = CliRunner().invoke(cli, ["enrol", name, *args, "--ward", WARD, "--out", str(tmp / "etc"),
                                      "--cert-dir", str(tmp / "certs"), "--password-file", str(tmp / "passwd"),
                                      "--acl-file", str(tmp / "acl"), "--lan-address", "hub.local"])
    assert result.exit_code == 0, result.output
    return tmp / "etc" / f"{name}.toml"


def test_a_prepared_card_installs_the_device_and_forgets_its_password(tmp_path: Path, motcua_wheel: Path) -> None:
    enrol(tmp_path, "hub", "--role", "hub")
    bundle = enrol(tmp_path, "kiosk-3", "--role", "kiosk", "--broker-host", "hub.local", "--offline-block", "3",
                   "--printer", "usb:04b8:0e15")
    boot = tmp_path / "boot"
    boot.mkdir()
    result = CliRunner().invoke(cli, ["image", "prepare", str(boot), "--bundle", str(bundle), "--wheels",
                                      str(motcua_wheel.parent)])
    assert result.exit_code == 0, result.output
    text = (boot / "user-data").read_text(encoding="utf-8")
    assert text.startswith("#cloud-config\n")
    data = yaml.safe_load(text)
    assert data["hostname"] == "kiosk-3" and data["timezone"] == "Asia/Ho_Chi_Minh"
    assert "libusb-1.0-0" in data["packages"] and "mosquitto" not in data["packages"]
    install, apply = data["runcmd"]
    assert "--find-links /boot/firmware/motcua/wheels motcua" in install[2]
    # gpiozero's pin library on Raspberry Pi OS (on a Pi 5 the only one) is a Debian package the venv must see
    assert "python3-lgpio" in data["packages"] and install[2].startswith("python3 -m venv --system-site-packages ")
    assert apply == ["/opt/motcua/.venv/bin/motcua", "firstboot", "--bundle", "/boot/firmware/motcua/kiosk-3.toml"]
    assert (boot / "motcua" / "wheels" / motcua_wheel.name).exists()
    card = boot / "motcua" / "kiosk-3.toml"
    assert card.read_bytes() == bundle.read_bytes()  # the bundle is the config itself: password and ward CA inside
    assert "-----BEGIN CERTIFICATE-----" in card.read_text()
    # what cloud-init runs on the device (here into a staging root): installed, and the password gone from the card
    root = tmp_path / "device"
    result = CliRunner().invoke(cli, ["firstboot", "--bundle", str(card), "--root", str(root)])
    assert result.exit_code == 0 and "first boot done: motcua@kiosk-3" in result.output, result.output
    assert not card.exists()
    assert (root / "etc/motcua/kiosk-3.toml").read_bytes() == bundle.read_bytes()
    assert (root / "etc/systemd/system/motcua@kiosk-3.service.d/role.conf").exists()
    assert (root / "etc/udev/rules.d/70-motcua.rules").read_text() == (UNITS / "70-motcua.rules").read_text()
    again = CliRunner().invoke(cli, ["firstboot", "--bundle", str(card), "--root", str(root)])
    assert again.exit_code == 1 and "was the card prepared with `motcua image prepare`?" in again.output
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    refused = CliRunner().invoke(cli, ["image", "prepare", str(boot), "--bundle", str(bundle), "--wheels", str(empty)])
    assert refused.exit_code == 1 and "holds no motcua wheel" in refused.output


UDEV_KEYS = {"SUBSYSTEM", "KERNEL", "ENV", "ATTR", "ATTRS", "DRIVERS", "GROUP", "MODE", "SYMLINK", "OWNER", "TAG"}
MATCH = ("==", "!=")
ASSIGN = ("=", "+=", ":=")


def test_the_udev_rules_are_well_formed() -> None:
    """udev's own `udevadm verify` (systemd 253 and later) where the machine has it; always the grammar and what the
    rules must do: printers to lp, serial adapters to dialout, each with a stable name under /dev/motcua/."""
    rules = UNITS / "70-motcua.rules"
    lines = [line for line in rules.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    assert len(lines) == 4
    pair = re.compile(r'\s*([A-Z]+)(\{[A-Za-z_]+\})?\s*(==|!=|\+=|:=|=)\s*"([^"]*)"\s*')
    for line in lines:
        items = line.split(",")
        parsed = [pair.fullmatch(item) for item in items]
        assert all(parsed), line
        assert all(m.group(1) in UDEV_KEYS for m in parsed), line  # type: ignore[union-attr]
        ops = [m.group(3) for m in parsed]  # type: ignore[union-attr]
        assert ops[0] in MATCH and ops[-1] in ASSIGN, line  # matches first, then what to do
        if "GROUP" in line:
            assert 'MODE="0660"' in line, line
    text = "\n".join(lines)
    assert 'ENV{ID_USB_INTERFACES}=="*:0701??:*", GROUP="lp"' in text
    assert 'SUBSYSTEM=="tty", ENV{ID_BUS}=="usb"' in text and 'GROUP="dialout"' in text
    assert text.count('SYMLINK+="motcua/') == 3
    if "verify" in subprocess.run(["udevadm", "--help"], capture_output=True, text=True).stdout:
        done = subprocess.run(["udevadm", "verify", str(rules)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("cloud-init") is None, reason="cloud-init is not installed here")
def test_cloud_init_accepts_the_user_data(tmp_path: Path, motcua_wheel: Path) -> None:
    enrol(tmp_path, "hub", "--role", "hub")
    bundle = enrol(tmp_path, "board-2", "--role", "display", "--broker-host", "hub.local")
    boot = tmp_path / "boot"
    boot.mkdir()
    CliRunner().invoke(cli, ["image", "prepare", str(boot), "--bundle", str(bundle), "--wheels",
                             str(motcua_wheel.parent)])
    done = subprocess.run(["cloud-init", "schema", "--config-file", str(boot / "user-data")], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
