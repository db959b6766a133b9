# `motcua reset --factory` on the device itself: outboxes exported for the next start, the role's files wiped.
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bus import reset as factory
from bus.config import read_toml
from bus.errors import DeviceBusy
from bus.lifecycle import device_lock
from bus.outbox import Outbox
from provisioning.errors import ProvisioningError
from provisioning.roles import ROLES, check_config, entry


def reset_spec(role: str, loaded: Any) -> factory.ResetSpec | None:
    """The role's factory reset, from what its config loader returned (None: the role has none)."""
    if role == "hub":
        from hub.store import reset_spec as hub_spec

        return hub_spec(loaded[1])
    if role == "console":
        from console.live import reset_spec as console_spec

        return console_spec(loaded[1])
    where = {"kiosk": "kiosk.core:RESET", "display": "display.service:RESET", "rating": "rating.main:RESET",
             "bridge": "firmware_bridge.service:RESET"}.get(role)
    return entry(where) if where else None


def factory_reset(config_path: str | Path, forget_identity: bool = False,
                  say: Callable[[str], None] = print) -> dict[str, Any]:
    """Resets the device whose config is `config_path`, with its service stopped (its lock must be free): every
    outbox is exported for the next start to send under the same ids, then the role's files are wiped or archived
    as its ResetSpec says. With `forget_identity` the config (its broker account) is removed too; the exports stay
    in the data folder and are sent if the device is enrolled again under the same name."""
    role = check_config(config_path)
    loaded = entry(ROLES[role][0])(str(config_path))
    config = loaded[0]
    spec = reset_spec(role, loaded)
    if spec is None:
        raise ProvisioningError(f"a {role} has no factory reset")
    data, device = config.data_dir, config.device.id
    with device_lock(data, device):
        exported = 0
        for path in sorted(p for pattern in spec.wipe for p in data.glob(pattern) if p.name.endswith("outbox.db")):
            box = Outbox(path)
            exported += box.export()
            box.close()
        factory.request(data, device, {"held": exported, "delivered": 0, "exported": exported}, "motcua reset")
        report = factory.finish_pending(data, device, spec) or {}
    if exported:
        say(f"{exported} outbox entr(ies) exported; the device sends them when it starts again")
    where = f" in {report['archive']}" if report.get("archive") else ""
    say(f"wiped {', '.join(report.get('wiped', [])) or 'nothing'}; archived "
        f"{', '.join(report.get('archived', [])) or 'nothing'}{where}")
    if forget_identity:
        Path(config_path).unlink()
        report["identity"] = "forgotten"
        say(f"removed {config_path}: this device no longer has a ward identity; revoke {device!r} on the hub "
            f"(motcua revoke {device}) or enrol it again")
    return report


def service_active(device: str) -> bool:
    """True when systemd runs motcua@DEVICE on this machine."""
    tool = shutil.which("systemctl")
    if tool is None or not Path("/run/systemd/system").exists():
        return False
    return subprocess.run([tool, "is-active", "--quiet", f"motcua@{device}"]).returncode == 0


def reset_stopping_service(config_path: str | Path, forget_identity: bool = False,
                           say: Callable[[str], None] = print) -> dict[str, Any]:
    """`factory_reset`, stopping the device's systemd service first and starting it again after (unless the
    identity was forgotten). Without systemd a running device is refused: stop it first."""
    section = read_toml(config_path).get("device")
    device = section.get("id", "") if isinstance(section, dict) else ""
    stopped = False
    if isinstance(device, str) and device and service_active(device):
        say(f"stopping motcua@{device}")
        subprocess.run(["systemctl", "stop", f"motcua@{device}"], check=True)
        stopped = True
    try:
        report = factory_reset(config_path, forget_identity, say)
    except DeviceBusy as exc:
        raise ProvisioningError(str(exc)) from None
    if stopped and not forget_identity:
        say(f"starting motcua@{device}")
        subprocess.run(["systemctl", "start", f"motcua@{device}"], check=True)
    return report
