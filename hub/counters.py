# Counter operations on the queue: open, close, call next, start, done, no-show, transfer, recall, skip; counter state.
from __future__ import annotations

import json
from typing import Any

from bus.messages import WAITING_SHOWN, iso_ts
from hub import line
from hub.errors import QueueRefused
from hub.outcome import Outcome
from hub.priority import Candidate, choose

ACTIVE = ("called", "serving")


class CounterOps:
    """Mixed into Queue: every counter operation runs inside Queue.handle's transaction."""

    def op_open(self, now: float, counter: int, officer: str | None = None, **_: Any) -> Outcome:
        self._counter(counter)
        self.db.execute("UPDATE counters SET status='open', officer=?, updated=? WHERE id=?", (officer, now, counter))
        return self._result("open", counter)

    def op_close(self, now: float, counter: int, **_: Any) -> Outcome:
        state = self._counter(counter)
        if state["ticket_id"] is not None:
            raise QueueRefused("ticket_in_progress", f"counter {counter} still has a ticket; finish it first")
        self.db.execute("UPDATE counters SET status='closed', officer=NULL, updated=? WHERE id=?", (now, counter))
        return self._result("close", counter)

    def op_call_next(self, now: float, counter: int, officer: str | None = None, **_: Any) -> Outcome:
        """Finishes the counter's current ticket (a keypad's one "next" button), then calls the next one."""
        state = self._counter(counter)
        events, finished = [], None
        if state["status"] != "open":
            self.db.execute("UPDATE counters SET status='open', officer=COALESCE(?, officer) WHERE id=?",
                            (officer, counter))
        if state["ticket_id"] is not None:
            finished = self._finish(now, state["ticket_id"], "done")
            self._left(now, counter, finished)
            events.append(self._event("done", finished, now, counter))
        day = self.today()
        codes = self.counter_cfg[counter].services
        rows = line.heads(self.db, day, list(codes), ("id", "label", "priority", "queue_at", "transferred_from"))
        choice = choose([Candidate(*r) for r in rows], state["priority_streak"], self.hub.policy.priority_in_row)
        if choice is None:
            self.db.execute("UPDATE counters SET ticket_id=NULL, updated=? WHERE id=?", (now, counter))
            out = self._result("call_next", counter, events=events)
            out.reply["explanation"] = {"rule": "empty", "vi": "Không còn vé chờ", "en": "No ticket is waiting"}
            if finished:
                out.reply["finished"] = self._ticket_body(finished)
            return out
        officer_now = officer or state["officer"]
        self.db.execute("UPDATE tickets SET status='called', called_at=?, counter=?, officer=? WHERE id=?",
                        (now, counter, officer_now, choice.ticket_id))
        ticket = self._ticket(choice.ticket_id)
        streak = state["priority_streak"] + 1 if ticket["priority"] else 0
        self.db.execute("UPDATE counters SET ticket_id=?, priority_streak=?, updated=? WHERE id=?",
                        (choice.ticket_id, streak, now, counter))
        events.append(self._event("called", ticket, now, counter, choice.explanation()))
        out = self._result("call_next", counter, ticket=ticket, events=events)
        out.reply["explanation"] = choice.explanation()
        if finished:
            out.reply["finished"] = self._ticket_body(finished)
        return out

    def op_start(self, now: float, counter: int, **_: Any) -> Outcome:
        ticket = self._current(counter, ("called",), "start")
        self.db.execute("UPDATE tickets SET status='serving', served_at=? WHERE id=?", (now, ticket["id"]))
        ticket = self._ticket(ticket["id"])
        return self._result("start", counter, ticket, [self._event("serving", ticket, now, counter)])

    def op_done(self, now: float, counter: int, **_: Any) -> Outcome:
        ticket = self._current(counter, ACTIVE, "done")
        return self._end(now, counter, ticket, "done", "done")

    def op_no_show(self, now: float, counter: int, **_: Any) -> Outcome:
        ticket = self._current(counter, ("called",), "no_show")
        return self._end(now, counter, ticket, "no_show", "no_show")

    def check_expected(self, counter: int, expect: int) -> None:
        """Refuses a command sent while the officer's screen showed another ticket at the counter (`expect`: its
        id, 0 for none): a double click, or a second officer's screen, never acts on a ticket nobody saw."""
        state = self._counter(counter)
        current = state["ticket_id"] or 0
        if current != expect:
            now_at = f"ticket {self._ticket(current)['label']}" if current else "no ticket"
            raise QueueRefused("stale", f"counter {counter} now has {now_at}: the screen was behind; look again "
                                        "before pressing")

    def op_transfer(self, now: float, counter: int, service: str | None = None, reason: str | None = None,
                    **_: Any) -> Outcome:
        ticket = self._current(counter, ACTIVE, "transfer")
        if service is None or service not in self.services:
            raise QueueRefused("unknown_service", f"transfer needs a known service, got {service!r}")
        if service == ticket["service"]:
            raise QueueRefused("same_service", f"ticket {ticket['label']} is already in {service}")
        self.db.execute("UPDATE tickets SET status='issued', service=?, transferred_from=?, counter=NULL, "
                        "called_at=NULL, served_at=NULL WHERE id=?", (service, ticket["service"], ticket["id"]))
        self.db.execute("UPDATE counters SET ticket_id=NULL, updated=? WHERE id=?", (now, counter))
        self._left(now, counter, ticket)
        ticket = self._ticket(ticket["id"])
        detail = {"rule": "transfer", "vi": reason, "en": reason} if reason else None
        return self._result("transfer", counter, ticket, [self._event("transferred", ticket, now, counter, detail)])

    def op_recall(self, now: float, counter: int, **_: Any) -> Outcome:
        ticket = self._current(counter, ("called",), "recall")
        limit = self.hub.policy.max_recalls
        if ticket["recalls"] >= limit:
            raise QueueRefused("recall_limit", f"ticket {ticket['label']} was already recalled {limit} times")
        self.db.execute("UPDATE tickets SET recalls=recalls+1 WHERE id=?", (ticket["id"],))
        ticket = self._ticket(ticket["id"])
        return self._result("recall", counter, ticket, [self._event("recalled", ticket, now, counter)])

    def op_skip(self, now: float, counter: int, **_: Any) -> Outcome:
        """Sends a called ticket that did not come back to the end of its line, a bounded number of times."""
        ticket = self._current(counter, ("called",), "skip")
        limit = self.hub.policy.max_skips
        if ticket["skips"] >= limit:
            raise QueueRefused("skip_limit", f"ticket {ticket['label']} was skipped {limit} times; use no_show")
        last = self.db.execute("SELECT MAX(queue_at) FROM tickets WHERE status='issued' AND day=? AND service=?",
                               (ticket["day"], ticket["service"])).fetchone()[0]
        back = max(now, last + 0.001) if last is not None else now
        self.db.execute("UPDATE tickets SET status='issued', skips=skips+1, queue_at=?, counter=NULL, "
                        "called_at=NULL WHERE id=?", (back, ticket["id"]))
        self.db.execute("UPDATE counters SET ticket_id=NULL, updated=? WHERE id=?", (now, counter))
        ticket = self._ticket(ticket["id"])
        return self._result("skip", counter, ticket, [self._event("skipped", ticket, now, counter)])

    def counter_state(self, counter: int, with_line: bool = True) -> dict[str, Any]:
        """What the counter's displays and its officer's screen show: its ticket (one left there on an earlier day is
        not shown) and why it was called, the services it serves, who waits for them in calling order (unless
        `with_line` is false: the board does not show them), and its counts today."""
        state = self._counter(counter)
        day = self.today()
        codes = list(self.counter_cfg[counter].services)
        body: dict[str, Any] = {"counter": counter, "status": state["status"], "services": codes}
        if state["officer"]:
            body["officer"] = state["officer"]
        if state["ticket_id"] is not None:
            ticket = self._ticket(state["ticket_id"])
            if ticket["day"] == day:
                body["ticket"] = self._ticket_body(ticket)
                why = self.db.execute("SELECT detail FROM events WHERE ticket_id=? AND kind='called' ORDER BY id DESC "
                                      "LIMIT 1", (ticket["id"],)).fetchone()
                if why and why[0]:
                    body["explanation"] = json.loads(why[0])
        if with_line:
            body["waiting"] = [
                {"id": i, "label": lab, "service": svc, "priority": pri, "issued_at": iso_ts(at),
                 **({"transferred_from": moved} if moved else {})}
                for i, lab, svc, pri, at, moved in line.waiting(
                    self.db, day, codes, ("id", "label", "service", "priority", "issued_at", "transferred_from"),
                    WAITING_SHOWN)]
        counts = dict(self.db.execute("SELECT kind, COUNT(*) FROM events WHERE day=? AND counter=? AND kind IN "
                                      "('called', 'done', 'no_show', 'transferred') GROUP BY kind", (day, counter)))
        body["counts"] = {"called": counts.get("called", 0), "served": counts.get("done", 0),
                          "no_shows": counts.get("no_show", 0), "transfers": counts.get("transferred", 0)}
        return body

    def counters_for(self, service: str) -> set[int]:
        """The counters that serve `service`: their waiting lists change with its tickets."""
        return {cid for cid, c in self.counter_cfg.items() if service in c.services}

    def _current(self, counter: int, statuses: tuple[str, ...], action: str) -> dict[str, Any]:
        state = self._counter(counter)
        if state["ticket_id"] is None:
            raise QueueRefused("no_ticket", f"counter {counter} has no current ticket to {action}")
        ticket = self._ticket(state["ticket_id"])
        if ticket["status"] not in statuses:
            raise QueueRefused("wrong_state", f"ticket {ticket['label']} is {ticket['status']}; {action} needs "
                                              f"{' or '.join(statuses)}")
        return ticket

    def _finish(self, now: float, ticket_id: int, status: str) -> dict[str, Any]:
        """Ends a ticket's visit; a service done while the ward's hours are set keeps its working seconds too (a
        service across the lunch break is a sample of its working minutes for the estimate and the statistics)."""
        self.db.execute("UPDATE tickets SET status=?, done_at=?, served_at=COALESCE(served_at, called_at) "
                        "WHERE id=?", (status, now, ticket_id))
        ticket = self._ticket(ticket_id)
        if status == "done" and self.hours is not None and ticket["served_at"] is not None:
            work = self.hours.working_seconds(ticket["served_at"], now, self.hub.timezone)
            self.db.execute("UPDATE tickets SET service_work_s=? WHERE id=?", (work, ticket_id))
        return ticket

    def _left(self, now: float, counter: int, ticket: dict[str, Any]) -> None:
        """Remembers the ticket a counter served last, for the rating keypad beside it."""
        self.db.execute("UPDATE counters SET last_ticket_id=?, last_at=?, last_officer=? WHERE id=?",
                        (ticket["id"], now, ticket["officer"], counter))

    def _end(self, now: float, counter: int, ticket: dict[str, Any], status: str, event: str) -> Outcome:
        ticket = self._finish(now, ticket["id"], status)
        if status == "done":
            self._left(now, counter, ticket)
        self.db.execute("UPDATE counters SET ticket_id=NULL, updated=? WHERE id=?", (now, counter))
        return self._result(event, counter, ticket, [self._event(event, ticket, now, counter)])

    def _result(self, action: str, counter: int, ticket: dict[str, Any] | None = None,
                events: list[dict[str, Any]] | None = None) -> Outcome:
        reply: dict[str, Any] = {"action": action, "counter": counter}
        if ticket is not None:
            reply["ticket"] = self._ticket_body(ticket)
        return Outcome("counter.result", reply, events or [], {counter})

