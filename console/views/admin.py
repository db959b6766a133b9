# Ward admin: services, counters, the board notice, working hours and procedures; accounts and the audit log.
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bus.messages import Message
from console.accounts import ROLES, Account, parse_counters
from console.errors import AccountError
from console.i18n import audit_detail, audit_said, hub_refusal, say

if TYPE_CHECKING:
    from console.web import Console

MARKUP = re.compile(r"<\s*[a-zA-Z/!?]")  # text is shown on screens and paper, never as HTML: markup is a mistake


class FormProblem(ValueError):
    """A form the console refuses before it asks the hub: says which field and why."""


def admin_data(console: Console) -> dict[str, Any]:
    live = console.live
    served = {c: s.get("services", []) for c, s in live.counters.items()}
    counters = [{"id": c["counter"], "name_vi": c.get("name_vi", ""), "name_en": c.get("name_en", ""),
                 "services": served.get(c["counter"], [])} for c in live.board.get("counters", [])]
    catalogue = (live.catalogue or {}).get("catalogue", {})
    return {"services": live.services, "counters": counters, "notice": live.board.get("notice", ""),
            "hours": live.hours,
            "fields": catalogue.get("fields", []), "catalogue_version": catalogue.get("version"),
            "link": live.link()}


def routes(console: Console) -> list[Route]:
    async def overview(request: Request) -> Response:
        account = console.allowed(request, "admin")
        if not isinstance(account, Account):
            return account
        return console.page(request, "admin.html", {**admin_data(console), "flash": request.session.pop("flash", "")})

    async def change(request: Request) -> Response:
        account = console.allowed(request, "admin")
        if not isinstance(account, Account):
            return account
        kind = request.path_params["kind"]
        lang = console.lang(request)
        if kind not in BUILDERS:
            return console.refuse(request, 404, say("bad_form", lang, problem=f"nothing called {kind[:20]!r}"))
        form = await request.form()
        try:
            action, data = BUILDERS[kind](form, console)
        except FormProblem as exc:
            request.session["flash"] = say("bad_form", lang, problem=str(exc))
            return RedirectResponse("/admin", status_code=303)
        reply = await run_in_threadpool(console.live.ask, lambda t: t.admin_request, "admin.command",
                                        {"action": action, "data": data, "by": account.name})
        request.session["flash"] = _said(reply, lang)
        console.accounts.record(account.name, f"admin.{action}", kind, {"result": request.session["flash"]})
        return RedirectResponse("/admin", status_code=303)

    async def accounts(request: Request) -> Response:
        account = console.allowed(request, "admin")
        if not isinstance(account, Account):
            return account
        lang = console.lang(request)
        message = request.session.pop("flash", "")
        if request.method == "POST":
            form = await request.form()
            try:
                await run_in_threadpool(_account_change, console, account, form)
                message = say("account_saved", lang, name=str(form.get("name", ""))[:40])
            except (AccountError, FormProblem) as exc:
                message = say("bad_form", lang, problem=str(exc))
            request.session["flash"] = message
            return RedirectResponse("/accounts", status_code=303)
        rows = [{"name": a.name, "display": a.display, "role": a.role, "counters": list(a.counters),
                 "disabled": a.disabled} for a in console.accounts.all()]
        return console.page(request, "accounts.html", {"accounts": rows, "roles": ROLES, "flash": message})

    async def audit(request: Request) -> Response:
        account = console.allowed(request, "admin")
        if not isinstance(account, Account):
            return account
        who, lang = request.query_params.get("account", "")[:40], console.lang(request)
        entries = [{**e, "said": audit_said(e["action"], lang), "shown": audit_detail(e["detail"], lang)}
                   for e in console.accounts.audit(300, who)]
        return console.page(request, "audit.html", {"entries": entries, "account": who})

    return [Route("/admin", overview), Route("/admin/{kind:str}", change, methods=["POST"]),
            Route("/accounts", accounts, methods=["GET", "POST"]), Route("/audit", audit)]


def _said(reply: Message | str, lang: str) -> str:
    if isinstance(reply, str):
        return say(reply, lang)
    if reply.type == "error":
        return say("refused", lang, reason=hub_refusal(reply.body["code"], reply.body["reason"], lang))
    return say("saved", lang, version=reply.body["version"])


def _text(form: FormData, key: str, limit: int = 200, required: bool = True) -> str:
    value = form.get(key, "")
    if not isinstance(value, str):
        raise FormProblem(f"{key}: expected text")
    value = value.strip()
    if len(value) > limit:
        raise FormProblem(f"{key}: at most {limit} characters")
    if MARKUP.search(value):
        raise FormProblem(f"{key}: must not hold markup such as <...>")
    if required and not value:
        raise FormProblem(f"{key}: required")
    return value


