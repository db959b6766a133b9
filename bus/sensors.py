# What the machine's kernel says of its own health, for a device's state: the processor's heat, a Pi's power dipping.
from __future__ import annotations

from pathlib import Path

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
