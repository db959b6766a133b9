# The time since boot and this boot's id: a clock no setting of the wall clock moves, comparable within one boot.
from __future__ import annotations

import time
from pathlib import Path

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    """This boot's id (Linux), "" where there is none: the time since boot is comparable only within one boot."""
    try:
        return BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def since_boot() -> float:
    """Seconds since the machine booted, suspend included: it runs on whatever the wall clock does."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)
