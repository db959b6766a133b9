# Signing in and out, the language toggle, and the way to each role's first page.
from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from console.accounts import Account, Refusal
from console.errors import AccountError
from console.i18n import say

if TYPE_CHECKING:
    from console.web import Console


def routes(console: Console) -> list[Route]:
    async def home(request: Request) -> Response:
        account = console.allowed(request)
        if not isinstance(account, Account):
            return account
        from console.web import HOME

        return RedirectResponse(HOME[account.role], status_code=303)

    async def login(request: Request) -> Response:
        lang = console.lang(request)
        if request.method == "GET":
            return console.page(request, "login.html", {"next": _safe(request.query_params.get("next", "/"))})
        form = await request.form()
        name, password = str(form.get("account", ""))[:40].strip(), str(form.get("password", ""))[:200]
        address = request.client.host if request.client else "-"
        result = await _in_thread(lambda: console.accounts.sign_in(name, password, address))
        if isinstance(result, Refusal):
            message = say(result.reason, lang, wait=round(result.wait_s))
            status = 429 if result.reason == "too_many" else 401
            return console.page(request, "login.html", {"next": _safe(str(form.get("next", "/"))),
                                                        "error": message, "account": name}, status)
        request.session.clear()  # a new session for the new sign-in
        request.session.update(user=result.name, lang=lang, since=console.accounts.clock())
        return RedirectResponse(_safe(str(form.get("next", "/"))), status_code=303)

    async def logout(request: Request) -> Response:
        user = request.session.pop("user", None)
        if user:
            console.accounts.record(user, "sign_out", "-", {})
        return RedirectResponse("/login", status_code=303)

    async def lang(request: Request) -> Response:
        form = await request.form()
        request.session["lang"] = "en" if form.get("lang") == "en" else "vi"
        return RedirectResponse(_safe(str(form.get("back", "/"))), status_code=303)

    async def password(request: Request) -> Response:
        """Anyone signed in changes their own password: the current one checked (and throttled) as at sign-in."""
        account = console.allowed(request)
        if not isinstance(account, Account):
            return account
        lang = console.lang(request)
        if request.method == "GET":
            return console.page(request, "password.html", {"flash": request.session.pop("flash", "")})
        form = await request.form()
        current, new, again = (str(form.get(k, ""))[:200] for k in ("current", "new", "again"))
        address = request.client.host if request.client else "-"
        checked = await _in_thread(lambda: console.accounts.sign_in(account.name, current, address))
        status = 429 if isinstance(checked, Refusal) and checked.reason == "too_many" else 400
        if isinstance(checked, Refusal):
            error = say(checked.reason, lang, wait=round(checked.wait_s))
        elif new != again:
            error = say("passwords_differ", lang)
        else:
            try:
                await _in_thread(lambda: console.accounts.change(account.name, account.name, password=new))
            except AccountError as exc:
                error = say("bad_form", lang, problem=str(exc))
            else:
                request.session["since"] = console.accounts.clock()  # this session goes on; the others end
                request.session["flash"] = say("password_changed", lang)
                return RedirectResponse("/password", status_code=303)
        return console.page(request, "password.html", {"error": error}, status)

    async def session(request: Request) -> Response:
        """Whether this browser is still signed in: a page whose live stream was refused asks, to tell "signed out,
        sign in again" (its session ended: hours passed, a new password) from "the console is away"."""
        account = console.allowed(request)
        if not isinstance(account, Account):
            return account
        return JSONResponse({"account": account.name, "role": account.role})

    return [Route("/", home), Route("/login", login, methods=["GET", "POST"]),
            Route("/logout", logout, methods=["POST"]), Route("/lang", lang, methods=["POST"]),
            Route("/password", password, methods=["GET", "POST"]), Route("/session", session)]


SAFE_NEXT = re.compile(r"/(?![/\\])[A-Za-z0-9/_.~%?=&+-]{0,300}")


def _safe(path: str) -> str:
    """Only a path of this console to go back to after signing in: never another site. Browsers read "/\\x" as
    "//x" and drop tabs and newlines from an address, so only plain path characters are let through."""
    return path if SAFE_NEXT.fullmatch(path) and not urlparse(path).netloc else "/"


async def _in_thread(fn):  # noqa: ANN001, ANN202 - password hashing takes ~0.1 s: off the event loop
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn)
