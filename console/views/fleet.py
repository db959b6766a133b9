# Ward IT's fleet page: every device's health, live, problems first; commands to a device and their answers.
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bus.device_commands import command_body
from bus.messages import Message
from console.accounts import Account
from console.i18n import role_said, say

if TYPE_CHECKING:
    from console.web import Console

COMMANDS = ("ping", "status", "identify", "reload", "restart")  # and log_level, with its level
ROLE_COMMANDS = {"kiosk": ("test_print",)}  # a role's own, on its devices' rows only
LEVELS = ("debug", "info", "warning", "error")


def fleet_data(console: Console, lang: str) -> dict[str, Any]:
    """The page's rows and its words, the same for its first load and each live reload of the table."""
    rows = console.live.fleet(lang)
    rows.sort(key=lambda r: (not r["problems"], r["device"]))  # what needs attention first
    devices = [{**{k: v for k, v in r.items() if k != "detail"},
                "role_text": role_said(r["role"], lang),
                "own": [[c, say(c, lang)] for c in ROLE_COMMANDS.get(r["role"], ())],
                "status_text": say(r["status"], lang) if r["status"] in ("online", "offline") else r["status"]}
               for r in rows]
    return {"devices": devices, "commands": [[c, say(c, lang)] for c in COMMANDS], "levels": LEVELS,
            "log_level": say("log_level", lang), "ok": say("ok", lang),
            "confirm": {"restart": say("confirm_restart", lang, device="{device}")}}  # asked before it is sent


def routes(console: Console) -> list[Route]:
    async def page(request: Request) -> Response:
        account = console.allowed(request, "it", "admin")
        if not isinstance(account, Account):
            return account
        return console.page(request, "fleet.html", fleet_data(console, console.lang(request)))

    async def command(request: Request) -> Response:
        account = console.allowed(request, "it")
        if not isinstance(account, Account):
            return account
        lang, device, name = console.lang(request), request.path_params["device"], request.path_params["command"]
        state = console.live.devices.get(device)
        if state is None or name not in (*COMMANDS, *ROLE_COMMANDS.get(state.body.get("role", ""), ()), "log_level"):
            return JSONResponse({"ok": False, "message": say("bad_form", lang, problem="unknown device or command")},
                                400)
        args: dict[str, Any] | None = None
        if name == "log_level":
            level = (await request.form()).get("level")
            if level not in LEVELS:
                return JSONResponse({"ok": False, "message": say("bad_form", lang, problem="level")}, 400)
            args = {"level": level}
        body = command_body(name, args)
        reply = await run_in_threadpool(console.live.ask, lambda t: t.device_command(device), "device.command",
                                        body, False)
        if isinstance(reply, Message):
            ok, result = reply.body["ok"], reply.body.get("result") or {}
        else:
            ok, result = False, {"reason": say(reply, lang)}
        console.accounts.record(account.name, f"device.{name}", device, {"ok": ok})
        return JSONResponse({"ok": ok, "device": device, "command": name, "result": result}, 200 if ok else 409)

    return [Route("/fleet", page), Route("/fleet/{device:str}/{command:str}", command, methods=["POST"])]
