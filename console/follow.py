# Phones following their tickets: each service's line and each followed ticket from the bus, pushed to its pages.
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from bus import estimate
from bus.messages import LINE_SHOWN, Message
from console.i18n import phone_say
from console.live import Listener, LiveWard

KEEP = 5000  # tickets remembered by token (a ward issues a few hundred a day); the oldest are asked again


@dataclass
class Page(Listener):
    """One open ticket page, in its language."""

    lang: str = "vi"


def shown(view: dict[str, Any], lang: str) -> dict[str, str]:
    """The page's sentences for `view`: the same on its first load and in every live update."""
    en = lang == "en"
    counter = view.get("counter_en" if en else "counter_vi") or (
        phone_say("counter_n", lang, n=view["counter"]) if view.get("counter") is not None else "")
    status, ahead = view["status"], view.get("ahead")
    place = wait = call = note = ""
    if status in ("issued", "held"):
        if ahead is not None:
            place = phone_say("next", lang) if ahead == 0 else phone_say("ahead", lang, n=ahead)
        elif view.get("more"):  # "1.000" in Vietnamese, "1,000" in English
            place = phone_say("far", lang, n=f"{LINE_SHOWN:,}".replace(",", "," if en else "."))
        else:  # the line state has not arrived yet
            place = phone_say("placing", lang)
        wait = _wait(view.get("wait") or {}, lang)
    elif status == "called":
        call = phone_say("go_to", lang, counter=counter)
    elif status == "serving":
        call = phone_say("serving", lang, counter=counter)
    elif status in ("done", "no_show"):
        note = phone_say(status, lang)
    if status in ("issued", "held") and view.get("transferred_from"):  # waiting in its new line
        note = phone_say("transferred", lang, service=view["service_en" if en else "service_vi"])
    return {"service": view["service_en" if en else "service_vi"], "place": place, "wait": wait, "call": call,
            "note": note}


def _wait(w: dict[str, Any], lang: str) -> str:
    if w.get("known"):
        return phone_say("wait_closing", lang, lo=w["low_min"]) if w.get("closing") else \
            phone_say("wait", lang, span=estimate.minutes(w))
    key = {"closed": "wait_closed", "after_closing": "wait_after_closing",
           "no_counter_open": "wait_no_counter"}.get(w.get("reason", ""), "wait_unknown")
    return phone_say(key, lang)


class Followers:
    """Every open phone page listens here for its own ticket. A line state (the hub's, at most ten a second) or a
    ticket event reaches exactly the pages it changes, with the page's new view computed once per page: no page
    polls and none costs the hub a query after it opened (docs/phone.md)."""

    def __init__(self, live: LiveWard) -> None:
        self.live = live
        self.lines: dict[str, dict[str, Any]] = {}  # service -> its line.state body
        self._places: dict[str, dict[int, int]] = {}  # service -> ticket id -> how many are ahead
        self._tickets: OrderedDict[str, dict[str, Any]] = OrderedDict()  # token -> the ticket as last seen
        self._tokens: dict[int, str] = {}  # ticket id -> token
        self._pages: dict[int, list[Page]] = {}  # ticket id -> its open pages
        self._lock = threading.Lock()
        live.bus.subscribe(live.bus.topics.line_state("+"), self._line)
        live.bus.subscribe(live.bus.topics.ticket_event, self._event)

    # -- tickets by token ----------------------------------------------------------------------------------
    def known(self, token: str) -> dict[str, Any] | None:
        """The ticket of `token` as last seen, if it is remembered and of today."""
        with self._lock:
            ticket = self._tickets.get(token)
        if ticket is not None and ticket["day"] < self.live.board.get("day", ticket["day"]):
            return None  # yesterday's: the hub will say it is not found
        return ticket

    def remember(self, token: str, ticket: dict[str, Any]) -> None:
        with self._lock:
            self._tickets[token] = ticket
            self._tokens[ticket["id"]] = token
            while len(self._tickets) > KEEP:
                _, old = self._tickets.popitem(last=False)
                self._tokens.pop(old["id"], None)

    def view(self, ticket: dict[str, Any]) -> dict[str, Any]:
        """What the page shows: the ticket, its place and wait while it waits, where to go once called."""
        view: dict[str, Any] = {k: ticket.get(k) for k in ("label", "service", "service_vi", "service_en", "status",
                                                            "counter", "procedure", "day", "transferred_from")}
        if ticket["status"] in ("issued", "held"):
            line = self.lines.get(ticket["service"])
            ahead = self._places.get(ticket["service"], {}).get(ticket["id"])
            view["ahead"] = ahead
            view["more"] = bool(line and ahead is None and line["more"])  # further back than the line state lists
            view["wait"] = (estimate.wait_range(line["pace"], ahead, time.time()) if line and ahead is not None
                            else {"known": False})
        if ticket.get("counter") is not None:
            names = {c["counter"]: c for c in self.live.board.get("counters", [])}
            counter = names.get(ticket["counter"], {})
            view["counter_vi"], view["counter_en"] = counter.get("name_vi"), counter.get("name_en")
        return view

    # -- pages ---------------------------------------------------------------------------------------------
    def follow(self, listener: Page, ticket_id: int) -> None:
        with self._lock:
            self._pages.setdefault(ticket_id, []).append(listener)

    def forget(self, listener: Page, ticket_id: int) -> None:
        with self._lock:
            pages = self._pages.get(ticket_id, [])
            if listener in pages:
                pages.remove(listener)
            if not pages:
                self._pages.pop(ticket_id, None)

    def pages(self) -> list[Page]:
        """Every open phone page."""
        with self._lock:
            return [page for pages in self._pages.values() for page in pages]

    @property
    def following(self) -> int:
        with self._lock:
            return sum(len(p) for p in self._pages.values())

    def _send(self, ticket_ids: list[int], event: str = "") -> None:
        """Each of these tickets' new view to its pages (network thread)."""
        for ticket_id in ticket_ids:
            with self._lock:
                token = self._tokens.get(ticket_id)
                ticket = self._tickets.get(token) if token else None
                pages = list(self._pages.get(ticket_id, ()))
            if ticket is None or not pages:
                continue
            view = self.view(ticket)
            updates = {lang: {"kind": "reload"} if event == "transferred" else  # its new service's documents too
                       {"kind": "view", "event": event, "status": view["status"], "say": shown(view, lang)}
                       for lang in {p.lang for p in pages}}
            for page in pages:
                try:
                    page.loop.call_soon_threadsafe(page.put, updates[page.lang])
                except RuntimeError:  # that page's loop has closed: it is gone
                    self.forget(page, ticket_id)

    # -- from the bus (network thread) ---------------------------------------------------------------------
    def _line(self, msg: Message, _: str) -> None:
        service = msg.body["service"]
        self.lines[service] = msg.body
        self._places[service] = {ticket_id: place for place, ticket_id in enumerate(msg.body["waiting"])}
        with self._lock:
            followed = [i for i in self._pages if self._service_of(i) == service]
        self._send(followed)

    def _service_of(self, ticket_id: int) -> str | None:
        token = self._tokens.get(ticket_id)
        ticket = self._tickets.get(token) if token else None
        return ticket["service"] if ticket else None

    def _event(self, msg: Message, _: str) -> None:
        ticket = msg.body["ticket"]
        with self._lock:
            token = self._tokens.get(ticket["id"])
            if token is None or token not in self._tickets:
                return
            self._tickets[token] = ticket  # its status, counter and (after a transfer) service
        self._send([ticket["id"]], msg.body["event"])
