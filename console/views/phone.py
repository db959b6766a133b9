# The citizen's ticket page on a phone: public, found by the ticket's token, live while open (docs/phone.md).
from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any

from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bus.messages import TICKET_TOKEN, Message
from console.follow import Followers, Page, shown
from console.i18n import PHONE_WORDS, words

if TYPE_CHECKING:
    from console.web import Console

TOKEN = re.compile(TICKET_TOKEN)
RELOAD_S = 15  # a page that cannot follow live (the hub out of reach, no scripts, no EventSource) reads itself again


def routes(console: Console, followers: Followers) -> list[Route]:
    async def page(request: Request) -> Response:
        lang = _lang(request, console)
        ticket = await _ticket(console, followers, request.path_params["token"])
        if not isinstance(ticket, dict):
            return _render(console, request, lang, None, 404 if ticket == "not_found" else 503, ticket)
        view = followers.view(ticket)
        if request.query_params.get("format") == "json":
            return JSONResponse(view)
        return _render(console, request, lang, view, 200, "")

    async def live(request: Request) -> Response:
        """The page's view each time it changes (server-sent events): its place, its call, its transfer."""
        ticket = await _ticket(console, followers, request.path_params["token"])
        if not isinstance(ticket, dict):
            return JSONResponse({"error": ticket}, 404 if ticket == "not_found" else 503)
        lang = _lang(request, console)
        listener = Page(asyncio.get_running_loop(), lang=lang)
        followers.follow(listener, ticket["id"])

        async def stream():  # noqa: ANN202 - an async generator of events
            try:
                view = followers.view(followers.known(request.path_params["token"]) or ticket)
                yield {"data": json.dumps({"kind": "view", "event": "", "status": view["status"],
                                           "say": shown(view, lang)}, ensure_ascii=False)}
                while True:
                    event = await listener.queue.get()
                    if event is None:  # the console stops
                        return
                    yield {"data": json.dumps(event, ensure_ascii=False)}
            finally:
                followers.forget(listener, ticket["id"])

        return EventSourceResponse(stream(), ping=15, headers={"cache-control": "no-store"})

    return [Route("/t/{token}", page), Route("/t/{token}/live", live)]


async def _ticket(console: Console, followers: Followers, token: str) -> dict[str, Any] | str:
    """The ticket of `token`: remembered, or asked of the hub once; else "not_found" or why the hub gave no
    answer ("not_sent", "no_answer")."""
    if not TOKEN.fullmatch(token):
        return "not_found"
    known = followers.known(token)
    if known is not None:
        return known
    reply = await run_in_threadpool(console.live.ask, lambda t: t.ticket_lookup, "ticket.lookup", {"token": token})
    if isinstance(reply, Message) and reply.type == "ticket.found":
        followers.remember(token, reply.body["ticket"])
        return reply.body["ticket"]
    return reply if isinstance(reply, str) else "not_found"


def _lang(request: Request, console: Console) -> str:
    lang = request.query_params.get("lang") or console.section.lang
    return lang if lang in ("vi", "en") else "vi"


def _render(console: Console, request: Request, lang: str, view: dict[str, Any] | None, status: int,
            problem: str) -> Response:
    html = console.templates.get_template("phone.html").render(
        view=view, say=shown(view, lang) if view else {}, problem=problem, w=words(lang, PHONE_WORDS), lang=lang,
        ward=console.ward_name(lang), hours=console.live.board.get("hours_en" if lang == "en" else "hours_vi", ""),
        procedures=_procedures(console, view, lang) if view else [], path=request.url.path, reload_s=RELOAD_S)
    return HTMLResponse(html, status)


def _procedures(console: Console, view: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """What to bring for the ticket's procedure (or each of its service's), with the national portal's page."""
    body = console.live.catalogue or {}
    catalogue = body.get("catalogue") or {}
    en = lang == "en"
    found = []
    for field in catalogue.get("fields", []):
        for p in field.get("procedures", []):
            if p.get("code") == view.get("procedure") or (not view.get("procedure") and
                                                           field.get("service") == view["service"]):
                found.append({"name": (en and p.get("name_en")) or p.get("name_vi"),
                              "documents": (en and p.get("documents_en")) or p.get("documents_vi", []),
                              "time": (en and p.get("time_en")) or p.get("time_vi"),
                              "fee": (en and p.get("fee_en")) or p.get("fee_vi"),
                              "link": catalogue.get("link_template", "").replace("{code}", p.get("code", ""))})
    return found
