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

from provisioning.enrol import write_acl
from provisioning.errors import ProvisioningError
from provisioning.roles import check_config

SYSTEMD = Path(__file__).resolve().parent.parent / "systemd"
USER = "motcua"
# serial keypads and displays, GPIO, USB printers, the screen, the speaker, touch input: those present are used
GROUPS = ("dialout", "gpio", "lp", "video", "render", "audio", "input")


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

    unit = (SYSTEMD / "motcua@.service").read_text(encoding="utf-8")
    unit = unit.replace("/opt/motcua/.venv/bin/motcua", motcua_command())
    _write(root / "etc/systemd/system/motcua@.service", unit, 0o644, say)
    target = root / "etc/motcua" / f"{name}.toml"
    if Path(config).resolve() != target.resolve():
        _write(target, Path(config).read_text(encoding="utf-8"), 0o640, say)
    data = root / data_dir.lstrip("/")
    data.mkdir(parents=True, exist_ok=True)
    say(f"data folder {data}")
    if role == "hub":
        _write(root / "etc/mosquitto/conf.d/motcua.conf", (SYSTEMD / "mosquitto-ward.conf").read_text(), 0o644, say)
        acl = root / "etc/mosquitto/motcua.acl"
        if not acl.exists():  # `motcua enrol` keeps it up to date: never overwritten here
            write_acl(acl, target.parent)
            say(f"wrote {acl} from the configs in {target.parent}")
    service = f"motcua@{name}"
    if not live:
        say(f"staging root {root}: no user, ownership or systemctl changes; on the device run "
            f"`systemctl enable --now {service}`")
        return service
    _service_user(say)
    for path in (target, data):
        shutil.chown(path, user="root" if path == target else USER, group=USER)
    if not Path("/run/systemd/system").exists():
        say(f"systemd is not running here; start it with `motcua run --config {target}`")
        return service
    _run(["systemctl", "daemon-reload"], say)
    _run(["systemctl", "enable", *(["--now"] if start else []), service], say)
    return service


def _write(path: Path, text: str, mode: int, say: Callable[[str], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".new")
    staged.write_text(text, encoding="utf-8")
    staged.chmod(mode)
    staged.replace(path)
    say(f"wrote {path}")


def _service_user(say: Callable[[str], None]) -> None:
    try:
        pwd.getpwnam(USER)
    except KeyError:
        _run(["useradd", "--system", "--home-dir", "/var/lib/motcua", "--shell", "/usr/sbin/nologin", USER], say)
    present = [g for g in GROUPS if _group_exists(g)]
    if present:
        _run(["usermod", "--append", "--groups", ",".join(present), USER], say)


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _run(args: list[str], say: Callable[[str], None]) -> None:
    say("$ " + " ".join(args))
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise ProvisioningError(f"{args[0]} failed: {(done.stderr or done.stdout).strip()}")
