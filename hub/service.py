# The hub service: takes requests off the bus, applies them to the queue, replies, and republishes board state.
from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bus import systemd
from bus.boot_clock import since_boot
from bus.catalogue import load_catalogue_message
from bus.client import BusClient
from bus.config import DeviceConfig
from bus.device_commands import Device, DeviceCommands
from bus.messages import Message
from bus.own_loop import OwnLoop
from bus.sqlite_repair import forget_restored_note, restored_note
from bus.topics import parse
from bus.transaction import storage_error, transaction
from hub import reads
from hub import stats as ward_stats
from hub.board import board_state, services_list
from hub.config import HubSection, PolicyConfig, load_hub
from hub.database_health import DatabaseHealth
from hub.outcome import Outcome
from hub.queue import Queue
from hub.retained import RetainedStates
from hub.settings import Current, Settings
from hub.store import days_up_to, issued_on, open_repaired, prune_handled, reset_spec
from hub.upstream import UpstreamForwarder

if TYPE_CHECKING:
    from hub.releases import ReleaseServer

log = logging.getLogger(__name__)
BATCH = 200
STATE_INTERVAL = 5.0  # the retained device state is refreshed this often
REPAIR_JUMP = 100  # after a repair that lost rows, each service's numbering jumps this far so none is reused
BOARD_INTERVAL = 0.1  # board state and counters' waiting lists are rebuilt at most this often; ticket events at once
HOURS_INTERVAL = 60.0  # with working hours set, the board's waits move with the clock: rebuilt at least this often
# (topic kind, message type) -> the queue operation a request asks for; a counter command names its own action
ROUTES: dict[tuple[str, str], str] = {
    ("ticket/request", "ticket.request"): "issue",
    ("ticket/confirm", "ticket.confirm"): "confirm",
    ("ticket/offline", "ticket.offline"): "offline",
    ("rating", "rating.submit"): "rate",
    ("counter/+/command", "counter.command"): "counter",
    ("admin/request", "admin.command"): "admin",
    ("stats/request", "stats.request"): "stats",
    ("ticket/lookup", "ticket.lookup"): "lookup",
}
READ_ONLY = ("stats", "lookup")  # answered from the database: nothing stored, nothing to deduplicate (hub/reads.py)
WORKER_STUCK_S = 30.0  # a worker that has not come round its loop for this long is stuck (the watchdog stops)


