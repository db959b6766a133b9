# Ward IT's commands to any device over the bus, each with an id and an expiry, answered on the reply topic.
from __future__ import annotations

import contextlib
import logging
import os
import queue
import secrets
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bus import reset as factory
from bus.access import COMMANDERS, IT_ACCOUNT
from bus.client import BusClient
from bus.config import DeviceConfig
from bus.messages import Message
from bus.reload import Reloader
from bus.seen_commands import SeenCommands
from bus.update import Updater

log = logging.getLogger(__name__)

Command = Callable[[dict[str, Any]], dict[str, Any]]
LEVELS = ("debug", "info", "warning", "error")
TTL_S = 60.0  # a command's life unless the sender says otherwise
MAX_TTL_S = 600.0  # the longest a device accepts: an old command waiting at the broker must not fire hours later
CLOCK_SLACK_S = 120.0  # how far ahead of this device's clock an expiry may lie before it is refused as odd
IT_ONLY = ("factory_reset", "update")  # commands the console may not send: only ward IT's own account
QUEUED = 8  # commands waiting to be carried out; more are refused as busy


def command_body(command: str, args: dict[str, Any] | None = None, ttl_s: float = TTL_S,
                 now: float | None = None) -> dict[str, Any]:
    """A device.command body: a fresh id, and an expiry `ttl_s` from now (the sender's clock)."""
    now = time.time() if now is None else now
    return {"command": command, **({"args": args} if args else {}), "id": secrets.token_urlsafe(12),
            "expires": round(now + ttl_s, 3)}


def _terminate_self() -> None:
    os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class Device:
    """What the standard commands need to know of the device that runs them. `check` is the role's strict loader
    (a reload applies only a config it accepts); `live` maps an option ("voice.speak") or a whole section ("voice")
    to a function applying it from what `check` returned; `identify` makes the device known for some seconds and
    says how; `reset` is the role's factory reset, `outboxes` the other clients whose outboxes it must empty."""

    config: DeviceConfig | None = None
    check: Callable[[str], Any] | None = None
    live: dict[str, Callable[[Any], None]] = field(default_factory=dict)
    identify: Callable[[float], str] | None = None
    reset: factory.ResetSpec | None = None
    outboxes: list[BusClient] = field(default_factory=list)
    pin_factory: Any = None  # gpiozero's, for the reset button (a MockFactory in tests)


