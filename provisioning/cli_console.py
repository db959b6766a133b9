# The motcua commands for the web console: run it, and manage the accounts of the people who sign in to it.
from __future__ import annotations

import json
import sys

import click

from provisioning.cli_common import guard


@click.group()
def console() -> None:
    """The ward's web console: run it."""


@console.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The console's device config (TOML).")
def console_run(config_path: str) -> None:
    """Run the web console: officers' counter screens, ward admin, statistics and the fleet page."""
    from console.main import run

    guard(lambda: run(config_path))


def _accounts(config_path: str):  # noqa: ANN202 - the console's Accounts
    from console.accounts import Accounts
    from console.config import load_console

    config, section = load_console(config_path)
    return Accounts(config.data_dir / section.accounts)


def _password(given: str | None) -> str:
    if given == "-":
        return sys.stdin.readline().rstrip("\n")
    if given:
        return given
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


_config = click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, exists=True),
                       help="The console's device config (its accounts file is under its data_dir).")


@click.group()
def officer() -> None:
    """Accounts of the console: officers, admins and ward IT."""


@officer.command("add")
@click.argument("name")
@_config
@click.option("--display", required=True, help="The name shown on screens, e.g. 'Nguyễn Thị Mai'.")
@click.option("--role", type=click.Choice(["officer", "admin", "it"]), default="officer", show_default=True)
@click.option("--counters", default="", help="Counters an officer may work, e.g. 1,2.")
@click.option("--password", default=None, help="The password; '-' reads it from stdin; omitted: asked for.")
def officer_add(name: str, config_path: str, display: str, role: str, counters: str, password: str | None) -> None:
    """Add account NAME (an officer works only the counters given; an admin any)."""
    from console.accounts import parse_counters

    wanted = guard(lambda: parse_counters(counters))
    accounts = guard(lambda: _accounts(config_path))
    try:
        made = guard(lambda: accounts.add(name, display, role, _password(password), wanted, by="cli"))
    finally:
        accounts.close()
    click.echo(f"added {made.role} {made.name!r} ({made.display})" + (f", counters {list(made.counters)}"
                                                                       if made.counters else ""))


@officer.command("list")
@_config
def officer_list(config_path: str) -> None:
    """List every account: name, role, counters, disabled or not."""
    accounts = guard(lambda: _accounts(config_path))
    try:
        for a in accounts.all():
            click.echo(json.dumps({"name": a.name, "display": a.display, "role": a.role,
                                   "counters": list(a.counters), "disabled": a.disabled}, ensure_ascii=False))
    finally:
        accounts.close()


@officer.command("passwd")
@click.argument("name")
@_config
@click.option("--password", default=None, help="The new password; '-' reads it from stdin; omitted: asked for.")
def officer_passwd(name: str, config_path: str, password: str | None) -> None:
    """Set account NAME's password."""
    accounts = guard(lambda: _accounts(config_path))
    try:
        guard(lambda: accounts.change(name, "cli", password=_password(password)))
    finally:
        accounts.close()
    click.echo(f"password of {name!r} changed")


@officer.command("disable")
@click.argument("name")
@_config
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
def officer_disable(name: str, config_path: str, enable: bool) -> None:
    """Disable account NAME (it can no longer sign in; its history stays), or enable it again."""
    accounts = guard(lambda: _accounts(config_path))
    try:
        guard(lambda: accounts.change(name, "cli", disabled=not enable))
    finally:
        accounts.close()
    click.echo(f"{name!r} {'enabled' if enable else 'disabled'}")
