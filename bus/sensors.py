# What the machine says of itself, for a device's state: the processor's heat, a Pi's power dipping, its time zone.
from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

MODEL = Path("/proc/device-tree/model")  # "Raspberry Pi 5 Model B Rev 1.0" on a Pi
THERMAL = Path("/sys/class/thermal/thermal_zone0/temp")  # the SoC's temperature in m°C (a Raspberry Pi's, most PCs')
HWMON = Path("/sys/class/hwmon")  # a Raspberry Pi's firmware alarm is the hwmon device named rpi_volt


def raspberry_pi(path: Path = MODEL) -> bool:
    """Whether this machine is a Raspberry Pi (its heat is judged by a Pi's limits; a PC's are its own)."""
    try:
        return path.read_bytes().startswith(b"Raspberry Pi")
    except OSError:
        return False


def temperature_c(path: Path = THERMAL) -> float | None:
    """The machine's processor temperature in °C, None where the kernel shows none (a VM, a container)."""
    try:
        return round(int(path.read_text(encoding="ascii").strip()) / 1000, 1)
    except (OSError, ValueError):
        return None


def under_voltage(root: Path = HWMON) -> bool | None:
    """Whether a Raspberry Pi's firmware saw its supply dip under about 4.63 V in the last few seconds (the kernel's
    rpi_volt alarm, which it clears every two seconds); None on a machine without it."""
    for device in sorted(root.glob("hwmon*")):
        try:
            if (device / "name").read_text(encoding="ascii").strip() == "rpi_volt":
                return (device / "in0_lcrit_alarm").read_text(encoding="ascii").strip() == "1"
        except (OSError, ValueError):
            return None
    return None


def zone_apart(zone: str, now: float | None = None) -> dict[str, str] | None:
    """None when this machine's local time reads as the ward's time zone `zone` does now; else both offsets. A
    machine left at another zone (a Debian install at UTC) writes its log, shows the console's times and runs its
    timers (the nightly backup) hours off the ward's clocks, while the roles' own times follow their configs."""
    at = time.time() if now is None else now
    mine = datetime.fromtimestamp(at).astimezone().utcoffset()
    ward = datetime.fromtimestamp(at, ZoneInfo(zone)).utcoffset()
    if mine == ward or mine is None or ward is None:
        return None
    return {"zone": zone, "machine": _utc(mine), "ward": _utc(ward)}


def _utc(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    return f"UTC{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
