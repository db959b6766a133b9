# Enrolment: a new device's config with sensible defaults and its own broker credentials, checked before use.
from __future__ import annotations

import contextlib
import os
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
from bus.config import DEVICE_ID, read_toml
from kiosk import printing
from provisioning.broker_conf import CERT_DIR, PLAIN_PORT, TLS_PORT
from provisioning.ca import WardCA, issue, make_ca
from provisioning.errors import ProvisioningError
from provisioning.roles import CATALOGUE, ENROLLED_ROLES, HUB_EXAMPLE, check_config
from provisioning.tomlw import to_toml

LOOPBACK = ("127.0.0.1", "localhost", "::1")  # a device on the hub's own machine uses the plain loopback listener


@dataclass(frozen=True)
class Enrolment:
    name: str
    role: str
    ward: str
    broker_host: str
    broker_port: int = 0  # 0: the plain port on loopback, the TLS port otherwise
    data_dir: str = "/var/lib/motcua"
    counter: int = 0
    offline_block: int = 0
    printer: str = ""
    units: list[tuple[str, str, int]] = field(default_factory=list)
    lan: tuple[str, ...] = ()  # the hub: names and addresses LAN devices dial (the broker's certificate covers them)
    https: bool = False  # the console: serve HTTPS with a certificate from the ward CA
    cert_dir: str = str(CERT_DIR)  # the hub: where the broker's certificate and key go


def role_sections(e: Enrolment, tls: dict[str, str] | None = None) -> dict[str, Any]:
    """The role's own sections, with the defaults a real device starts from (full screen, USB printer, speaker);
    `tls` is the console's certificate and key when it serves HTTPS."""
    tls = tls or {}
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
    if e.role == "desk":
        if e.counter < 1:
            raise ProvisioningError("desk buttons need --counter, the counter they stand at")
        return {"desk": {"counter": e.counter, "next_pin": 17, "recall_pin": 27, "done_pin": 22, "led": 4}}
    if e.role == "console":
        return {"console": {"listen": "0.0.0.0", "port": 8080, **tls}}
    if e.role == "notify":  # a modem on the hub's machine by default; ward IT sets its port, or Zalo instead
        return {"notify": {"gateway": "gsm", "near_ahead": 3}, "gateway": {"port": "/dev/ttyUSB2"}}
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


def broker_section(e: Enrolment, ca: WardCA, password: str) -> dict[str, Any]:
    """The device's [broker]: on the hub's machine the loopback listener; anywhere else the TLS listener, with the
    ward CA's certificate written in, so the device checks it talks to the ward's own broker."""
    base = {"host": e.broker_host, "username": e.name, "password": password}
    if e.broker_host in LOOPBACK:
        return {**base, "port": e.broker_port or PLAIN_PORT}
    if not ca.exists():
        raise ProvisioningError(f"no ward CA in {ca.folder}: enrol the hub first (it makes the CA and the broker's "
                                f"certificate), then the devices that reach it over the LAN")
    return {**base, "port": e.broker_port or TLS_PORT, "tls": True, "ca_pem": ca.pem()}


def config_text(e: Enrolment, password: str, ca: WardCA, tls: dict[str, str] | None = None) -> str:
    """The device's TOML: [device], [broker] with its own credentials, then the role's sections. It is the whole
    enrolment bundle: the one file a device needs (docs/deploy.md, first boot)."""
    head = {"device": {"id": e.name, "role": e.role, "ward": e.ward, "data_dir": e.data_dir},
            "broker": broker_section(e, ca, password)}
    text = f"# {e.name}: enrolled by `motcua enrol` ({e.role} of ward {e.ward}); see docs/config.md.\n\n"
    text += to_toml(head)
    if e.role == "hub":  # the ward's services and counters: start from the worked example, then edit
        body = Template(HUB_EXAMPLE.read_text(encoding="utf-8")).substitute(port=e.broker_port or PLAIN_PORT,
                                                                          data_dir=e.data_dir, catalogue=CATALOGUE)
        text += "\n# Services, counters and names below are an example: edit them for this ward.\n"
        text += body[body.index("[hub]"):]
    else:
        text += to_toml(role_sections(e, tls))
    return text


