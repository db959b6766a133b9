# Serves the releases ward IT offered (DATA/offered/<version>/) to the ward's devices over HTTP, for fleet updates.
from __future__ import annotations

import functools
import logging
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bus.update import MANIFEST
from hub.errors import HubError

log = logging.getLogger(__name__)

OFFERED = "offered"  # under the hub's data folder; `motcua fleet offer` puts each release there


class _Files(SimpleHTTPRequestHandler):
    """GET and HEAD of the files only: no folder listings, a slow or silent client dropped after `timeout`. The
    files are not secret (motcua's own wheels); what protects a device is the manifest checksum its update command
    carries, checked before anything is installed."""

    timeout = 30
    server_version = "motcua-releases"
    sys_version = ""

    def list_directory(self, path: str | Path) -> None:  # type: ignore[override]
        self.send_error(404, "no listing here: ask for a release's files by name")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        log.debug("release server: %s - %s", self.address_string(), format % args)


class ReleaseServer:
    """The hub's release shelf on `port` (all addresses, for the ward's LAN)."""

    def __init__(self, data_dir: Path, port: int, host: str = "") -> None:
        self.folder = data_dir / OFFERED
        handler = functools.partial(_Files, directory=str(self.folder))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise HubError(f"hub.release_port: cannot serve releases on port {port}: {exc.strerror or exc}") from None
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="release-server", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("offering releases from %s on port %d", self.folder, self.port)

    def offered(self) -> list[str]:
        """The versions on the shelf (each a folder with its manifest), for the hub's state."""
        return sorted(p.name for p in self.folder.iterdir() if (p / MANIFEST).is_file())

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