class HubService:
    """Owns the queue. One worker thread runs the network loop and applies requests in arrival order."""

    def __init__(self, config: DeviceConfig, hub: HubSection, clock: Callable[[], float] = time.time,
                 uptime: Callable[[], float] = since_boot) -> None:
        self.config = config
        self.db, repair = open_repaired(config.data_dir / hub.database)
        self.queue = Queue(self.db, hub, clock, uptime)
        catalogue = load_catalogue_message(hub.catalogue, config.source) if hub.catalogue else None
        self.settings = Settings(self.db, hub, catalogue, self.queue.today)  # an admin's later versions laid over
        self.hub, self.catalogue = self.settings.current.hub, self.settings.current.catalogue
        self.queue.reconfigure(self.hub)
        self.queue.ops["admin"] = self.settings.op_admin
        restored = restored_note(config.data_dir / hub.database)
        if (repair is not None and repair.unreadable) or restored is not None:  # today's tickets may be lost
            self.queue.jump_numbers(REPAIR_JUMP)
        if restored is not None:  # numbers printed after the backup was made are not in it
            log.warning("the hub database was restored from %s (made %s): numbering jumped %d ahead",
                        restored.get("backup"), restored.get("made"), REPAIR_JUMP)
            forget_restored_note(config.data_dir / hub.database)
        # A clean session on purpose: requests queued at the broker while the hub is down would be stale when it
        # returns (a phantom ticket for a citizen who already left); what must survive is resent by its sender.
        # own_loop: the worker runs the network loop, so a request is read, applied and answered on one thread
        self.bus = BusClient(config.broker, config.device.ward, config.device.id, "hub", data_dir=config.data_dir,
                             own_loop=True)
        self.network: OwnLoop = self.bus.loop  # type: ignore[assignment]
        self.bus.state_detail = self._state_detail
        self.retained = RetainedStates(self.bus)
        self.lines = reads.LineStates(self.retained, self.queue)
        up = config.sections.get("upstream")
        self.upstream = UpstreamForwarder(config, up, self.db) if up is not None and up.host else None
        self._new_policy: PolicyConfig | None = None  # a reloaded config's policy, for the worker to apply
        device = Device(config, load_hub, {"hub.policy": self._reload_policy},
                        reset=reset_spec(hub, self._reset_refusal),
                        outboxes=[self.upstream.bus] if self.upstream else [])
        self.commands = DeviceCommands(self.bus, device)
        self.releases: ReleaseServer | None = None
        if hub.release_port:  # off by default; its HTTP server's modules are loaded only when it is on
            from hub.releases import ReleaseServer

            self.releases = ReleaseServer(config.data_dir, hub.release_port)
        self.bus.repairs += ([repair] if repair else []) + (self.upstream.bus.repairs if self.upstream else [])
        self._stats_at = 0.0
        self._stats_asked = threading.Event()
        self.stats: Counter[str] = Counter()
        self._inbox: queue.Queue[tuple[Message, str]] = queue.Queue(maxsize=50000)
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._work, name="hub-worker", daemon=True)
        self._dirty_board = True
        self._board_at = 0.0
        self.hours_interval = HOURS_INTERVAL
        self._dirty_counters: set[int] = set()  # their own ticket or status changed: published after the batch
        self._dirty_lines: set[int] = set()  # only who waits for them changed: published with the board
        self._republish = threading.Event()
        self.database = DatabaseHealth(config.data_dir / hub.database)
        self._board_day: str | None = None  # the day of the board state last published
        self._worker_at = time.monotonic()  # when the worker last came round its loop
        self._state_at = self._pruned_at = 0.0  # when the worker last published its state, pruned old answers
        self._held_said: str | None = None
        self._last_fault = ""  # the last fault of a turn, logged once while it repeats

    def start(self) -> None:
        t = self.bus.topics
        for kind in {kind for kind, _ in ROUTES}:  # every topic a request may come on, and nothing else
            self.bus.subscribe(t.below(kind), self._enqueue)
        self.bus.on_connect(self.republish)
        if self.upstream is not None:
            self.upstream.start()
            self.upstream.send_unsent()
        self.bus.start()  # the connection is made by the worker's first round of the network loop
        self._worker.start()
        if self.releases is not None:
            self.releases.start()
        systemd.notify("READY=1")

    def stop(self) -> None:
        self._stop.set()
        self.bus.stop_loop()
        self._worker.join(5)
        self.bus.stop()
        if self.upstream is not None:
            self.upstream.stop()
        if self.releases is not None:
            self.releases.stop()
        self.db.close()

    # -- the network loop's callback (on the worker; the fuzzers call it from theirs) --------------------------
    def _enqueue(self, msg: Message, topic: str) -> None:
        try:
            self._inbox.put_nowait((msg, topic))
        except queue.Full:
            self.stats["dropped_full"] += 1
            log.warning("hub inbox full; dropped %s from %s (the sender's outbox resends it)", msg.type, msg.device)

    # -- worker thread ---------------------------------------------------------------------------------------
    def health(self) -> str | None:
        """What stops the hub from working, for the watchdog (kicked from the main thread): the worker thread dead
        or stuck for WORKER_STUCK_S, or a bus client (ward or upstream) whose network path is dead or wedged."""
        if self._worker.ident is not None and not self._worker.is_alive():
            return "the hub's worker thread has stopped"
        stuck = time.monotonic() - self._worker_at
        if self._worker.ident is not None and stuck > WORKER_STUCK_S:
            return f"the hub's worker has not come round for {stuck:.0f} s"
        return self.bus.health() or (self.upstream.bus.health() if self.upstream is not None else None)

    def _work(self) -> None:
        while not self._stop.is_set():
            self._worker_at = time.monotonic()
            try:
                self._turn()
            except Exception as exc:  # service edge: a state the contract refuses, a failed read: the queue goes on
                self.stats["turn_failed"] += 1
                if repr(exc) != self._last_fault:  # logged once while it repeats, not ten times a second
                    log.exception("hub: the worker's turn failed after its batch; it goes on")
                    self._last_fault = repr(exc)
                time.sleep(0.1)

    def _turn(self) -> None:
        """One turn of the worker: a batch of requests committed and answered, then the states that changed
        published, the device state, the housekeeping and the upstream statistics when due."""
        busy = self._dirty_board or self._dirty_lines or self.lines.dirty  # states to publish within BOARD_INTERVAL
        batch = self.network.take(self._inbox, BOARD_INTERVAL if busy else 0.5, BATCH)
        if batch:
            try:
                self._handle_batch(batch)
            except Exception as exc:  # service edge: the commit failed (disk?); nothing answered, senders resend
                self.stats["failed"] += len(batch)
                log.exception("hub: committing a batch of %d requests failed", len(batch))
                self._storage(exc)
                time.sleep(0.5)
            self.network.pump(0)  # the answers are written now, before the states are rebuilt
        if self._board_day not in (None, self.queue.today()):  # midnight: yesterday's calls leave the displays
            self._dirty_board = True
            self.lines.all()
            self._dirty_counters = {c.id for c in self.hub.counters}
        if self.queue.hours is not None and time.monotonic() - self._board_at >= self.hours_interval:  # a break nears
            self._dirty_board = True
        if self._new_policy is not None:
            self._apply(Current(dataclasses.replace(self.hub, policy=self._new_policy), self.catalogue))
            self._new_policy = None
        if self._republish.is_set():
            self._republish.clear()
            self._publish_all()
        elif batch or self._dirty_board or self._dirty_lines or self.lines.dirty:
            self._publish_changes()
        self._last_fault = ""
        now = time.monotonic()
        if now - self._state_at >= STATE_INTERVAL or self.queue.day.held != self._held_said \
                or (self.upstream is not None and self.upstream.drained):  # for ward IT; a day held, a backlog
            self.bus.publish_state()                                       # it said gone: said at once
            self._state_at, self._held_said = now, self.queue.day.held
        if now - self._pruned_at > 3600:
            with self.database.timed():
                prune_handled(self.db, self.queue.clock())
            if self.upstream is not None:  # a rating's record the outbox refused (a full disk) goes now
                self.upstream.send_unsent()
            self._pruned_at = now
        due = self.upstream is not None and now - self._stats_at >= self.upstream.up.stats_interval_s
        if due or self._stats_asked.is_set():
            self._stats_asked.clear()
            self._stats_at = now
            self.send_day_stats()

    def _handle_batch(self, batch: list[tuple[Message, str]]) -> None:
        """Group commit: the whole batch is one transaction, so under load one fsync serves many requests. Each
        request is a savepoint of its own: one whose handling fails is rolled back alone and answered with an error,
        the rest commit and are answered. Replies, events and upstream records go out only after the commit:
        nothing is acknowledged that a power cut could still undo. Only a failed commit (the disk) leaves the whole
        batch unanswered, for the senders to resend."""
        after: list[tuple[Message, Callable[[], object]]] = []
        failure: BaseException | None = None
        with self.database.timed(), transaction(self.db):
            for msg, topic in batch:
                sends: list[Callable[[], object]] = []
                try:
                    with transaction(self.db):
                        self._handle(msg, topic, sends)
                except Exception as exc:  # service edge: one request's fault is its own; logged with its trace
                    if not self.db.in_transaction:  # SQLite rolled the whole batch back (disk full, I/O error)
                        raise
                    self.stats["failed"] += 1
                    log.exception("hub: handling %s from %s failed; answered with an error", msg.type, msg.device)
                    failure = exc if storage_error(exc) else failure
                    sends = [lambda m=msg: self._refuse(m, "internal_error", "the hub could not handle this request; "
                                                                             "it was not applied")]
                after += [(msg, send) for send in sends]
        self._storage(failure)
        for msg, send in after:  # one failed send must not cost the other requests their answers
            try:
                send()
            except Exception:  # service edge: an answer the contract refuses is a hub fault; logged with its trace
                self.stats["unsent"] += 1
                log.exception("hub: answering %s from %s failed", msg.type, msg.device)
        if self.upstream is not None:
            self.upstream.note_handed()

    def _refuse(self, msg: Message, code: str, reason: str) -> None:
        if msg.corr:
            self.bus.reply(msg, "error", {"code": code, "reason": reason})

    def _storage(self, failure: BaseException | None) -> None:
        if self.database.outcome(failure):  # writes have begun to fail: ward IT sees it now, not at the next state
            self.bus.publish_state()

    def _handle(self, msg: Message, topic: str, after: list[Callable[[], object]]) -> Outcome | None:
        t = self.bus.topics
        op, args, refusal = self._route(msg, topic)
        if refusal:
            self.stats["rejected"] += 1
            self.bus.rejected.count("request", f"rejected {msg.type} from {msg.device} on {topic}: {refusal}")
            after.append(lambda: self._refuse(msg, "bad_request", refusal))
            return None
        if op in READ_ONLY:
            reply_type, body = reads.answer(self.queue, op, args)
            after.append(lambda: self.bus.reply(msg, reply_type, body))
            return None
        outcome = self.queue.handle(msg.key, op, **args)
        if outcome.settings is not None and outcome.fresh:  # published before the answer: whoever asked sees it
            after.append(lambda: self._apply(outcome.settings))
        after.append(lambda: self.bus.reply(msg, outcome.reply_type, outcome.reply))
        if not outcome.fresh:
            self.stats["duplicates"] += 1
            return outcome
        self.stats[outcome.reply_type] += 1
        if outcome.reply_type == "rating.recorded" and self.upstream is not None:
            r = outcome.reply["rating"]
            row = self.queue.rating_row(r["ticket_id"], r["counter"])
            after.append(lambda: self.upstream.rating(row))  # type: ignore[union-attr]
        for event in outcome.events:
            after.append(lambda e=event: self.bus.send(t.ticket_event, "ticket.event", e))
            behind = outcome.joins_behind_shown(event)
            for service in filter(None, (event["ticket"]["service"], event["ticket"].get("transferred_from"))):
                if not behind:
                    self._dirty_lines |= self.queue.counters_for(service)  # their waiting lists
                self.lines.dirty.add(service)
        for counter in outcome.counters:  # opened or closed: its services' waits change
            self.lines.dirty |= set(self.queue.counter_cfg[counter].services)
        self._dirty_board = True
        self._dirty_counters |= outcome.counters
        return outcome

    def _route(self, msg: Message, topic: str) -> tuple[str, dict[str, Any], str | None]:
        """The queue operation a request asks for and its arguments, or why it is refused (ROUTES)."""
        if msg.corr is None:
            return "", {}, "requests need a correlation id (corr)"
        parsed = parse(topic)
        op = ROUTES.get((parsed.kind, msg.type)) if parsed and parsed.ward == self.bus.topics.ward else None
        if op == "counter" and parsed is not None and parsed.name == str(msg.body["counter"]):
            args = {k: msg.body[k] for k in ("counter", "officer", "service", "reason", "expect") if k in msg.body}
            return msg.body["action"], args, None
        if op == "issue":
            return op, {"service": msg.body["service"], "priority": msg.body.get("priority"),
                        "hold": msg.body.get("hold", False), "procedure": msg.body.get("procedure"),
                        "device": msg.device}, None
        if op in ("confirm", "offline", "rate", "admin", "stats", "lookup"):
            return op, {**msg.body, "device": msg.device} | ({"age": msg.age} if op == "offline" else {}), None
        return "", {}, f"{msg.type} is not accepted on {topic}"

    def _publish_changes(self) -> None:
        """Counter states whose ticket changed at once; the board and the waiting lists at most every
        BOARD_INTERVAL, however many tickets a burst issues (rebuilding them is most of a request's cost)."""
        t = self.bus.topics
        now = time.monotonic()
        due = now - self._board_at >= BOARD_INTERVAL
        for counter in sorted(self._dirty_counters | (self._dirty_lines if due else set())):
            self.retained.publish(t.counter_state(counter), "counter.state", self.queue.counter_state(counter))
        self._dirty_counters.clear()
        if due:
            self._dirty_lines.clear()
        self.lines.publish(now)  # the phone pages' and the notifier's (docs/phone.md)
        if self._dirty_board and due:
            board = board_state(self.queue, self.hub)
            self.retained.publish(t.board_state, "board.state", board)
            self._dirty_board = False
            self._board_at = now
            self._board_day = board["day"]

    def _publish_all(self) -> None:
        """After (re)connecting: the retained service list, every counter and the board, from the database."""
        self.retained.forget()
        self.bus.publish(self.bus.topics.services, self.bus.message("services.list", services_list(self.hub)),
                         retain=True, only_when_connected=True)
        if self.catalogue is not None:
            self.bus.publish(self.bus.topics.catalogue, self.bus.message("catalogue.update", self.catalogue),
                             retain=True, only_when_connected=True)
        self._dirty_counters = {c.id for c in self.hub.counters}
        self.lines.all()
        self._dirty_board = True
        self._board_at = 0.0
        self._publish_changes()
        self.bus.publish_state()

    def _apply(self, current: Current) -> None:
        """An admin's change, committed: the queue, the board, the kiosks and the displays take it at once."""
        self.settings.current = current
        self.hub, self.catalogue = current.hub, current.catalogue
        self.queue.reconfigure(current.hub)
        self._publish_all()

    def _reload_policy(self, loaded: tuple[DeviceConfig, HubSection]) -> None:
        self._new_policy = loaded[1].policy

    def _reset_refusal(self) -> str | None:
        """A hub is reset only on a day it has issued no ticket: the day's numbers and waiting citizens are the
        ward's, not the device's."""
        issued = issued_on(self.config.data_dir / self.hub.database, self.queue.today())
        if issued:
            return (f"the hub has issued {issued} ticket(s) today; reset it after closing, before the next day's "
                    f"first ticket (its records are archived, never deleted)")
        return None

    def republish(self) -> None:
        """Asks the worker to publish the retained service list, catalogue, counters and board again."""
        self._republish.set()

    def request_day_stats(self) -> None:
        """Asks the worker (the only thread that touches the database) to send the day statistics now."""
        self._stats_asked.set()

    def send_day_stats(self) -> int:
        """Today's and yesterday's statistics per service, sent upstream where they changed (worker thread)."""
        if self.upstream is None:
            return 0
        today = self.queue.today()
        days = days_up_to(self.db, today, 2)
        rows = [row for day in days for row in ward_stats.compute(self.db, self.hub, day, day, "service")]
        return self.upstream.day_stats(rows)

    def _state_detail(self) -> dict[str, Any]:
        detail = {"day": self.queue.today(), "inbox": self._inbox.qsize(), "handled": dict(self.stats),
                  "database": self.database.status(), "catalogue": (self.catalogue or {}).get("version"),
                  **self.queue.clock_detail()}  # ward IT sees why the numbering day is not the clock's, and more
        if self.upstream is not None:
            detail["upstream"] = self.upstream.stated()
        if self.releases is not None:
            detail["releases"] = {"port": self.releases.port, "offered": self.releases.offered()}
        return detail

