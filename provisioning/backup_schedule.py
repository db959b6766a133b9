# The hub's nightly backup as a systemd timer: `motcua backup --install-timer` writes and enables it.
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from provisioning.errors import ProvisioningError
from provisioning.install import motcua_command, systemctl, write_file

SERVICE = "motcua-backup.service"
TIMER = "motcua-backup.timer"
AT = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
PLAIN = re.compile(r"[A-Za-z0-9._/+@:=,-]+")  # nothing a unit file would have to quote or escape


def units(dest: Path, config: Path, keep: int, at: str, command: str, more: tuple[str, ...] = ()) -> dict[str, str]:
    """The service (one backup, only once `dest`'s disk is mounted: a stick left out fails the night rather than
    filling the SD card) and its timer (nightly at `at`, and at the next boot for a night the hub was off). `more`:
    the backup command's other options, as given."""
    args = ("--to", str(dest), "--config", str(config), "--keep", str(keep), *more)
    for arg in args:
        if not PLAIN.fullmatch(arg):
            raise ProvisioningError(f"{arg!r}: for the timer, paths of letters, digits and ._-/+@:=, only (no spaces "
                                    f"or quotes; rename the folder or mount it elsewhere)")
    if not AT.fullmatch(at):
        raise ProvisioningError(f"--at {at!r} is not a time of day (HH:MM, e.g. 22:30)")
    service = (f"# The hub's backup into {dest}: written by `motcua backup --install-timer` "
               "(provisioning/backup_schedule.py).\n"
               "[Unit]\nDescription=motcua backup of the hub's machine\n"
               f"RequiresMountsFor={dest}\nAfter=local-fs.target\n\n"
               "[Service]\nType=oneshot\nNice=10\nIOSchedulingClass=idle\n"
               f"ExecStart={command} backup {' '.join(args)}\n")
    timer = (f"# Runs {SERVICE} nightly: written by `motcua backup --install-timer`.\n"
             f"[Unit]\nDescription=motcua backup of the hub's machine, nightly at {at}\n\n"
             f"[Timer]\nOnCalendar=*-*-* {at}:00\nPersistent=true\n\n"
             "[Install]\nWantedBy=timers.target\n")
    return {SERVICE: service, TIMER: timer}


def install_timer(dest: Path, config: Path, keep: int, at: str, more: tuple[str, ...] = (), root: Path = Path("/"),
                  say: Callable[[str], None] = print) -> None:
    """Writes the units under `root` and, on this machine with systemd running, enables the timer."""
    for name, text in units(dest.absolute(), config.absolute(), keep, at, motcua_command(), more).items():
        write_file(root / "etc/systemd/system" / name, text, 0o644, say)
    if root.resolve() != Path("/"):
        say(f"staging root {root}: on the device run `systemctl enable --now {TIMER}`")
        return
    systemctl(["daemon-reload"], say)
    systemctl(["enable", "--now", TIMER], say)
    say(f"nightly at {at}: `systemctl list-timers {TIMER}` shows the next run, `journalctl -u {SERVICE}` the last")
