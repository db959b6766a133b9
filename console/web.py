# The console's web app: Starlette with sessions, CSRF and size limits; each kind of page is a module in views/.
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asgi_csrf import asgi_csrf
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from console.accounts import Account, Accounts
from console.config import ConsoleSection
from console.follow import Followers
from console.i18n import say, words
from console.live import LiveWard

HERE = Path(__file__).parent
MAX_BODY = 256 * 1024  # bytes in a request body: every form and action is far smaller
HOME = {"officer": "/counter", "admin": "/admin", "it": "/fleet"}
SIGN_IN_CHECKED_S = 3.0  # an open page's stream ends this soon after its account is locked or given a new password
SECURITY_HEADERS = [(b"content-security-policy", b"default-src 'self'; style-src 'self'; script-src 'self'; "
                                                  b"img-src 'self' data:; frame-ancestors 'none'"),
                    (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
                    (b"cache-control", b"no-store")]


@dataclass
class Console:
    """What every view needs: the ward as the bus shows it, the accounts, the settings, the templates."""

    live: LiveWard
    accounts: Accounts
    section: ConsoleSection
    templates: Environment

    # -- who is asking -------------------------------------------------------------------------------------
    def user(self, request: Request) -> Account | None:
        """The session's account while it may still act: not disabled, and its password not set since the
        session signed in (a password changed ends every other session)."""
        account = self.accounts.get(request.session.get("user", ""))
        since = request.session.get("since", 0.0)
        since = since if isinstance(since, int | float) else 0.0
        if account is None or account.disabled or account.password_at > since:
            request.session.pop("user", None)
            return None
        return account

    def lang(self, request: Request) -> str:
        lang = request.session.get("lang") or self.section.lang
        return lang if lang in ("vi", "en") else "vi"

    def allowed(self, request: Request, *roles: str) -> Account | Response:
        """The signed-in account if its role may see this page; else the way to the sign-in page, or a refusal."""
        account = self.user(request)
        if account is None:
            if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            return JSONResponse({"error": "sign_in", "message": say("sign_in", self.lang(request))}, 401)
        if roles and account.role not in roles:
            return self.refuse(request, 403, say("forbidden", self.lang(request)))
        return account

    # -- answers -------------------------------------------------------------------------------------------
    def page(self, request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
        """A page and its JSON twin (`?format=json`), made from the same data."""
        if request.query_params.get("format") == "json":
            return JSONResponse(data, status)
        lang = self.lang(request)
        html = self.templates.get_template(template).render(
            request=request, data=data, w=words(lang), lang=lang, user=self.user(request),
            csrftoken=request.scope["csrftoken"](), ward=self.ward_name(lang), link=self.live.link(),
            path=request.url.path)
        return HTMLResponse(html, status)

    def refuse(self, request: Request, status: int, message: str) -> Response:
        if "text/html" in request.headers.get("accept", "") and request.query_params.get("format") != "json":
            return self.page(request, "message.html", {"message": message}, status)
        return JSONResponse({"error": status, "message": message}, status)

    def ward_name(self, lang: str) -> str:
        return self.live.board.get("ward_vi" if lang == "vi" else "ward_en") or say("title", lang)


def make_app(live: LiveWard, accounts: Accounts, section: ConsoleSection, followers: Followers | None = None
             ) -> ASGIApp:
    """The whole console as one ASGI app, wrapped in its protections; the citizens' ticket pages follow tickets
    through `followers` (made here when not given)."""
    from console.views import admin, auth, counter, fleet, phone, stats

    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    # JSON in a <script type="application/json"> block: "<" escaped so no "</script>" can end it early
    env.filters["json_script"] = lambda v: Markup(json.dumps(v, ensure_ascii=False).replace("<", "\\u003c"))
    env.filters["clock"] = lambda ts: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))
    console = Console(live, accounts, section, env)
    routes = [*auth.routes(console), *counter.routes(console), *admin.routes(console), *stats.routes(console),
              *fleet.routes(console), *phone.routes(console, followers or Followers(live)),
              Route("/events", _events(console)),
              Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static")]
    app = Starlette(routes=routes, middleware=[Middleware(
        SessionMiddleware, secret_key=accounts.secret("session"), session_cookie="motcua_session",
        max_age=int(section.session_hours * 3600), same_site="strict", https_only=bool(section.tls_cert))])
    protected = asgi_csrf(app, signing_secret=accounts.secret("csrf"), always_protect={"/login"},
                          cookie_samesite="Strict", cookie_secure=bool(section.tls_cert))
    return Guard(protected)


def _events(console: Console) -> Callable[[Request], Awaitable[Response]]:
    async def events(request: Request) -> Response:
        """Live updates for an open page (server-sent events): the kinds it asks for, as they happen."""
        account = console.allowed(request)
        if not isinstance(account, Account):
            return account
        kinds = frozenset(request.query_params.get("kinds", "").split(",")) & {
            "counter", "board", "device", "services", "catalogue", "ticket"}
        listener = console.live.listen(kinds)

        async def stream():  # noqa: ANN202 - an async generator of events
            try:
                yield {"data": json.dumps({"kind": "hello", "now": time.time(), **console.live.link()})}
                due = time.monotonic() + SIGN_IN_CHECKED_S
                while True:
                    try:
                        event = await asyncio.wait_for(listener.queue.get(), max(0.0, due - time.monotonic()))
                    except TimeoutError:
                        event = {}
                    if time.monotonic() >= due:  # the sign-in still holds? else the page, asking again, hears it
                        due = time.monotonic() + SIGN_IN_CHECKED_S  # has ended
                        if console.user(request) is None:
                            return
                    if event is None:  # the console stops
                        return
                    if event:
                        yield {"data": json.dumps(event, ensure_ascii=False)}
            finally:
                console.live.forget(listener)

        return EventSourceResponse(stream(), ping=10, headers={"cache-control": "no-store"})

    return events


class Guard:
    """Refuses a request body over MAX_BODY before anyone reads it, and adds the security headers to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > MAX_BODY:
            await Response("request too large or without a length", 413)(scope, receive, send)
            return
        seen = 0

        async def limited() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                return {"type": "http.disconnect"}
            return message

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, limited, with_headers)
