# The notifier: takes the phone numbers kiosks send, watches the lines and the calls, and texts through its gateway.
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bus import estimate
from bus.client import BusClient
from bus.config import DeviceConfig
from bus.device_commands import Device, DeviceCommands
from bus.messages import Message, iso_ts
from notify.config import NotifySection, load_notify
from notify.errors import GatewayError
from notify.gateways import Gateway, backend
from notify.store import Store
from notify.texts import compose, counter_name

log = logging.getLogger(__name__)
IDLE_S = 1.0  # the sender looks for due texts at least this often
SENDER_STUCK_S = 300.0  # a sender that has not come round for this long is stuck (the watchdog stops); a modem's
# answer to one message is at most [gateway] timeout_s, 120 s
NEAR_LEAD_S = 600.0  # with working hours set, "near" goes at most this long before the session the turn comes in


class NotifyService:
    """The bus thread only records: a subscription, a text queued (one per ticket and kind, committed). One sender
    thread hands queued texts to the gateway in order and retries a failed one later, doubling the wait; a failing
    gateway is in the device state for ward IT and never holds up anything else in the ward."""

    def __init__(self, config: DeviceConfig, section: NotifySection, clock: Callable[[], float] = time.time,
                 gateway: Gateway | None = None) -> None:
        self.config, self.section, self.clock = config, section, clock
        self.tz = ZoneInfo(section.timezone)
        self.store = Store(config.data_dir / section.database)
        self.gateway = gateway or backend(section.gateway).make(section.options, config.data_dir)
        self.bus = BusClient(config.broker, config.device.ward, config.device.id, "notify", data_dir=config.data_dir)
        self.bus.state_detail = self._detail
        if self.store.repair is not None:
            self.bus.repairs.append(self.store.repair)
        self.commands = DeviceCommands(self.bus, Device(config, load_notify))
        self.places: dict[str, dict[int, int]] = {}  # service -> ticket id -> tickets ahead, from its line state
        self.paces: dict[str, dict[str, Any]] = {}  # service -> what its waits are estimated from (its line state)
        self.counters: dict[int, dict[str, Any]] = {}  # counter -> its names, from the board state
        self.failing: tuple[str, float] | None = None  # the gateway's last error and since when
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._sender = threading.Thread(target=self._send_loop, name="notify-sender", daemon=True)
        self._sender_at = time.monotonic()
        self._hub_day: str | None = None  # the hub's numbering day, from its board state
        self._day = self.today()

    def start(self) -> None:
        t = self.bus.topics
        self.bus.subscribe(t.notify_subscribe, self._subscribe)
        self.bus.subscribe(t.line_state("+"), self._line)
        self.bus.subscribe(t.ticket_event, self._event)
        self.bus.subscribe(t.board_state, self._board)
        self.bus.subscribe(t.counter_state("+"), self._counter)  # retained: a call made while this was down
        self.store.forget_before(self._day)  # numbers of a day that ended while the notifier was off
        self._sender.start()
        self.bus.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._sender.join(10)
        self.bus.stop()
        self.gateway.close()
        self.store.close()

    def health(self) -> str | None:
        if self._sender.ident is not None and not self._sender.is_alive():
            return "the notifier's sender thread has stopped"
        stuck = time.monotonic() - self._sender_at
        if stuck > SENDER_STUCK_S:
            return f"the notifier's sender has not come round for {stuck:.0f} s"
        return self.bus.health()

    def today(self) -> str:
        """The ward's day as the hub numbers it (its board state says): the hub owns the day, which stays on the
        last day used while its clock is unset and is held after a jump (docs/queue.md). The clock's date only
        before the first board state."""
        return self._hub_day or datetime.fromtimestamp(self.clock(), self.tz).date().isoformat()

    # -- from the bus (network thread) ---------------------------------------------------------------------
    def _subscribe(self, msg: Message, _: str) -> None:
        b = msg.body
        if msg.corr is None:
            return
        if b["day"] != self.today():
            self.bus.reply(msg, "error", {"code": "stale", "reason": f"the ticket is of {b['day']}, not today"})
            return
        self.store.subscribe(b["day"], b, b["phone"], b["lang"], self.clock())
        self.bus.reply(msg, "notify.accepted", {"ticket_id": b["ticket_id"]})
        self._check_places(b["service"])  # already near? told at once

    def _line(self, msg: Message, _: str) -> None:
        if msg.body["day"] != self.today():
            return
        self.paces[msg.body["service"]] = msg.body["pace"]
        self.places[msg.body["service"]] = {ticket: place for place, ticket in enumerate(msg.body["waiting"])}
        self._check_places(msg.body["service"])

    def _check_places(self, service: str) -> None:
        places, pace = self.places.get(service, {}), self.paces.get(service, {})
        for sub in self.store.following(self.today(), service):
            place = places.get(sub["ticket_id"])
            if not sub["queued"] and place is not None and place <= self.section.near_ahead \
                    and not self._break_first(pace, place):
                self.queue(sub, "near", ahead=place)

    def _break_first(self, pace: dict[str, Any], place: int) -> bool:
        """Whether a break or closing lies before a turn `place` tickets away (the ward's hours, from the line
        state): then "come back now" would send the citizen back to a shut room, so the text waits — until NEAR_LEAD_S
        before the session the turn comes in (the sender looks again each round: a break ends without a line state)."""
        if pace.get("hours") is None:
            return False
        now = self.clock()
        if not any(start - NEAR_LEAD_S <= now < end for start, end in pace["hours"]):
            return True  # in a break, before opening or after closing
        working = estimate.wait_range(pace, place)  # no clock: in working minutes
        if not working["known"]:
            return False
        on_clock = estimate.on_the_clock(working, pace["hours"], now)
        return not on_clock["known"] or on_clock["low_min"] > working["low_min"] + NEAR_LEAD_S / 60

    def _event(self, msg: Message, _: str) -> None:
        event, ticket = msg.body["event"], msg.body["ticket"]
        if event == "transferred":
            self.store.moved(self.today(), ticket["id"], ticket["service"])
        elif event in ("called", "recalled") and msg.body.get("counter") is not None:
            self._called(ticket["id"], msg.body["counter"])

    def _counter(self, msg: Message, _: str) -> None:
        """A counter's state, retained: after a restart, the tickets called while the notifier was down and still
        at their counter get their text (events are not kept for a process that was not there)."""
        ticket = msg.body.get("ticket") or {}
        if ticket.get("status") in ("called", "serving") and ticket.get("day") == self.today():
            self._called(ticket["id"], msg.body["counter"])

    def _called(self, ticket_id: int, counter: int) -> None:
        for sub in self.store.following(self.today(), ticket_id=ticket_id):  # none, or the ticket's one
            if "called" not in sub["queued"]:
                names = self.counters.get(counter, {})
                name = names.get("name_en" if sub["lang"] == "en" else "name_vi") or counter_name(counter, sub["lang"])
                self.queue(sub, "called", counter=name)

    def _board(self, msg: Message, _: str) -> None:
        self.counters = {c["counter"]: c for c in msg.body["counters"]}
        self._hub_day = msg.body["day"]

    def queue(self, sub: dict[str, Any], kind: str, **fields: Any) -> None:
        """Queues the `kind` text ("near" or "called") for subscription `sub` (once: a repeat changes nothing)."""
        fields = {"ticket": sub["label"], "service": sub["service"], "ahead": "", "counter": "", **fields}
        text = compose(kind, sub["lang"], fields, self.section.ward_short)
        if self.store.queue(sub["id"], kind, text, fields, self.clock()):
            self._wake.set()

    # -- the sender thread ---------------------------------------------------------------------------------
    def _send_loop(self) -> None:
        while not self._stop.is_set():
            self._sender_at = time.monotonic()
            try:
                for service in list(self.places):  # a "near" text held for a break whose end has come
                    self._check_places(service)
                self._send_due()
            except Exception:  # service edge: logged; the next round tries again, nothing is lost
                log.exception("notify: sending queued texts failed")
            self._wake.wait(IDLE_S)
            self._wake.clear()

    def _send_due(self) -> None:
        today = self.today()
        if today != self._day:  # midnight: yesterday's phone numbers are deleted
            gone = self.store.forget_before(today)
            log.info("notify: a new day (%s); %d phone numbers of earlier days deleted", today, gone)
            self._day, self.places, self.paces = today, {}, {}
        for message in self.store.due(self.clock()):
            if self._stop.is_set():
                return
            try:
                reference = self.gateway.send(message)
            except GatewayError as exc:
                wait = self.store.failed(message.id, exc.reason, self.clock(), self._backoff)
                self._gateway_failed(message.id, exc.reason, wait)
                return  # the gateway is down: the rest wait their turn
            self.store.sent(message.id, reference, today, self.clock())
            if self.failing is not None:
                log.info("notify: the %s gateway works again", self.gateway.name)
                self.failing = None
                self.bus.publish_state()

    def _backoff(self, tries: int) -> float:
        return min(self.section.retry_first_s * 2 ** (tries - 1), self.section.retry_max_s)

    def _gateway_failed(self, message_id: int, reason: str, wait: float) -> None:
        log.warning("notify: text %d not sent (%s); trying again in %.0f s", message_id, reason, wait)
        if self.failing is None:
            self.failing = (reason, self.clock())
            self.bus.publish_state()  # ward IT sees it now, not at the next minute
        else:
            self.failing = (reason, self.failing[1])

    def _detail(self) -> dict[str, Any]:
        gateway: dict[str, Any] = {"kind": self.gateway.name, "ok": self.failing is None}
        if self.failing is not None:
            gateway.update(error=self.failing[0],
                           since=iso_ts(self.failing[1]))
        return {"gateway": gateway, "waiting": self.store.waiting(), "today": self.store.counts(self.today())}
