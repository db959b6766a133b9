# The queue authority: issue, call, serve, finish, transfer, recall and skip tickets, each as one transaction.
from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import date, datetime
from typing import Any

import orjson

from bus import estimate, hours
from bus.boot_clock import WorkNote, boot_id, since_boot
from bus.messages import iso_ts
from bus.numbering import HUB_LAST, LocalDay, label
from bus.transaction import transaction
from hub import line, tokens
from hub.config import HubSection
from hub.counters import CounterOps
from hub.day import NumberingDay
from hub.errors import QueueRefused
from hub.outcome import Outcome
from hub.ratings import RatingOps
from hub.stats import MAX_SERVICE_S

log = logging.getLogger(__name__)
KIOSK_CLOCK_OFF_S = 600.0  # a kiosk's clock this far out when it printed an offline ticket is shown to ward IT
AT_WORK = ("issue", "confirm", "call_next", "start", "done", "no_show", "transfer", "recall", "skip")  # a
# ward doing these is at work (hub/day.py); so is one merging an offline ticket of its numbering day (`op_offline`)


class Queue(CounterOps, RatingOps):
    def __init__(self, db: sqlite3.Connection, hub: HubSection, clock: Callable[[], float] = time.time,
                 uptime: Callable[[], float] = since_boot, boot: str | None = None) -> None:
        self.db = db
        self.clock = clock
        self.days = LocalDay(hub.timezone, hub.clock_floor)
        self.day = NumberingDay(self.days, lambda day: line.any_live(db, day), self._acted_since, clock(), uptime,
                                WorkNote(db, boot_id() if boot is None else boot))
        self._last_day: str | None = db.execute("SELECT MAX(day) FROM tickets").fetchone()[0]
        self._kiosk_clocks: dict[str, tuple[float, float]] = {}  # device -> (s its clock was out, when seen)
        self.token_key = tokens.key(db)
        self.reconfigure(hub)
        # every operation a request can ask for, by name: the only way `handle` reaches one
        self.ops: dict[str, Callable[..., Outcome]] = {
            "issue": self.op_issue, "confirm": self.op_confirm, "offline": self.op_offline, "rate": self.op_rate,
            "open": self.op_open, "close": self.op_close, "call_next": self.op_call_next, "start": self.op_start,
            "done": self.op_done, "no_show": self.op_no_show, "transfer": self.op_transfer,
            "recall": self.op_recall, "skip": self.op_skip,
        }

    def reconfigure(self, hub: HubSection) -> None:
        """Takes the ward's services and counters as they now stand (at start, and after an admin's change)."""
        self.hub = hub
        self.hours = hours.parse(hub.hours, "hub config", "hub.hours")  # checked with the config: cannot fail here
        self.services = {s.code: s for s in hub.services}
        self.counter_cfg = {c.id: c for c in hub.counters}
        for cid in self.counter_cfg:
            self.db.execute("INSERT OR IGNORE INTO counters(id, status, priority_streak, updated) VALUES (?,?,0,?)",
                            (cid, "closed", self.clock()))

    # -- entry point -----------------------------------------------------------------------------------------
    def handle(self, key: tuple[str, str, int], op: str, **args: Any) -> Outcome:
        """Applies operation `op` exactly once per request key (device, boot, seq); a repeat gets the stored reply.
        Its own transaction, or, inside one already open, its caller's: the hub's batch gives each request a
        savepoint of its own, which a second one here would only repeat."""
        now = self.clock()
        with nullcontext() if self.db.in_transaction else transaction(self.db):
            row = self.db.execute("SELECT reply_type, reply FROM handled WHERE device=? AND boot=? AND seq=?",
                                  key).fetchone()
            if row is not None:
                return Outcome(row[0], json.loads(row[1]), fresh=False)
            self.db.execute("SAVEPOINT op")
            try:
                if "expect" in args:  # the console says what it shows: a second click must not call a second ticket
                    self.check_expected(args["counter"], args.pop("expect"))
                outcome = self.ops[op](now, **args)
            except QueueRefused as exc:
                self.db.execute("ROLLBACK TO op")
                outcome = Outcome("error", {"code": exc.code, "reason": exc.reason})
            self.db.execute("RELEASE op")
            if op in AT_WORK and outcome.reply_type != "error":
                self.day.worked(now)
            self.db.execute("INSERT INTO handled(device, boot, seq, at, reply_type, reply) VALUES (?,?,?,?,?,?)",
                            (*key, now, outcome.reply_type, orjson.dumps(outcome.reply).decode()))
        return outcome

    def _acted_since(self, day: str, at: float) -> bool:
        """Whether a ticket of `day` was issued, or one called, at `at` or later by the clock."""
        return self.db.execute("SELECT 1 FROM tickets WHERE day=? AND issued_at >= ? UNION ALL SELECT 1 FROM events "
                               "WHERE day=? AND kind='called' AND at >= ? LIMIT 1", (day, at, day, at)).fetchone() \
            is not None

    def today(self) -> str:
        return self.day.decide(self.clock(), self._last_day).day

    # -- tickets ---------------------------------------------------------------------------------------------
    def op_issue(self, now: float, service: str, priority: str | None = None, device: str = "",
                 hold: bool = False, procedure: str | None = None) -> Outcome:
        """Issues the next number. With `hold` the ticket waits as 'held' (not callable, not on the board) until
        the kiosk confirms its print, so a failed print never leaves a phantom ticket in the queue."""
        svc = self._service(service)
        decision = self.day.decide(now, self._last_day)
        if not decision.clock_trusted and self.day.held is None:  # a held day is said when it begins and ends
            log.warning("numbering day %s: %s", decision.day, decision.reason)
        day = decision.day
        number = self._top_number(day, service) + 1
        if number > HUB_LAST:
            raise QueueRefused("day_full", f"service {service} has issued {HUB_LAST} numbers today")
        cur = self.db.execute(
            "INSERT INTO tickets(day, issued_service, number, label, service, priority, status, issued_at, "
            "queue_at, device, procedure) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (day, service, number, label(svc.prefix, number), service, priority, "held" if hold else "issued",
             now, now, device, procedure or None))
        self._last_day = max(day, self._last_day or day)
        ticket = self._ticket(cur.lastrowid)
        ahead = line.ahead(self.db, ticket)
        body = self._ticket_body(ticket)
        body.update(ahead=ahead, wait=self.wait_for(service, ahead), procedures=list(svc.procedures))
        events = [] if hold else [self._event("issued", ticket, now)]
        token = tokens.token(self.token_key, ticket["id"], day)  # its phone page's address (docs/phone.md)
        return Outcome("ticket.issued", {"ticket": body, "token": token}, events)

    def op_confirm(self, now: float, ticket_id: int, outcome: str, device: str = "") -> Outcome:
        """A held ticket was printed (or shown on screen and kept): it joins the queue; 'void' drops it."""
        row = self.db.execute("SELECT status, device FROM tickets WHERE id=?", (ticket_id,)).fetchone()
        if row is None or row[1] != device:
            raise QueueRefused("unknown_ticket", f"no ticket {ticket_id} held for {device}")
        if row[0] != "held":
            raise QueueRefused("not_held", f"ticket {ticket_id} is {row[0]}, not held")
        status = "void" if outcome == "void" else "issued"
        self.db.execute("UPDATE tickets SET status=? WHERE id=?", (status, ticket_id))
        ticket = self._ticket(ticket_id)
        events = [] if status == "void" else [self._event("issued", ticket, now)]
        return Outcome("ticket.confirmed", {"ticket": self._ticket_body(ticket)}, events)

    def op_offline(self, now: float, service: str, number: int, label: str, day: str, issued_at: str,
                   priority: str | None = None, device: str = "", age: float | None = None) -> Outcome:
        """Merges a ticket a kiosk printed while the hub was unreachable. It keeps its printed label; it takes its
        place in line by the kiosk's issue time when that time is plausible, else by arrival (= issue order). A day
        later than the hub's own (a kiosk whose clock runs ahead) is taken as the hub's today: a kiosk never moves
        the hub's numbering day, nor does a ticket of an earlier day (last evening's, merged in the morning: it is
        filed under its day and says nothing of the ward at work today). A day earlier than the one its `age` (how
        long before `now` the kiosk printed it, by its time since boot) falls on by the hub's clock is a kiosk clock
        a day or more behind — a Pi booted on the time it saved the evening before, with no time server yet: it is
        filed by its age instead, so the citizen holding it is called this morning, not filed under yesterday."""
        svc = self._service(service)
        if not label.startswith(svc.prefix):
            raise QueueRefused("bad_label", f"label {label} does not carry {service}'s prefix {svc.prefix}")
        made = None if age is None else now - age
        if made is not None:
            self._kiosk_clock(device, issued_at, made, now)
        if made is not None and day < (made_day := self.days.local_date(made).isoformat()):
            log.warning("offline ticket %s from %s says %s, printed %.0f s ago by its time since boot: %s by the "
                        "hub's clock (the kiosk's clock is behind)", label, device, day, age, made_day)
            day, queue_at = min(made_day, today := self.today()), made
        else:
            day = min(day, today := self.today())
            queue_at = _plausible(issued_at, now, day, self.days)
        clash = self.db.execute("SELECT id, offline, device, label FROM tickets WHERE day=? AND issued_service=? "
                                "AND number=?", (day, service, number)).fetchone()
        if clash and tuple(clash[1:]) == (1, device, label):  # a resend the hub no longer remembers answering
            return Outcome("ticket.confirmed", {"ticket": self._ticket_body(self._ticket(clash[0]))})
        if clash:  # two kiosks share an offline block: keep the citizen's ticket under a free number
            log.error("offline ticket %s from %s clashes with an existing number; two kiosks share an offline "
                      "block - fix their configs", label, device)
            number = self.db.execute("SELECT MAX(number) + 1 FROM tickets WHERE day=? AND issued_service=?",
                                     (day, service)).fetchone()[0]
        cur = self.db.execute(
            "INSERT INTO tickets(day, issued_service, number, label, service, priority, status, issued_at, "
            "queue_at, device, offline) VALUES (?,?,?,?,?,?,?,?,?,?,1)",
            (day, service, number, label, service, priority, "issued", queue_at, queue_at, device))
        if day == today:
            self._last_day = max(day, self._last_day or day)
            self.day.worked(now)
        ticket = self._ticket(cur.lastrowid)
        return Outcome("ticket.confirmed", {"ticket": self._ticket_body(ticket)}, [self._event("issued", ticket, now)])

    def jump_numbers(self, gap: int) -> None:
        """After a damaged database lost rows, numbers already printed today may be among them: each service's
        numbering today jumps `gap` ahead (a void placeholder, not counted anywhere) so no number is given twice."""
        now = self.clock()
        day = self.today()
        with transaction(self.db):
            for code, svc in self.services.items():
                number = min(self._top_number(day, code) + gap, HUB_LAST)
                self.db.execute("INSERT OR IGNORE INTO tickets(day, issued_service, number, label, service, status, "
                                "issued_at, queue_at, device) VALUES (?,?,?,?,?,'void',?,?,'repair')",
                                (day, code, number, label(svc.prefix, number), code, now, now))
        log.warning("numbering on %s jumps %d ahead after a repair that lost rows", day, gap)

    def _kiosk_clock(self, device: str, issued_at: str, made: float, now: float) -> None:
        """How far out a kiosk's clock was when it printed an offline ticket (its issue time against the hub's
        clock less the ticket's age), kept while it is out by KIOSK_CLOCK_OFF_S or more, for ward IT."""
        try:
            out = datetime.fromisoformat(issued_at).timestamp() - made
        except ValueError:
            return
        if abs(out) >= KIOSK_CLOCK_OFF_S:
            self._kiosk_clocks[device] = (out, now)
        else:
            self._kiosk_clocks.pop(device, None)

    def clock_detail(self) -> dict[str, Any]:
        """What ward IT should know of the ward's clocks, for the hub's state: why the numbering day is not the
        clock's, and kiosks whose clocks were out when they printed offline tickets within the last day."""
        detail: dict[str, Any] = {"day_held": self.day.reason} if self.day.held is not None else {}
        now = self.clock()
        out = {device: {"out_h": round(s / 3600, 1), "at": iso_ts(at)}
               for device, (s, at) in sorted(self._kiosk_clocks.items()) if 0 <= now - at < 86400}
        return detail | ({"kiosk_clocks": out} if out else {})

    # -- queries ---------------------------------------------------------------------------------------------
    def _top_number(self, day: str, service: str) -> int:
        """The last number the hub gave for `service` on `day` (0 before the first). Kiosks' offline numbers start
        above HUB_LAST (the contract refuses others), so the range is the hub's own: one read at the end of the
        index, where a filter on `offline` would read every ticket of the day."""
        return self.db.execute("SELECT COALESCE(MAX(number), 0) FROM tickets WHERE day=? AND issued_service=? AND "
                               "number <= ?", (day, service, HUB_LAST)).fetchone()[0]

    def wait_for(self, service: str, ahead: int) -> dict[str, Any]:
        return estimate.wait_range(self.pace(service), ahead, self.clock())

    def clock_date(self) -> date:
        """The date the clock says in the ward's time zone, which working hours follow: the numbering day can stay
        behind it (hub/day.py)."""
        return self.days.local_date(self.clock())

    def sessions(self) -> list[list[int]] | None:
        """Today's working sessions ([start, end], seconds since the epoch), or None when the ward set no hours."""
        return None if self.hours is None else self.hours.sessions(self.clock_date().isoformat(), self.hub.timezone)

    def pace(self, service: str) -> dict[str, Any]:
        """What `service`'s waits are estimated from: its recent service times (in working minutes where the hours
        were set as it ended), the counters open for it and the day's working hours when the ward has set them. A
        time the hub's clock made negative or absurd (it jumped between the call and the end) is left out."""
        policy = self.hub.policy
        rows = self.db.execute(
            "SELECT COALESCE(service_work_s, done_at - COALESCE(served_at, called_at)) / 60.0 FROM tickets "
            "WHERE service=? AND status='done' AND done_at IS NOT NULL AND "
            "done_at - COALESCE(served_at, called_at) BETWEEN 0 AND ? ORDER BY done_at DESC LIMIT ?",
            (service, MAX_SERVICE_S, policy.wait_samples)).fetchall()
        open_ids = {r[0] for r in self.db.execute("SELECT id FROM counters WHERE status='open'")}
        serving = sum(1 for cid, c in self.counter_cfg.items() if cid in open_ids and service in c.services)
        result = estimate.pace([r[0] for r in rows], serving, policy.min_wait_samples)
        if (sessions := self.sessions()) is not None:
            result["hours"] = sessions
        return result

    def ticket_body(self, ticket_id: int) -> dict[str, Any]:
        return self._ticket_body(self._ticket(ticket_id))

    # -- helpers ---------------------------------------------------------------------------------------------
    def _service(self, code: str) -> Any:
        svc = self.services.get(code)
        if svc is None:
            raise QueueRefused("unknown_service", f"no service {code!r}; known: {', '.join(self.services)}")
        return svc

    def _counter(self, counter: int) -> dict[str, Any]:
        if counter not in self.counter_cfg:
            raise QueueRefused("unknown_counter", f"no counter {counter}; known: "
                                                  f"{', '.join(map(str, self.counter_cfg))}")
        row = self.db.execute("SELECT id, status, officer, ticket_id, priority_streak FROM counters WHERE id=?",
                              (counter,)).fetchone()
        return dict(zip(("id", "status", "officer", "ticket_id", "priority_streak"), row, strict=True))

    def _ticket(self, ticket_id: int) -> dict[str, Any]:
        row = self.db.execute(f"SELECT {', '.join(_COLS)} FROM tickets WHERE id=?", (ticket_id,)).fetchone()
        return dict(zip(_COLS, row, strict=True))

    def _ticket_body(self, t: dict[str, Any]) -> dict[str, Any]:
        svc = self.services.get(t["service"])
        body = {"id": t["id"], "label": t["label"], "number": t["number"], "day": t["day"], "service": t["service"],
                "service_vi": svc.name_vi if svc else t["service"], "service_en": svc.name_en if svc else t["service"],
                "status": t["status"], "issued_at": iso_ts(t["issued_at"]), "priority": t["priority"]}
        if t["counter"] is not None:
            body["counter"] = t["counter"]
        if t["transferred_from"]:
            body["transferred_from"] = t["transferred_from"]
        if t["procedure"]:
            body["procedure"] = t["procedure"]
        if t["called_at"] is not None:
            body["called_at"] = iso_ts(t["called_at"])
        return body

    def _event(self, kind: str, ticket: dict[str, Any], now: float, counter: int | None = None,
               explanation: dict[str, Any] | None = None) -> dict[str, Any]:
        self.db.execute("INSERT INTO events(ticket_id, day, kind, at, counter, officer, detail) VALUES (?,?,?,?,?,?,?)",
                        (ticket["id"], ticket["day"], kind, now, counter, ticket["officer"],
                         json.dumps(explanation, ensure_ascii=False) if explanation else None))
        body: dict[str, Any] = {"event": kind, "ticket": self._ticket_body(ticket)}
        if counter is not None:
            body["counter"] = counter
        if explanation:
            body["explanation"] = explanation
        return body



_COLS = ("id", "day", "issued_service", "number", "label", "service", "priority", "status", "issued_at", "queue_at",
         "called_at", "served_at", "done_at", "counter", "officer", "recalls", "skips", "transferred_from", "procedure")


def _plausible(issued_at: str, now: float, day: str, days: LocalDay) -> float:
    """The kiosk's issue time if it is on the ticket's day and not in the hub's future, else the hub's now."""
    try:
        ts = datetime.fromisoformat(issued_at).timestamp()
    except ValueError:
        return now
    return ts if ts <= now and days.local_date(ts).isoformat() == day else now

