# Installs an enrolled device as a systemd service: unit, config, data folder, service user, broker files for a hub.
from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

from provisioning.broker_conf import WardBroker, conf_text
from provisioning.enrol import write_acl
from provisioning.errors import ProvisioningError
from provisioning.roles import check_config

UNITS = Path(__file__).with_name("units")  # the unit template and udev rules, shipped inside the package
USER = "motcua"
# The hardware each role uses, as the groups that own it (serial ports, GPIO, USB printers, the screen, the speaker,
# touch input); a role with no hardware gets no devices at all. Each device's unit gets its own role's groups only.
ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    "kiosk": ("lp", "dialout", "video", "render", "input", "gpio"),
    "display": ("video", "render", "audio"),
    "rating": ("gpio", "video", "render", "input"),
    "desk": ("gpio",),
    "bridge": ("dialout",),
    "notify": ("dialout",),  # a USB GSM modem
    "hub": (), "console": (), "district": (),
}
DEFAULT_DATA = "/var/lib/motcua"  # the unit's StateDirectory: writable under ProtectSystem=strict


def motcua_command() -> str:
    """The motcua executable of this installation (the one running now)."""
    beside = Path(sys.executable).parent / "motcua"
    return str(beside) if beside.exists() else (shutil.which("motcua") or str(beside))


def install(config: str | Path, root: str | Path = "/", start: bool = True,
            say: Callable[[str], None] = print) -> str:
    """Installs the device whose config is `config`; returns its service name (motcua@NAME). With a `root` other
    than "/" the files go under it (an image being built, or a test) and nothing on this machine is changed."""
    role = check_config(config)
    raw = tomllib.loads(Path(config).read_text(encoding="utf-8"))
    name, data_dir = raw["device"]["id"], raw["device"].get("data_dir", "/var/lib/motcua")
    root = Path(root)
    live = root.resolve() == Path("/")
    if live and os.geteuid() != 0:
        raise ProvisioningError("installing a service needs root (sudo motcua install ...)")

    unit = (UNITS / "motcua@.service").read_text(encoding="utf-8")
    unit = unit.replace("/opt/motcua/.venv/bin/motcua", motcua_command())
    write_file(root / "etc/systemd/system/motcua@.service", unit, 0o644, say)
    write_file(root / f"etc/systemd/system/motcua@{name}.service.d/role.conf",
               role_dropin(role, data_dir, motcua_command(), live), 0o644, say)
    if ROLE_GROUPS.get(role):  # a device with hardware: its printers, serial adapters and GPIO by stable names
        write_file(root / "etc/udev/rules.d/70-motcua.rules", (UNITS / "70-motcua.rules").read_text(), 0o644, say)
    target = root / "etc/motcua" / f"{name}.toml"
    if Path(config).resolve() != target.resolve():
        write_file(target, Path(config).read_text(encoding="utf-8"), 0o640, say)
    data = root / data_dir.lstrip("/")
    data.mkdir(parents=True, exist_ok=True)
    say(f"data folder {data}")
    if role == "hub":
        write_file(root / "etc/mosquitto/conf.d/motcua.conf", conf_text(WardBroker()), 0o644, say)
        acl = root / "etc/mosquitto/motcua.acl"
        if not acl.exists():  # `motcua enrol` keeps it up to date: never overwritten here
            write_acl(acl, target.parent)
            say(f"wrote {acl} from the configs in {target.parent}")
    service = f"motcua@{name}"
    if not live:
        say(f"staging root {root}: no user, ownership or systemctl changes; on the device run "
            f"`systemctl enable --now {service}`")
        return service
    service_user(say)
    for path in (target, data):
        shutil.chown(path, user="root" if path == target else USER, group=USER)
    if not Path("/run/systemd/system").exists():
        say(f"systemd is not running here; start it with `motcua run --config {target}`")
        return service
    if ROLE_GROUPS.get(role) and shutil.which("udevadm"):
        _run(["udevadm", "control", "--reload"], say)
        _run(["udevadm", "trigger", "--subsystem-match=usb", "--subsystem-match=tty", "--subsystem-match=usbmisc",
              "--subsystem-match=gpio"], say)
    _run(["systemctl", "daemon-reload"], say)
    _run(["systemctl", "enable", *(["--now"] if start else []), service], say)
    return service


def role_dropin(role: str, data_dir: str, command: str, live: bool) -> str:
    """The device's own additions to the template's sandbox: its role's hardware groups (those this machine has,
    when installing on it), no devices at all for a role without hardware, its data folder when it is not the
    default, and the home folder readable when motcua itself was installed there."""
    lines = [f"# motcua@NAME as a {role}: written by `motcua install` (provisioning/install.py).", "[Service]"]
    groups = [g for g in ROLE_GROUPS.get(role, ()) if not live or _group_exists(g)]
    lines.append(f"SupplementaryGroups={' '.join(groups)}" if groups else "PrivateDevices=yes")
    if data_dir.rstrip("/") != DEFAULT_DATA:
        lines.append(f"ReadWritePaths=-{data_dir}")
    if command.startswith(("/home/", "/root/")):
        lines.append("ProtectHome=read-only")
    return "\n".join(lines) + "\n"


def write_file(path: Path, text: str, mode: int, say: Callable[[str], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".new")
    staged.write_text(text, encoding="utf-8")
    staged.chmod(mode)
    staged.replace(path)
    say(f"wrote {path}")


def service_user(say: Callable[[str], None]) -> None:
    """The `motcua` system user; it belongs to no hardware group (each unit adds its role's)."""
    try:
        pwd.getpwnam(USER)
    except KeyError:
        _run(["useradd", "--system", "--home-dir", "/var/lib/motcua", "--shell", "/usr/sbin/nologin", USER], say)


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def systemctl(args: list[str], say: Callable[[str], None]) -> None:
    """`systemctl ARGS` on this machine, or a line saying to run it on the device where systemd is not running."""
    if not Path("/run/systemd/system").exists():
        say(f"systemd is not running here; on the device run `systemctl {' '.join(args)}`")
        return
    _run(["systemctl", *args], say)


def _run(args: list[str], say: Callable[[str], None]) -> None:
    say("$ " + " ".join(args))
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise ProvisioningError(f"{args[0]} failed: {(done.stderr or done.stdout).strip()}")
