# Starts role services as child processes, as systemd would, for the demo, the tests and the benches.
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from devkit.errors import DevkitError
from provisioning.install import UNITS

WARD_ZONE = "Asia/Ho_Chi_Minh"  # the machines' zone, as `motcua image prepare` sets a ward's (the configs' default)


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

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "provisioning", *self.command, "--config", str(self.config)]

    def start(self) -> RoleProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT, env=self.environment())
        return self

    def environment(self) -> dict[str, str]:
        return {**os.environ, **unit_environment(), "PYTHONUNBUFFERED": "1", "TZ": WARD_ZONE, **self.env}

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


class DrivenProcess(RoleProcess):
    """`python -m MODULE CONFIG` as a child process that takes commands on its stdin and answers one line each on
    its stdout (devkit/kiosk_driver.py, devkit/mock_pins.py); its log goes to the log file."""

    def __init__(self, module: str, config: str | Path, log_path: str | Path,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(module, config, log_path, env)
        self.module = module

    def argv(self) -> list[str]:
        return [sys.executable, "-m", self.module, str(self.config)]

    def start(self) -> DrivenProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                         env=self.environment(), text=True, encoding="utf-8")
        return self

    def ask(self, command: str) -> str | None:
        """Writes one command line and reads its answer; None when the process is gone (killed mid-command)."""
        proc = self.proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            return None
        try:
            proc.stdin.write(command + "\n")
            proc.stdin.flush()
            return proc.stdout.readline() or None
        except (OSError, ValueError):  # a closed pipe: the process died
            return None

    def read(self) -> str | None:
        """The next line it writes unasked (its "ready"); None when it is gone."""
        proc = self.proc
        return (proc.stdout.readline() or None) if proc is not None and proc.stdout is not None else None

    def kill(self) -> None:
        proc = self.proc
        super().kill()
        _close_pipes(proc)

    def stop(self, timeout: float = 10.0) -> int | None:
        proc = self.proc
        if proc is not None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # end of commands: it stops as a stopped service would
        code = super().stop(timeout)
        _close_pipes(proc)
        return code


def _close_pipes(proc: subprocess.Popen[str] | None) -> None:
    for pipe in (proc.stdin, proc.stdout) if proc is not None else ():
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
