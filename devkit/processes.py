# Starts role services as child processes, as systemd would, for the demo, the tests and the benches.
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from devkit.errors import DevkitError
from provisioning.install import UNITS


def unit_environment() -> dict[str, str]:
    """The `Environment=` lines of the systemd unit, so a role started here runs as it does in a ward."""
    found = {}
    for line in (UNITS / "motcua@.service").read_text(encoding="utf-8").splitlines():
        if line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").partition("=")
            found[name] = value
    return found


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
                                         env={**os.environ, **unit_environment(), "PYTHONUNBUFFERED": "1",
                                              **self.env})
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
            raise DevkitError(f"{self.role} exited with code {self.proc.returncode}; see {self.log_path}")
