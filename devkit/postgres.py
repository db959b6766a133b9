# A throwaway PostgreSQL server on loopback for the collector's tests, bench and trials: initdb, start, stop, crash.
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from devkit.broker import free_port
from devkit.errors import DevkitError


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or ([shutil.which(name)] if shutil.which(name)
                                                                       else [])
    if not found:
        raise DevkitError(f"PostgreSQL's {name} was not found; install the Debian package postgresql")
    return found[-1]


class PostgresServer:
    """One cluster in a fresh folder, trusting local connections, listening on 127.0.0.1 only. PostgreSQL refuses
    to run as root, so as root the cluster belongs to the `postgres` user the Debian package creates."""

    def __init__(self, database: str = "district") -> None:
        self.database = database
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="motcua-pg-"))
        self.data = self.folder / "data"
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise DevkitError("running as root needs the 'postgres' user (Debian package postgresql)") \
                    from None
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}

    @property
    def dsn(self) -> str:
        return f"postgresql://motcua@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *args: str) -> None:
        done = subprocess.run(args, capture_output=True, text=True, cwd=self.folder, **self._as)
        if done.returncode != 0:
            raise DevkitError(f"{Path(args[0]).name} failed: {(done.stderr or done.stdout).strip()[-400:]}")

    def start(self) -> PostgresServer:
        if not self.data.exists():
            self._run(_bin("initdb"), "-D", str(self.data), "-U", "motcua", "--auth=trust", "-E", "UTF8",
                      "--no-locale")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options,
                  "-w", "start")
        self._create_database()
        return self

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(f"postgresql://motcua@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self, mode: str = "fast") -> None:
        """Stops the server; mode "immediate" is a crash (no checkpoint), as a power cut would leave it."""
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(DevkitError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
