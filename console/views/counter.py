# The officer's counter screen: the ticket at the counter, who waits, today's counts, and every counter action.
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bus import health
from bus.errors import ContractError
from bus.messages import COUNTER_ACTIONS, Message, load_json
from console.accounts import Account
from console.i18n import HELP, HELP_NOTES, hub_refusal, role_said, say

if TYPE_CHECKING:
    from console.web import Console

ACTIONS = ("call_next", "recall", "start", "skip", "no_show", "transfer", "done", "close", "open")
SHORTCUTS = {"call_next": "N", "recall": "R", "start": "B", "skip": "S", "no_show": "X", "transfer": "T",
             "done": "D", "close": "P", "open": "P"}


def counter_names(console: Console, lang: str) -> dict[int, str]:
    """Each counter's name as the board gives it, in the page's language."""
    key = "name_en" if lang == "en" else "name_vi"
    return {c["counter"]: c.get(key) or f"{say('counter', lang)} {c['counter']}"
            for c in console.live.board.get("counters", [])}


def counter_data(console: Console, account: Account, number: int, lang: str) -> dict[str, Any]:
    """Everything the counter screen shows, from the bus: its state, the service and procedure names."""
    live = console.live
    names = counter_names(console, lang)
    procedures = {p["code"]: {"vi": p["name_vi"], "en": p["name_en"]}
                  for f in (live.catalogue or {}).get("catalogue", {}).get("fields", []) for p in f["procedures"]}
    return {"counter": number, "name": names.get(number, f"{say('counter', lang)} {number}"),
            "state": live.counters.get(number, {}),
            "services": [{"code": s["code"], "name_vi": s["name_vi"], "name_en": s["name_en"]} for s in live.services],
            "procedures": procedures, "link": live.link(), "shortcuts": SHORTCUTS,
            "mine": [c for c in sorted(names) if account.may_work(c)], "officer": account.display,
            "room": room(console, lang)}


def room(console: Console, lang: str) -> list[dict[str, Any]]:
    """The devices in the waiting room and at its counters that need a person there — a kiosk out of paper, a
    board that stopped speaking, a unit's cable, a device switched off — each with what to see to: the officers
    are in the room, ward IT often is not (bus/health.py, `room`)."""
    rows = [health.row(name, msg, lang, room=True) for name, msg in sorted(console.live.devices.items())]
    return [{"device": r["device"], "role": role_said(r["role"], lang), "problems": r["problems"]}
            for r in rows if r["problems"]]


def routes(console: Console) -> list[Route]:
    async def choose(request: Request) -> Response:
        account = console.allowed(request, "officer", "admin")
        if not isinstance(account, Account):
            return account
        lang = console.lang(request)
        names = counter_names(console, lang)
        mine = [{"counter": c, "name": names.get(c) or f"{say('counter', lang)} {c}",
                 "state": console.live.counters.get(c, {})}
                for c in sorted(set(names) | set(account.counters)) if account.may_work(c)]
        return console.page(request, "choose.html", {"counters": mine})

    async def screen(request: Request) -> Response:
        account = console.allowed(request, "officer", "admin")
        if not isinstance(account, Account):
            return account
        number = request.path_params["number"]
        if not account.may_work(number):
            return console.refuse(request, 403, say("not_yours", console.lang(request)))
        return console.page(request, "counter.html", counter_data(console, account, number, console.lang(request)))

    async def act(request: Request) -> Response:
        account = console.allowed(request, "officer", "admin")
        if not isinstance(account, Account):
            return account
        lang, number = console.lang(request), request.path_params["number"]
        if not account.may_work(number):
            return JSONResponse({"ok": False, "message": say("not_yours", lang)}, 403)
        try:
            body = _command(account, number, load_json(await request.body()))
        except (ContractError, ValueError, TypeError, KeyError) as exc:
            return JSONResponse({"ok": False, "message": say("bad_form", lang, problem=str(exc))}, 400)
        reply = await run_in_threadpool(console.live.ask, lambda t: t.counter_command(number), "counter.command",
                                        body)
        ok, message = _outcome(reply, lang)
        console.accounts.record(account.name, f"counter.{body['action']}", f"counter {number}",
                                {"ok": ok, "message": message, "expect": body["expect"]})
        answer: dict[str, Any] = {"ok": ok, "message": message}
        if isinstance(reply, Message) and reply.type == "counter.result":
            answer["ticket"] = reply.body.get("ticket")
        return JSONResponse(answer, 200 if ok else 409 if isinstance(reply, Message) else 503)

    async def guide(request: Request) -> Response:
        """The officers' guide to their screen, made from the buttons and keys the screen has (it cannot drift)."""
        account = console.allowed(request, "officer", "admin")
        if not isinstance(account, Account):
            return account
        i = 0 if console.lang(request) == "vi" else 1
        rows = [{"action": a, "key": SHORTCUTS[a], "does": HELP[a][i]} for a in ACTIONS]
        return console.page(request, "help.html", {"actions": rows, "notes": [HELP[n][i] for n in HELP_NOTES]})

    return [Route("/counter", choose), Route("/counter/{number:int}", screen),
            Route("/counter/{number:int}/act", act, methods=["POST"]), Route("/help", guide)]


def _command(account: Account, number: int, data: Any) -> dict[str, Any]:
    """The counter.command a button asks for; ValueError (shown to the officer) when the request is malformed."""
    if not isinstance(data, dict) or set(data) - {"action", "expect", "service", "reason"}:
        raise ValueError("expected action, expect, service and reason only")
    action, expect = data.get("action"), data.get("expect")
    if action not in ACTIONS or action not in COUNTER_ACTIONS:
        raise ValueError(f"unknown action {str(action)[:20]!r}")
    if type(expect) is not int or not 0 <= expect < 2**63:
        raise ValueError("expect must be the ticket id the screen shows, 0 for none")
    body: dict[str, Any] = {"action": action, "counter": number, "expect": expect}
    if action in ("open", "call_next"):
        body["officer"] = account.display
    if action == "transfer":
        service, reason = data.get("service"), data.get("reason", "")
        if not isinstance(service, str) or not isinstance(reason, str) or len(reason) > 200:
            raise ValueError("a transfer needs a service and a reason of at most 200 characters")
        body["service"] = service
        if reason.strip():
            body["reason"] = reason.strip()
    return body


def _outcome(reply: Message | str, lang: str) -> tuple[bool, str]:
    if isinstance(reply, str):
        return False, say(reply, lang)
    if reply.type == "error":
        code, reason = reply.body["code"], reply.body["reason"]
        return False, say("stale", lang, reason=reason) if code == "stale" else say(
            "refused", lang, reason=hub_refusal(code, reason, lang))
    ticket, action, finished = reply.body.get("ticket"), reply.body["action"], reply.body.get("finished")
    ended = f"{say('done', lang)}: {finished['label']}" if finished else ""  # the ticket a call ended
    if action == "call_next" and not ticket:
        return True, f"{ended} · {say('empty', lang)}" if ended else say("empty", lang)
    said = f"{say(action, lang)}: {ticket['label']}" if ticket else say(action, lang)
    return True, f"{said} · {ended}" if ended else said  # why this ticket: under its number
