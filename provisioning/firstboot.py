# First boot: an SD card prepared with cloud-init user-data, wheels and one enrolment bundle becomes a working device.
from __future__ import annotations

import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from string import Template

from provisioning.errors import ProvisioningError
from provisioning.install import install
from provisioning.roles import check_config

USER_DATA = Path(__file__).with_name("units") / "user-data.yaml"
BOOT = "/boot/firmware"  # Raspberry Pi OS's boot partition, as the running system mounts it
# Debian packages each role needs beyond Python: every device the venv and gpiozero's pin library (a reset button may
# be wired to any; a Pi 5 has no other library), a hub its broker, a board its voice and sound, a kiosk libusb
BASE_PACKAGES = ("python3-venv", "python3-lgpio")
ROLE_PACKAGES = {"hub": ("mosquitto",), "display": ("espeak-ng", "alsa-utils"), "kiosk": ("libusb-1.0-0",)}


def user_data(bundle: str | Path, timezone: str = "Asia/Ho_Chi_Minh", boot: str = BOOT) -> str:
    """The cloud-init user-data that installs motcua and applies `bundle` (an enrolled config) on first boot."""
    role = check_config(bundle)
    device = tomllib.loads(Path(bundle).read_text(encoding="utf-8"))["device"]
    packages = ", ".join((*BASE_PACKAGES, *ROLE_PACKAGES.get(role, ())))
    return Template(USER_DATA.read_text(encoding="utf-8")).substitute(
        name=device["id"], role=role, ward=device["ward"], timezone=timezone, packages=packages, boot=boot)


def prepare(boot_dir: str | Path, bundle: str | Path, wheels: str | Path, timezone: str = "Asia/Ho_Chi_Minh",
            say: Callable[[str], None] = print) -> Path:
    """Writes a freshly flashed card's boot partition (mounted at `boot_dir`): `user-data`, the bundle as
    motcua/NAME.toml and every wheel of `wheels` (motcua's and its dependencies', from `motcua release build
    --with-deps`) under motcua/wheels. Returns the user-data path."""
    boot_dir, wheels = Path(boot_dir), Path(wheels)
    found = sorted(wheels.glob("*.whl"))
    if not any(w.name.startswith("motcua-") for w in found):
        raise ProvisioningError(f"{wheels} holds no motcua wheel: build one with `motcua release build --with-deps`")
    text = user_data(bundle, timezone)
    name = tomllib.loads(Path(bundle).read_text(encoding="utf-8"))["device"]["id"]
    target = boot_dir / "motcua"
    (target / "wheels").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bundle, target / f"{name}.toml")
    for wheel in found:
        shutil.copyfile(wheel, target / "wheels" / wheel.name)
    (boot_dir / "user-data").write_text(text, encoding="utf-8")
    say(f"wrote {boot_dir / 'user-data'}, {target / (name + '.toml')} and {len(found)} wheel(s); the card now holds "
        f"{name}'s broker password until its first boot removes it")
    return boot_dir / "user-data"


def first_boot(bundle: str | Path, root: str | Path = "/", say: Callable[[str], None] = print) -> str:
    """What cloud-init runs on the device: installs and starts the service for `bundle`, then removes the bundle
    from the boot partition (anyone holding the card could read its password there)."""
    bundle = Path(bundle)
    if not bundle.exists():
        raise ProvisioningError(f"{bundle} not found: was the card prepared with `motcua image prepare`?")
    service = install(bundle, root, start=True, say=say)
    bundle.unlink()
    say(f"removed the enrolment bundle {bundle}; the config lives in /etc/motcua now")
    return service
