# Runs the console: its bus connection and its web server, until SIGTERM; the watchdog watches both.
from __future__ import annotations

import logging
import threading
import time

import uvicorn

from bus import systemd
from bus.lifecycle import running, wait_for_stop
from bus.memory import return_big_buffers
from console.accounts import Accounts
from console.config import load_console
from console.errors import ConsoleError
from console.follow import Followers
from console.live import LiveWard, reset_spec
from console.web import make_app

log = logging.getLogger(__name__)


class ConsoleService:
    """The live view of the ward and the web app over it; `address` is where people open it."""

    def __init__(self, config_path: str) -> None:
        config, self.section = load_console(config_path)
        self.config = config
        self.live = LiveWard(config, self.section)
        self.accounts = Accounts(config.data_dir / self.section.accounts)
        if self.accounts.repair is not None:
            self.live.bus.repairs.append(self.accounts.repair)
        self.followers = Followers(self.live)
        self.live.bus.state_detail = lambda: {"address": self.address, "pages_open": self.live.listening,
                                              "phones_following": self.followers.following,
                                              "accounts": len(self.accounts.all())}
        s = self.section
        self.server = uvicorn.Server(uvicorn.Config(
            make_app(self.live, self.accounts, s, self.followers), host=s.listen, port=s.port, log_level="warning",
            lifespan="off", server_header=False, ssl_certfile=s.tls_cert or None, ssl_keyfile=s.tls_key or None,
            timeout_graceful_shutdown=1))  # a stream opened as it stops: `stop` ends the others
        self._thread = threading.Thread(target=self.server.run, name="console-web", daemon=True)

    @property
    def address(self) -> str:
        host = "127.0.0.1" if self.section.listen in ("0.0.0.0", "::") else self.section.listen
        return f"{'https' if self.section.tls_cert else 'http'}://{host}:{self.section.port}/"

    def start(self, timeout: float = 15.0) -> None:
        self.live.start()
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConsoleError(f"the console could not listen on {self.section.listen}:{self.section.port} "
                                   "(port in use? certificate unreadable?)")
            time.sleep(0.02)

    def health(self) -> str | None:
        if not self._thread.is_alive():
            return "the console's web server has stopped"
        return self.live.bus.health()

    def stop(self) -> None:
        self.server.should_exit = True
        self.live.end_streams(self.followers.pages())
        self._thread.join(5)
        self.live.stop()
        self.accounts.close()


def run(config_path: str) -> None:
    config, section = load_console(config_path)
    logging.getLogger().setLevel(config.device.log_level.upper())
    return_big_buffers()  # a sign-in's 19 MiB password hash is given back when done, not kept per thread
    with running(config, reset_spec(section)):
        service = ConsoleService(config_path)
        service.start()
        log.info("console running at %s", service.address)
        systemd.notify("READY=1")
        try:
            wait_for_stop(health=service.health)
        finally:
            service.stop()