class DeviceCommands:
    """Answers `device.command` on this device's command topic: ping, status, identify, log_level, reload, restart,
    factory_reset and update for every role, and a role's own (a kiosk's test_print). A command needs an id never used
    before and an expiry still ahead; it may come from ward IT's account or the console (factory_reset and update
    from ward IT only); anything else is refused, logged and answered as refused. Commands run one at a time on
    their own thread, so a slow one (a reset delivering its outbox) never holds up the network thread."""

    def __init__(self, bus: BusClient, device: Device | None = None, extra: dict[str, Command] | None = None,
                 restart: Callable[[], None] = _terminate_self) -> None:
        self.bus, self.restart, self.device = bus, restart, device or Device()
        self.started = time.monotonic()
        config = self.device.config
        self.seen = SeenCommands(config.data_dir / factory.SEEN.format(device=bus.device) if config else None)
        self.reloader = Reloader(config.source, self.device.check, self.device.live) if config else None
        last_reset = factory.last_report(config.data_dir, bus.device) if config else None
        if last_reset:
            bus.facts["last_reset"] = last_reset
        self.commands: dict[str, Command] = {
            "ping": self._ping, "status": self._status, "identify": self._identify, "log_level": self._log_level,
            "reload": self._reload, "restart": self._restart, "factory_reset": self._factory_reset, **(extra or {})}
        if config is not None:  # fleet updates need the data folder, where releases are installed
            self.updater = Updater(bus, config.data_dir, self.restart)
            self.commands["update"] = self.updater.command
        self._queue: queue.Queue[Message | None] = queue.Queue(maxsize=QUEUED)  # None: the bus client stops
        self._thread = threading.Thread(target=self._work, name=f"commands-{bus.device}", daemon=True)
        self._thread.start()
        bus.adopt(self._thread, wake=self._wake)
        bus.subscribe(bus.topics.device_command(bus.device), self._on_command)
        self.button = None
        if config is not None and config.reset_button.pin >= 0:
            from bus.reset_button import ResetButton

            self.button = ResetButton(config.reset_button, lambda s: self._identify({"seconds": s}),
                                      lambda: self._factory_reset({"_by": "reset button"}), self.device.pin_factory)

    # -- admission, on the network thread --------------------------------------------------------------------
    def _on_command(self, msg: Message, _: str) -> None:
        refusal = self.refusal(msg, time.time())
        if refusal is not None:
            self._refuse(msg, *refusal)
            return
        try:
            self._queue.put_nowait(msg)
        except queue.Full:
            self._refuse(msg, "busy", f"{QUEUED} commands are already waiting; try again shortly")

    def refusal(self, msg: Message, now: float) -> tuple[str, str] | None:
        """Why `msg` must not be carried out (a code and words), or None. Remembers its id when admitted."""
        name, sender = msg.body["command"], msg.device
        if msg.corr is None:
            return "no_reply_address", "a command needs a correlation id (corr) to be answered"
        if sender not in COMMANDERS:  # the broker's access list says the same; this device checks for itself too
            return "not_allowed", f"{sender} may not send device commands: only ward IT's account and the console"
        if name in IT_ONLY and sender != IT_ACCOUNT:
            return "not_allowed", f"{name} may be sent only from ward IT's account {IT_ACCOUNT!r}, not {sender}"
        expires = msg.body["expires"]
        if expires < now:
            return "expired", (f"the command expired {now - expires:.0f} s ago by this device's clock; "
                               f"if the clocks differ, check the device's time (timedatectl)")
        if expires > now + MAX_TTL_S + CLOCK_SLACK_S:
            return "expired", (f"the command expires {expires - now:.0f} s from now by this device's clock, more "
                               f"than the {MAX_TTL_S:.0f} s a command may live; check both clocks")
        if not self.seen.admit(msg.body["id"], expires, now):
            return "replayed", f"command id {msg.body['id']} was already used; a command is carried out once"
        return None

    def _refuse(self, msg: Message, code: str, reason: str) -> None:
        self.bus.rejected.count("command", f"refused {msg.body['command']!r} from {msg.device}: {reason}")
        grants = self.bus.grants  # a sender this account may not answer (a kiosk to a kiosk) gets the log line only
        if msg.corr is not None and (grants is None or grants.may("write", self.bus.topics.reply(msg.device))):
            self._answer(msg, False, {"refused": code, "reason": reason})

    def _answer(self, msg: Message, ok: bool, result: dict[str, Any]) -> None:
        log.info("%s: command %s (%s) from %s: %s", self.bus.device, msg.body["command"], msg.body["id"],
                 msg.device, "done" if ok else f"refused: {result.get('reason')}")
        self.bus.reply(msg, "device.reply", {"command": msg.body["command"], "ok": ok, "result": result})

    # -- carrying out, on the commands thread ----------------------------------------------------------------
    def _wake(self) -> None:
        with contextlib.suppress(queue.Full):  # a full queue wakes the worker anyway
            self._queue.put_nowait(None)

    def _work(self) -> None:
        while not self.bus.stopping.is_set():  # ends with the bus client, which wakes it and joins it
            msg = self._queue.get()
            if msg is None:
                continue
            try:
                self._carry_out(msg)
            except Exception:  # service edge: one failing command must not stop the next; logged with its trace
                log.exception("%s: command %s failed", self.bus.device, msg.body["command"])

    def _carry_out(self, msg: Message) -> None:
        name, args = msg.body["command"], msg.body.get("args") or {}
        command = self.commands.get(name)
        if command is None:
            self._refuse(msg, "unknown_command", f"unknown command {name!r}; known: {', '.join(sorted(self.commands))}")
            return
        if not isinstance(args, dict):
            self._refuse(msg, "bad_args", "args must be an object")
            return
        try:
            result = command({**args, "_by": msg.device})
        except ValueError as exc:
            self._refuse(msg, "bad_args", str(exc))
            return
        self._answer(msg, True, result)

    # -- the commands ----------------------------------------------------------------------------------------
    def _ping(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"role": self.bus.role, "version": self.bus.version, "boot": self.bus.boot,
                "uptime_s": round(time.monotonic() - self.started)}

    def _status(self, _: dict[str, Any]) -> dict[str, Any]:
        return self.bus.state_body("online")

    def _identify(self, args: dict[str, Any]) -> dict[str, Any]:
        seconds = args.get("seconds", 10)
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 1 <= seconds <= 120:
            raise ValueError(f"args.seconds must be a number of seconds from 1 to 120, got {seconds!r}")
        did = self.device.identify(float(seconds)) if self.device.identify else \
            "this device has no screen, speaker or LED of its own: find it by its host name and addresses"
        return {"did": did, "seconds": seconds, **host_facts()}

    def _log_level(self, args: dict[str, Any]) -> dict[str, Any]:
        level = args.get("level")
        if level not in LEVELS:
            raise ValueError(f"args.level must be one of {', '.join(LEVELS)}, got {level!r}")
        logging.getLogger().setLevel(level.upper())
        return {"level": level}

    def _reload(self, _: dict[str, Any]) -> dict[str, Any]:
        if self.reloader is None:
            raise ValueError("this device was started without a config file to read again")
        return self.reloader.reload()

    def _restart(self, _: dict[str, Any]) -> dict[str, Any]:
        factory.restart_soon(self.restart)
        return {"restarting_in_s": 0.5}

    def _factory_reset(self, args: dict[str, Any]) -> dict[str, Any]:
        spec, config = self.device.reset, self.device.config
        if spec is None or config is None:
            raise ValueError(f"a {self.bus.role} has no factory reset")
        if args.get("forget_identity"):
            raise ValueError("the identity (config and broker account) is kept by a remote reset; to forget it, run "
                             "`sudo motcua reset --factory --forget-identity` on the device")
        wait_s = args.get("wait_s", factory.DRAIN_S)
        if not isinstance(wait_s, int | float) or isinstance(wait_s, bool) or not 0 <= wait_s <= 120:
            raise ValueError(f"args.wait_s must be 0..120 seconds, got {wait_s!r}")
        refusal = spec.refuse()
        if refusal:
            raise ValueError(refusal)
        sent = factory.deliver_or_export([self.bus, *self.device.outboxes], float(wait_s))
        report = factory.request(config.data_dir, self.bus.device, sent, args["_by"])
        factory.restart_soon(self.restart)
        return {**report, "restarting_in_s": 0.5}


def host_facts() -> dict[str, Any]:
    """The machine's host name and IPv4 addresses: how ward IT finds a device on the network."""
    import socket

    name = socket.gethostname()
    try:
        addresses = sorted({a[4][0] for a in socket.getaddrinfo(name, None, socket.AF_INET)})
    except OSError:
        addresses = []
    return {"host": name, "addresses": addresses}