def lan_names() -> tuple[str, ...]:
    """What LAN devices may dial the hub by, when ward IT names nothing: its host name, NAME.local and the address
    of its default route."""
    import socket

    host = socket.gethostname()
    names = [host, f"{host}.local"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            names.append(probe.getsockname()[0])
        except OSError:
            pass
    return tuple(dict.fromkeys(n for n in names if n not in LOOPBACK))


def make_certificates(e: Enrolment, out_dir: Path) -> tuple[WardCA, dict[str, str]]:
    """The hub's enrolment makes the ward CA (once) and the broker's certificate; a console with `https` gets one
    of its own. Returns the CA and, for a console, its certificate and key paths."""
    ca = WardCA(out_dir / "ca")
    if e.role == "hub":
        ca = make_ca(out_dir / "ca", e.ward)
        names = list(e.lan or lan_names())
        cert = issue(ca, [*names, "localhost", "127.0.0.1"], Path(e.cert_dir) / "motcua-broker.pem",
                     Path(e.cert_dir) / "motcua-broker.key")
        _give_group(Path(e.cert_dir) / "motcua-broker.key", "mosquitto")
        return ca, {"broker_cert": str(cert)}
    if e.role == "console" and e.https:
        names = list(e.lan or lan_names())
        paths = {"tls_cert": str(out_dir / "certs" / "console.pem"), "tls_key": str(out_dir / "certs" / "console.key")}
        issue(ca, [*names, "localhost", "127.0.0.1"], paths["tls_cert"], paths["tls_key"])
        _give_group(Path(paths["tls_key"]), "motcua")
        return ca, paths
    return ca, {}


def _give_group(path: Path, group: str) -> None:
    """A key readable by the service that uses it (root:GROUP, 0640) when enrolling as root on the real machine."""
    if os.geteuid() == 0:
        with contextlib.suppress(LookupError, PermissionError):
            shutil.chown(path, user="root", group=group)


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
    ca, certs = make_certificates(e, Path(out_dir))
    text = config_text(e, password, ca, {k: v for k, v in certs.items() if k.startswith("tls_")})
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
    """The counters a device's config names: a rating device's or a desk's one, a bridge's units'."""
    one = [raw[s].get("counter") for s in ("rating", "desk") if isinstance(raw.get(s), dict)]
    units = (raw.get("bridge") or {}).get("units", []) if isinstance(raw.get("bridge"), dict) else []
    found = [*one, *(u.get("counter") for u in units if isinstance(u, dict))]
    return tuple(sorted({c for c in found if isinstance(c, int)}))


def write_acl(acl_file: str | Path, config_dir: str | Path) -> Path:
    """Writes the ward broker's access list anew from the device configs in `config_dir` and the grants table in
    bus/access.py: each account gets exactly what its role needs (reload the broker afterwards)."""
    acl_file = Path(acl_file)
    if not acl_file.name or acl_file.is_dir():
        raise ProvisioningError(f"the access list needs a file name, not {str(acl_file)!r}")
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


def rotate(name: str, out_dir: str | Path, password_file: str | Path) -> Path:
    """Gives device NAME a new broker password: in the broker's password file and in OUT/NAME.toml (only the
    [broker] password line changes; the rest of the file, comments and edits, stays). Copy the file to the device
    and restart it; the old password stops working when the broker reloads."""
    path = Path(out_dir) / f"{name}.toml"
    if not path.exists():
        raise ProvisioningError(f"{path} not found: {name!r} is not enrolled here")
    read_toml(path)  # a file that is not a config is said to be so, not rewritten
    text = path.read_text(encoding="utf-8")
    password = secrets.token_urlsafe(18)
    broker = re.search(r"(?ms)^\[broker\]\s*$.*?(?=^\[|\Z)", text)
    line = re.search(r'(?m)^password\s*=\s*"[^"\n]*"\s*$', broker.group(0)) if broker else None
    if broker is None or line is None:
        raise ProvisioningError(f"{path}: no [broker] password line to replace; enrol {name!r} again with --force")
    start = broker.start() + line.start()
    text = text[:start] + f'password = "{password}"' + text[broker.start() + line.end():]
    staged = path.with_suffix(".toml.new")
    staged.write_text(text, encoding="utf-8")
    staged.chmod(0o640)
    check_config(staged)
    add_broker_user(password_file, name, password)
    staged.replace(path)
    return path


def revoke(name: str, out_dir: str | Path, password_file: str | Path, acl_file: str | Path | None) -> Path:
    """Takes device NAME out of the ward: its broker account is deleted, its config moved to OUT/revoked/ (kept
    as a record, its password now worthless) and the access list written without it. Restart the broker so a
    connection it still holds is dropped."""
    path = Path(out_dir) / f"{name}.toml"
    if not path.exists():
        raise ProvisioningError(f"{path} not found: {name!r} is not enrolled here")
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        raise ProvisioningError("mosquitto_passwd not found (Debian package mosquitto)")
    done = subprocess.run([tool, "-D", str(password_file), name], capture_output=True, text=True)
    if done.returncode != 0:
        raise ProvisioningError(f"mosquitto_passwd failed: {(done.stderr or done.stdout).strip()}")
    kept = Path(out_dir) / "revoked" / f"{name}.toml"
    kept.parent.mkdir(parents=True, exist_ok=True)
    path.replace(kept)
    if acl_file is not None:
        write_acl(acl_file, out_dir)
    return kept
