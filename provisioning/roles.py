# Starts role services (the hub today) as child processes, as systemd would, for the demo, tests and bench.
from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from string import Template
from typing import Any

import kiosk
from bus.errors import ConfigError
from provisioning.errors import ProvisioningError
from provisioning.tomlw import to_toml

DEMO_WARD = Path(__file__).with_name("demo_ward.toml")
CATALOGUE = Path(kiosk.__file__).with_name("catalogue.json")
DEMO_KIOSK = Path(__file__).with_name("demo_kiosk.toml")
DEMO_DISPLAY = Path(__file__).with_name("demo_display.toml")


def write_hub_config(workdir: str | Path, port: int, template: Path = DEMO_WARD) -> Path:
    """Writes the demo ward's hub config for a broker on `port`, with data under `workdir`/hub."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    text = Template(template.read_text(encoding="utf-8")).substitute(port=port, data_dir=workdir / "hub",
                                                                      catalogue=CATALOGUE)
    path = workdir / "hub.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_kiosk_config(workdir: str | Path, port: int, device: str = "kiosk-1", block: int = 1,
                       printer_backend: str = "file", template: Path = DEMO_KIOSK) -> Path:
    """Writes a demo kiosk's config: data under `workdir`/<device>, tickets printed into a folder, previews too."""
    workdir = Path(workdir)
    base = workdir / device
    (base / "printed").mkdir(parents=True, exist_ok=True)
    text = Template(template.read_text(encoding="utf-8")).substitute(
        id=device, port=port, data_dir=base, block=block, printer_backend=printer_backend,
        printer_path=base / "printed", preview_dir=base / "previews")
    path = workdir / f"{device}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_display_config(workdir: str | Path, port: int, audio: str = "none") -> Path:
    """Writes the demo board's config, data under `workdir`/board-1."""
    workdir = Path(workdir)
    text = Template(DEMO_DISPLAY.read_text(encoding="utf-8")).substitute(
        port=port, data_dir=workdir / "board-1", audio=audio, screenshots=workdir / "board-1" / "screens")
    path = workdir / "board-1.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_district_config(workdir: str | Path, port: int, wards: list[str], device: str = "collector-1",
                          group: str = "collectors", dsn: str = "") -> Path:
    """A collector's config: the wards it accepts and its store, the SQLite file under `workdir`/district or, with
    `dsn`, a PostgreSQL database."""
    store = {"store": "postgres", "dsn": dsn} if dsn else {}
    return _device_config(workdir, device, "district", "district", Path(workdir) / "district", port,
                          {"district": {"wards": wards, "group": group, **store}})


def write_bridge_config(workdir: str | Path, port: int, units: list[dict[str, object]],
                        device: str = "bridge-1") -> Path:
    """A firmware bridge's config: one [[bridge.units]] table per serial unit (port, kind, counter, ...)."""
    return _device_config(workdir, device, "bridge", "demo-ward", Path(workdir) / device, port,
                          {"bridge": {"units": units}})


def _device_config(workdir: str | Path, device: str, role: str, ward: str, data_dir: Path, port: int,
                   sections: dict[str, dict[str, Any]]) -> Path:
    """Writes `workdir`/DEVICE.toml for a broker on loopback `port`, with the role's sections."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"{device}.toml"
    path.write_text(to_toml({"device": {"id": device, "role": role, "ward": ward, "data_dir": str(data_dir)},
                             "broker": {"host": "127.0.0.1", "port": port}, **sections}), encoding="utf-8")
    return path


def add_upstream(hub_config: Path, port: int, retry_s: float = 5.0, stats_interval_s: int = 600) -> Path:
    """Points a hub config at an upstream broker on loopback (no TLS), as the demo and tests do."""
    with open(hub_config, "a", encoding="utf-8") as out:
        out.write(f"\n[upstream]\nhost = \"127.0.0.1\"\nport = {port}\ntls = false\nretry_s = {retry_s}\n"
                  f"stats_interval_s = {stats_interval_s}\n")
    return hub_config


# role -> (its config loader, its service's entry point), each "module:function", imported only when used
ROLES: dict[str, tuple[str, str]] = {
    "hub": ("hub.config:load_hub", "hub.main:run"),
    "kiosk": ("kiosk.config:load_kiosk", "kiosk.main:run"),
    "display": ("display.config:load_display", "display.main:run"),
    "counter": ("kiosk.rating:load_rating", "kiosk.rating:run"),
    "bridge": ("firmware_bridge.config:load_bridge", "firmware_bridge.main:run"),
    "district": ("district.config:load_district", "district.main:run"),
}


def role_of(path: str | Path) -> str:
    """The role a config file names in [device], without checking the rest."""
    import tomllib

    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), "-", "file not found") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "-", str(exc)) from None
    device = raw.get("device")
    role = device.get("role") if isinstance(device, dict) else None
    if role not in ROLES:
        raise ConfigError(str(path), "device.role", f"{role!r} is not one of {', '.join(ROLES)}")
    return role


def _entry(spec: str) -> Any:
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)


def check_config(path: str | Path) -> str:
    """Loads the config with its role's strict loader; returns the role or raises ConfigError naming the key."""
    role = role_of(path)
    _entry(ROLES[role][0])(str(path))
    return role


def run_device(path: str | Path) -> None:
    """Runs whatever service the config's role names, until SIGTERM: one command for every systemd unit."""
    role = check_config(path)
    _entry(ROLES[role][1])(str(path))


class RoleProcess:
    """`motcua <role> --config PATH` as a child process with its output in a log file."""

    def __init__(self, role: str, config: str | Path, log_path: str | Path, env: dict[str, str] | None = None,
                 command: tuple[str, ...] = ()) -> None:
        self.role = role
        self.env = env or {}
        self.command = command or (role,)
        self.config = Path(config)
        self.log_path = Path(log_path)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RoleProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "provisioning", *self.command, "--config",
                                          str(self.config)], stdout=log, stderr=subprocess.STDOUT,
                                         env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env})
        return self

    def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would: no clean-up runs."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise ProvisioningError(f"{self.role} exited with code {self.proc.returncode}; see {self.log_path}")
