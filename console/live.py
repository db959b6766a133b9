# The console's view of the ward from the retained states on the bus, pushed to every open page, and its requests.
from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bus import health
from bus.client import BusClient
from bus.config import DeviceConfig
from bus.device_commands import Device, DeviceCommands
from bus.errors import TooLarge
from bus.messages import Message
from bus.reset import ResetSpec
from bus.topics import parse
from console.config import ConsoleSection, load_console

log = logging.getLogger(__name__)
QUEUE = 200  # events a page may fall behind before it is told to load again


@dataclass
class Listener:
    """One open page's stream: events are put on `queue` from the bus thread through the page's own loop."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=lambda: asyncio.Queue(QUEUE))  # None: end
    kinds: frozenset[str] = frozenset()

    def put(self, event: dict[str, Any]) -> None:  # on the loop's thread
        if self.queue.full():  # a page that cannot keep up is told to reload rather than shown stale states
            self.queue.get_nowait()
            event = {"kind": "reload"}
        self.queue.put_nowait(event)

    def end(self) -> None:  # on the loop's thread: the stream returns at its next read
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class LiveWard:
    """Everything the pages show comes from here: the board state, each counter's state, each device's state, the
    services and the catalogue, as the hub and the devices last published them (retained). A change is pushed at
    once to every open page that listens for its kind: no page polls. Actions go out as requests and wait for the
    hub's answer; none is sent while the console cannot reach the hub, and none is queued for later."""

    def __init__(self, config: DeviceConfig, section: ConsoleSection) -> None:
        self.section = section
        self.bus = BusClient(config.broker, config.device.ward, config.device.id, "console",
                             data_dir=config.data_dir)
        self.commands = DeviceCommands(self.bus, Device(config, load_console, reset=reset_spec(section)))
        self.board: dict[str, Any] = {}
        self.counters: dict[int, dict[str, Any]] = {}
        self.devices: dict[str, Message] = {}
        self.lost_at: dict[str, float] = {}  # when this console saw a device it had seen online go offline
        self.services: list[dict[str, Any]] = []
        self.hours: list[str] = []  # the ward's working hours as the hub last published them (its rules)
        self.catalogue: dict[str, Any] | None = None
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        t = self.bus.topics
        for topic, handler in ((t.board_state, self._board), (t.counter_state("+"), self._counter),
                               (t.device_state("+"), self._device), (t.services, self._services),
                               (t.catalogue, self._catalogue), (t.ticket_event, self._ticket_event)):
            self.bus.subscribe(topic, handler)
        self.bus.on_connect(lambda: self._push({"kind": "link", **self.link()}))
        self.bus.on_disconnect(lambda: self._push({"kind": "link", **self.link()}))

    def start(self) -> None:
        self.bus.start()

    def stop(self) -> None:
        self.bus.stop()

    # -- what pages read -----------------------------------------------------------------------------------
    @property
    def hub_online(self) -> bool:
        msg = self.devices.get(self.section.hub_id)
        return self.bus.connected.is_set() and msg is not None and msg.body["status"] == "online"

    def link(self) -> dict[str, bool]:
        return {"bus": self.bus.connected.is_set(), "hub": self.hub_online}

    def service_names(self) -> dict[str, dict[str, Any]]:
        return {s["code"]: s for s in self.services}

    def fleet(self, lang: str) -> list[dict[str, Any]]:
        return health.across([health.row(name, msg, lang, seen_lost=self.lost_at.get(name))
                              for name, msg in sorted(self.devices.items())], lang)

    # -- pages listening -----------------------------------------------------------------------------------
    def listen(self, kinds: frozenset[str]) -> Listener:
        listener = Listener(asyncio.get_running_loop(), kinds=kinds)
        with self._lock:
            self._listeners.append(listener)
        return listener

    def forget(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def end_streams(self, pages: list[Listener]) -> None:
        """Ends every open page's stream, these listeners' (the phone pages) too, as the console stops: the web
        server then stops at once instead of waiting out its grace for streams that never end by themselves, and
        each page's browser reconnects to the console that comes back."""
        with self._lock:
            listeners = self._listeners + pages
        for listener in listeners:
            with contextlib.suppress(RuntimeError):  # that page's loop has closed: it is gone
                listener.loop.call_soon_threadsafe(listener.end)

    @property
    def listening(self) -> int:
        return len(self._listeners)

    def _push(self, event: dict[str, Any]) -> None:
        with self._lock:
            listeners = [x for x in self._listeners if event["kind"] in x.kinds or event["kind"] in ("link", "reload")]
        for listener in listeners:
            try:
                listener.loop.call_soon_threadsafe(listener.put, event)
            except RuntimeError:  # that page's loop has closed: it is gone
                self.forget(listener)

    # -- from the bus (network thread) ---------------------------------------------------------------------
    def _board(self, msg: Message, _: str) -> None:
        self.board = msg.body
        self._push({"kind": "board", "board": msg.body})

    def _counter(self, msg: Message, _: str) -> None:
        self.counters[msg.body["counter"]] = msg.body
        self._push({"kind": "counter", "counter": msg.body["counter"], "state": msg.body})

    def _device(self, msg: Message, topic: str) -> None:
        parsed = parse(topic)
        if parsed is None:
            return
        was_online = self.hub_online
        before = self.devices.get(parsed.name)
        if msg.body["status"] == "online":
            self.lost_at.pop(parsed.name, None)
        elif before is not None and before.body["status"] == "online":  # its last will says not when: now, here
            self.lost_at[parsed.name] = time.time()
        self.devices[parsed.name] = msg
        self._push({"kind": "device", "device": parsed.name})
        if parsed.name == self.section.hub_id and self.hub_online != was_online:
            self._push({"kind": "link", **self.link()})

    def _services(self, msg: Message, _: str) -> None:
        self.services = msg.body["services"]
        self.hours = msg.body.get("hours", [])
        self._push({"kind": "services"})

    def _catalogue(self, msg: Message, _: str) -> None:
        self.catalogue = msg.body
        self._push({"kind": "catalogue"})

    def _ticket_event(self, msg: Message, _: str) -> None:
        self._push({"kind": "ticket", "event": msg.body["event"], "counter": msg.body.get("counter"),
                    "label": msg.body["ticket"]["label"]})

    # -- requests (blocking: pages call them from a worker thread) ------------------------------------------
    def ask(self, topic_of: Callable[[Any], str], type_: str, body: dict[str, Any], needs_hub: bool = True
            ) -> Message | str:
        """The answer to one request, or why there is none: "not_sent" (the hub or the broker is out of reach:
        nothing went out), "too_large" (it does not fit in one message: nothing went out) or "no_answer" (it went
        out; the hub did not answer in time)."""
        if not self.bus.connected.is_set() or (needs_hub and not self.hub_online):
            return "not_sent"
        try:
            reply = self.bus.request(topic_of(self.bus.topics), type_, body, timeout=self.section.request_timeout_s)
        except TooLarge as exc:  # a catalogue of too many procedures, even deflated: said, never a broken page
            log.warning("console: %s not sent: %s", type_, exc)
            return "too_large"
        return "no_answer" if reply is None else reply


def reset_spec(section: ConsoleSection) -> ResetSpec:
    """The console's factory reset: its accounts, sign-in secret and audit log archived under archive/ (ward IT
    adds the officers again with `motcua officer add`)."""
    return ResetSpec(archive=(f"{section.accounts}*",))