def _rows(form: FormData, prefix: str) -> list[str]:
    """The row indexes a table form sent (`code.0`, `code.1` ...), a new empty row left out."""
    found = sorted({k.split(".", 1)[1] for k in form if k.startswith(prefix + ".")}, key=lambda i: (len(i), i))
    if len(found) > 100:
        raise FormProblem("at most 100 rows")
    return found


def _services(form: FormData, console: Console) -> tuple[str, list[dict[str, Any]]]:
    services = []
    for i in _rows(form, "code"):
        code = _text(form, f"code.{i}", 16, required=False)
        if not code:
            continue
        target = _text(form, f"target.{i}", 3)
        if not _digits(target):
            raise FormProblem(f"target.{i}: a number of minutes")
        services.append({"code": code, "prefix": _text(form, f"prefix.{i}", 1), "name_vi": _text(form, f"name_vi.{i}"),
                         "name_en": _text(form, f"name_en.{i}"), "target_minutes": int(target),
                         "procedures": [p.strip() for p in _text(form, f"procedures.{i}", 2000, False).split(",")
                                        if p.strip()]})
    return "services", services


def _counters(form: FormData, console: Console) -> tuple[str, list[dict[str, Any]]]:
    counters = []
    for i in _rows(form, "id"):
        ident = _text(form, f"id.{i}", 3, required=False)
        if not ident:
            continue
        if not _digits(ident):
            raise FormProblem(f"id.{i}: a counter number")
        services = [s for s in form.getlist(f"services.{i}") if isinstance(s, str)]
        counters.append({"id": int(ident), "name_vi": _text(form, f"name_vi.{i}"),
                         "name_en": _text(form, f"name_en.{i}"), "services": services[:100]})
    return "counters", counters


def _notice(form: FormData, console: Console) -> tuple[str, dict[str, str]]:
    return "notice", {"notice": _text(form, "notice", 2000, required=False)}


def _hours(form: FormData, console: Console) -> tuple[str, dict[str, list[str]]]:
    """One rule a line, as typed; the hub checks them as it checks the TOML and says which line is wrong."""
    rules = [" ".join(line.split()) for line in _text(form, "hours", 700, required=False).splitlines()]
    return "hours", {"hours": [r for r in rules if r]}


def _procedure(form: FormData, console: Console) -> tuple[str, dict[str, Any]]:
    """One procedure edited: the whole catalogue goes to the hub with it changed."""
    catalogue = dict((console.live.catalogue or {}).get("catalogue") or {})
    if not catalogue:
        raise FormProblem("no catalogue is published yet")
    code = _text(form, "code", 30)
    fields = []
    for field in catalogue.get("fields", []):
        procedures = []
        for proc in field["procedures"]:
            if proc["code"] == code:
                documents = [d.strip() for d in _text(form, "documents_vi", 4000).splitlines() if d.strip()]
                proc = {**proc, "name_vi": _text(form, "name_vi"), "name_en": _text(form, "name_en"),
                        "documents_vi": documents, "fee_vi": _text(form, "fee_vi"), "time_vi": _text(form, "time_vi")}
            procedures.append(proc)
        fields.append({**field, "procedures": procedures})
    return "catalogue", {**catalogue, "fields": fields}


BUILDERS = {"services": _services, "counters": _counters, "notice": _notice, "hours": _hours, "procedure": _procedure}


def _account_change(console: Console, by: Account, form: FormData) -> None:
    name = _text(form, "name", 40)
    counters = parse_counters(_text(form, "counters", 200, False))
    if form.get("op") == "add":
        console.accounts.add(name, _text(form, "display", 80), _text(form, "role", 10),
                             _text(form, "password", 200), counters, by=by.name)
        return
    op = str(form.get("op", ""))
    if op in ("enable", "disable"):
        if name == by.name:
            raise FormProblem("an admin may not lock their own account")
        console.accounts.change(name, by.name, disabled=op == "disable")
        return
    if op != "save":
        raise FormProblem(f"unknown operation {op[:20]!r}")
    role = _text(form, "role", 10)
    if name == by.name and role != by.role:
        raise FormProblem("an admin may not change their own role (another admin can)")
    console.accounts.change(name, by.name, display=_text(form, "display", 80), role=role, counters=counters,
                            password=_text(form, "password", 200, required=False) or None)


def _digits(text: str) -> bool:
    """0-9 only: str.isdigit() also takes '²' and '٣', which int() refuses."""
    return text.isascii() and text.isdigit()
