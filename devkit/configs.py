# Device configs for the demo, the tests and the benches: every role on a loopback broker, data under one folder.
from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

from provisioning.roles import CATALOGUE, HUB_EXAMPLE
from provisioning.tomlw import to_toml

DEMO_KIOSK = Path(__file__).with_name("demo_kiosk.toml")
DEMO_DISPLAY = Path(__file__).with_name("demo_display.toml")


def write_hub_config(workdir: str | Path, port: int, template: Path = HUB_EXAMPLE) -> Path:
    """Writes the demo ward's hub config for a broker on `port`, with data under `workdir`/hub."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    text = Template(template.read_text(encoding="utf-8")).substitute(port=port, data_dir=workdir / "hub",
                                                                      catalogue=CATALOGUE)
    path = workdir / "hub.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_kiosk_config(workdir: str | Path, port: int, device: str = "kiosk-1", block: int = 1,
                       printer_backend: str = "file", template: Path = DEMO_KIOSK, ticket_page: str = "") -> Path:
    """Writes a demo kiosk's config: data under `workdir`/<device>, tickets printed into a folder (file backend) or
    kept by the fake printer, previews too; its QR codes open `ticket_page` where given (docs/phone.md)."""
    workdir = Path(workdir)
    base = workdir / device
    (base / "printed").mkdir(parents=True, exist_ok=True)
    options = f'path = "{base / "printed"}"' if printer_backend == "file" else ""
    text = Template(template.read_text(encoding="utf-8")).substitute(
        id=device, port=port, data_dir=base, block=block, printer_backend=printer_backend,
        printer_options=options, preview_dir=base / "previews", ticket_page=ticket_page)
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
                          group: str = "collectors", dsn: str = "", names: dict[str, str] | None = None) -> Path:
    """A collector's config: the wards it accepts (`names`: id -> name, for the report) and its store, the SQLite
    file under `workdir`/district or, with `dsn`, a PostgreSQL database."""
    store: dict[str, Any] = {"store": "postgres", "dsn": dsn} if dsn else {}
    if names:
        store["names"] = [{"ward": ward, "vi": name} for ward, name in names.items()]
    return _device_config(workdir, device, "district", "district", Path(workdir) / "district", port,
                          {"district": {"wards": wards, "group": group, **store}})


def write_console_config(workdir: str | Path, port: int, http_port: int, ward: str = "demo-ward") -> Path:
    """The console's config: its web server on loopback `http_port`, its accounts under `workdir`/console."""
    return _device_config(workdir, "console", "console", ward, Path(workdir) / "console", port,
                          {"console": {"listen": "127.0.0.1", "port": http_port, "request_timeout_s": 3.0}})


def write_notify_config(workdir: str | Path, port: int, gateway: str = "fake", options: dict[str, Any] | None = None,
                        **notify: Any) -> Path:
    """The notifier's config: texts through `gateway` with its `options`, data under `workdir`/notify-1."""
    return _device_config(workdir, "notify-1", "notify", "demo-ward", Path(workdir) / "notify-1", port,
                          {"notify": {"gateway": gateway, "retry_first_s": 0.2, **notify}, "gateway": options or {}})


def write_bridge_config(workdir: str | Path, port: int, units: list[dict[str, object]],
                        device: str = "bridge-1") -> Path:
    """A firmware bridge's config: one [[bridge.units]] table per serial unit (port, kind, counter, ...)."""
    return _device_config(workdir, device, "bridge", "demo-ward", Path(workdir) / device, port,
                          {"bridge": {"units": units}})


def write_rating_config(workdir: str | Path, port: int, device: str, counter: int, pins: list[int],
                        hold_off_s: float = 1.5) -> Path:
    """A GPIO rating keypad's config at `counter`: one button per level on `pins`, best first."""
    return _device_config(workdir, device, "rating", "demo-ward", Path(workdir) / device, port,
                          {"rating": {"counter": counter, "mode": "keypad", "pins": pins, "hold_off_s": hold_off_s}})


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
