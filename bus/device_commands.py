# Ward IT's commands to any device over the bus: ping, status, log level and restart, answered on the reply topic.
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from bus.access import COMMANDERS
from bus.client import BusClient
from bus.messages import Message

log = logging.getLogger(__name__)

Command = Callable[[dict[str, Any]], dict[str, Any]]
LEVELS = ("debug", "info", "warning", "error")


def _terminate_self() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


class DeviceCommands:
    """Answers `device.command` on this device's command topic. Every role gets the same four commands; a role may
    add its own. `restart` answers first, then stops the service the way SIGTERM does (everything durable is
    already on disk), and systemd's Restart=always starts it again. Unknown commands get ok=false and the list of
    known ones. Commands are never retained: an old restart must not fire when a device reconnects."""

    def __init__(self, bus: BusClient, extra: dict[str, Command] | None = None,
                 restart: Callable[[], None] = _terminate_self) -> None:
        self.bus, self.restart = bus, restart
        self.started = time.monotonic()
        self.commands: dict[str, Command] = {"ping": self._ping, "status": self._status,
                                             "log_level": self._log_level, "restart": self._restart,
                                             **(extra or {})}
        bus.subscribe(bus.topics.device_command(bus.device), self._on_command)

    def _on_command(self, msg: Message, _: str) -> None:
        if msg.corr is None:
            self.bus.rejected.count("command", f"ignored a command from {msg.device}: a command needs a corr")
            return
        if msg.device not in COMMANDERS:  # the broker's access list says the same; this device checks for itself too
            self.bus.rejected.count("command", f"ignored {msg.body['command']!r} from {msg.device}: only ward IT's "
                                               f"account and the console may send device commands")
            return
        name, args = msg.body["command"], msg.body.get("args") or {}
        command = self.commands.get(name)
        if command is None:
            body = {"command": name, "ok": False,
                    "result": {"reason": f"unknown command {name!r}; known: {', '.join(sorted(self.commands))}"}}
        else:
            try:
                body = {"command": name, "ok": True, "result": command(args)}
            except ValueError as exc:
                body = {"command": name, "ok": False, "result": {"reason": str(exc)}}
        log.info("%s: command %s from %s: %s", self.bus.device, name, msg.device, "ok" if body["ok"] else "refused")
        self.bus.reply(msg, "device.reply", body)

    def _ping(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"role": self.bus.role, "version": self.bus.version, "boot": self.bus.boot,
                "uptime_s": round(time.monotonic() - self.started)}

    def _status(self, _: dict[str, Any]) -> dict[str, Any]:
        return self.bus.state_body("online")

    def _log_level(self, args: dict[str, Any]) -> dict[str, Any]:
        level = args.get("level")
        if level not in LEVELS:
            raise ValueError(f"args.level must be one of {', '.join(LEVELS)}, got {level!r}")
        logging.getLogger().setLevel(level.upper())
        return {"level": level}

    def _restart(self, _: dict[str, Any]) -> dict[str, Any]:
        threading.Timer(0.5, self.restart).start()  # after the reply has gone out
        return {"restarting_in_s": 0.5}
