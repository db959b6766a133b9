# Enrolment: a new device's config with sensible defaults and its own broker credentials, checked before use.
from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from bus.access import CONSOLE_ACCOUNT, IT_ACCOUNT, acl_text
from bus.config import DEVICE_ID
from kiosk import printing
from provisioning.errors import ProvisioningError
from provisioning.roles import CATALOGUE, HUB_EXAMPLE, check_config
from provisioning.tomlw import to_toml

ENROLLED_ROLES = ("hub", "kiosk", "display", "rating", "bridge", "console")


@dataclass(frozen=True)
class Enrolment:
    name: str
    role: str
    ward: str
    broker_host: str
    broker_port: int = 1883
    data_dir: str = "/var/lib/motcua"
    counter: int = 0
    offline_block: int = 0
    printer: str = ""
    units: list[tuple[str, str, int]] = field(default_factory=list)


def role_sections(e: Enrolment) -> dict[str, Any]:
    """The role's own sections, with the defaults a real device starts from (full screen, USB printer, speaker)."""
    if e.role == "kiosk":
        if not 1 <= e.offline_block <= 10:
            raise ProvisioningError("a kiosk needs --offline-block 1..10, different for each kiosk of the ward")
        return {"kiosk": {"mode": "touch", "offline_block": e.offline_block, "fullscreen": True},
                "printer": {**printer_section(e.printer), "profile": "TM-T20II"}}
    if e.role == "display":
        return {"display": {"fullscreen": True}, "voice": {"speak": True}, "audio": {"backend": "aplay"}}
    if e.role == "rating":
        if e.counter < 1:
            raise ProvisioningError("a rating keypad needs --counter, the counter it stands at")
        return {"rating": {"counter": e.counter, "mode": "keypad", "pins": [5, 6, 13], "led_ok": 20,
                           "led_refused": 21}}
    if e.role == "console":
        return {"console": {"listen": "0.0.0.0", "port": 8080}}
    if e.role == "bridge":
        if not e.units:
            raise ProvisioningError("a bridge needs at least one --unit PORT KIND COUNTER")
        return {"bridge": {"units": [{"port": p, "kind": k, "counter": c} for p, k, c in e.units]}}
    raise ProvisioningError(f"role {e.role!r} cannot be enrolled; one of {', '.join(ENROLLED_ROLES)}")


def printer_section(spec: str) -> dict[str, Any]:
    """--printer as BACKEND:WHERE, read by the backend it names (kiosk/printing/): usb:VENDOR:PRODUCT (hex ids from
    lsusb), serial:/dev/ttyUSB0, network:HOST[:PORT], file:FOLDER."""
    keys = printing.from_spec(spec)
    if keys is None:
        raise ProvisioningError(f"a kiosk needs --printer {printing.specs()}, got {spec!r}")
    return keys


def config_text(e: Enrolment, password: str) -> str:
    """The device's TOML: [device], [broker] with its own credentials, then the role's sections."""
    head = {"device": {"id": e.name, "role": e.role, "ward": e.ward, "data_dir": e.data_dir},
            "broker": {"host": e.broker_host, "port": e.broker_port, "username": e.name, "password": password}}
    text = f"# {e.name}: enrolled by `motcua enrol` ({e.role} of ward {e.ward}); see docs/config.md.\n\n"
    text += to_toml(head)
    if e.role == "hub":  # the ward's services and counters: start from the worked example, then edit
        body = Template(HUB_EXAMPLE.read_text(encoding="utf-8")).substitute(port=e.broker_port, data_dir=e.data_dir,
                                                                          catalogue=CATALOGUE)
        text += "\n# Services, counters and names below are an example: edit them for this ward.\n"
        text += body[body.index("[hub]"):]
    else:
        text += to_toml(role_sections(e))
    return text


