# The demo's web console: its own process, demo accounts, and its address printed for a person to open.
from __future__ import annotations

import webbrowser
from pathlib import Path

from console.accounts import Accounts
from console.config import load_console
from devkit.broker import free_port, port_open
from devkit.configs import write_console_config
from devkit.processes import RoleProcess

PASSWORD = "motcua-demo-2026"
ACCOUNTS = (("quantri", "Quản trị viên", "admin", ()), ("canbo1", "Cán bộ Quầy 1", "officer", (1, 2)),
            ("cntt", "Cán bộ CNTT", "it", ()))


class DemoConsole:
    """`motcua console run` as its own process, on a free loopback port, with one account of each role."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.http = 8080 if not port_open("127.0.0.1", 8080) else free_port()
        path = write_console_config(workdir, port, self.http)
        config, section = load_console(str(path))
        accounts = Accounts(config.data_dir / section.accounts)
        for name, display, role, counters in ACCOUNTS:
            if accounts.get(name) is None:
                accounts.add(name, display, role, PASSWORD, counters, by="demo")
        accounts.close()
        self.process = RoleProcess("console", path, workdir / "console.log", command=("console", "run"))

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.http}/"

    def start(self, open_browser: bool = False) -> DemoConsole:
        self.process.start()
        if open_browser:
            webbrowser.open(self.address)
        return self

    def stop(self) -> None:
        self.process.stop()

    def banner(self) -> str:
        names = ", ".join(f"{name} ({role})" for name, _, role, _ in ACCOUNTS)
        return (f"console: {self.address} - sign in as {names} with the password {PASSWORD}; the real kiosk's "
                f"tickets carry a QR code to their live page at {self.address}t/<token> (docs/phone.md)")