def enrol(e: Enrolment, out_dir: str | Path, password_file: str | Path | None = None,
          force: bool = False, acl_file: str | Path | None = None) -> Path:
    """Writes `out_dir`/NAME.toml (never over an existing one unless `force`), checks it with the role's strict
    loader, adds NAME's password to the broker's password file and NAME's topics to its access list. Returns the
    config path."""
    if not re.fullmatch(DEVICE_ID, e.name):
        raise ProvisioningError(f"device name {e.name!r} must match {DEVICE_ID}")
    if e.role == "hub" and e.name != "hub":
        raise ProvisioningError("the hub's name must be 'hub' (the broker's access list gives that user the queue)")
    if e.role == "console" and e.name != CONSOLE_ACCOUNT:
        raise ProvisioningError(f"the console's name must be {CONSOLE_ACCOUNT!r} (devices take commands from it)")
    if e.name == IT_ACCOUNT:
        raise ProvisioningError(f"{IT_ACCOUNT!r} is ward IT's own broker account; choose another device name")
    path = Path(out_dir) / f"{e.name}.toml"
    if path.exists() and not force:
        raise ProvisioningError(f"{path} exists; a device is enrolled once (use --force to replace it)")
    password = secrets.token_urlsafe(18)
    text = config_text(e, password)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_suffix(".toml.new")
    staged.write_text(text, encoding="utf-8")
    staged.chmod(0o640)  # it holds the broker password
    checked = False
    try:
        check_config(staged)
        checked = True
    finally:
        if not checked:
            staged.unlink()
    if password_file is not None:
        add_broker_user(password_file, e.name, password)
    staged.replace(path)
    if acl_file is not None:
        write_acl(acl_file, out_dir)
    return path


def accounts(config_dir: str | Path) -> list[tuple[str, str, str, tuple[int, ...]]]:
    """(account, role, ward, counters) of every device config in `config_dir`, and ward IT's account in each of
    their wards: what the ward broker's access list is written from."""
    found, wards = [], []
    for path in sorted(Path(config_dir).glob("*.toml")):
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        device = raw.get("device")
        if not isinstance(device, dict) or not all(isinstance(device.get(k), str) for k in ("id", "role", "ward")):
            continue
        found.append((device["id"], device["role"], device["ward"], counters_of(raw)))
        wards += [device["ward"]] if device["ward"] not in wards else []
    return found + [(IT_ACCOUNT, "it", ward, ()) for ward in wards]


def counters_of(raw: dict[str, Any]) -> tuple[int, ...]:
    """The counters a device's config names: a rating device's one, a bridge's units'."""
    rating = raw.get("rating") if isinstance(raw.get("rating"), dict) else {}
    units = (raw.get("bridge") or {}).get("units", []) if isinstance(raw.get("bridge"), dict) else []
    found = [rating.get("counter"), *(u.get("counter") for u in units if isinstance(u, dict))]
    return tuple(sorted({c for c in found if isinstance(c, int)}))


def write_acl(acl_file: str | Path, config_dir: str | Path) -> Path:
    """Writes the ward broker's access list anew from the device configs in `config_dir` and the grants table in
    bus/access.py: each account gets exactly what its role needs (reload the broker afterwards)."""
    acl_file = Path(acl_file)
    acl_file.parent.mkdir(parents=True, exist_ok=True)
    staged = acl_file.with_name(acl_file.name + ".new")
    staged.write_text(acl_text(accounts(config_dir)), encoding="utf-8")
    staged.chmod(0o640)
    staged.replace(acl_file)
    return acl_file


def add_broker_user(password_file: str | Path, user: str, password: str) -> None:
    """Adds or replaces one user in a mosquitto password file (hashed by mosquitto_passwd)."""
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        raise ProvisioningError("mosquitto_passwd not found (Debian package mosquitto)")
    password_file = Path(password_file)
    args = [tool, "-b", str(password_file), user, password]
    if not password_file.exists():
        password_file.parent.mkdir(parents=True, exist_ok=True)
        args.insert(1, "-c")
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise ProvisioningError(f"mosquitto_passwd failed: {(done.stderr or done.stdout).strip()}")
