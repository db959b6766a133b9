# The motcua commands for ward IT: the health of every device in a ward, and commands to one device.
from __future__ import annotations

import json
import sys
from typing import Any

import click

from bus.config import BrokerSection
from provisioning.cli_common import connection_options, guard


@click.group()
def fleet() -> None:
    """See the health of every device in a ward."""


@fleet.command("status")
@connection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with each device's full detail).")
@click.option("--check", is_flag=True, help="Exit with code 1 when any device is offline or has a problem.")
@click.option("--expect", type=click.Path(file_okay=False, exists=True), default=None,
              help="Folder of enrolled configs (e.g. /etc/motcua on the hub): also list those that never reported.")
def fleet_status(broker: BrokerSection, ward: str, as_json: bool, check: bool, expect: str | None) -> None:
    """List every device of the ward: online or offline, role, version, since when, and what needs attention."""
    from provisioning.fleet import enrolled, fleet_rows

    rows = guard(lambda: fleet_rows(broker, ward, expected=enrolled(expect, ward) if expect else None))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        click.echo(f"no device of ward {ward!r} has reported to {broker.host}:{broker.port}")
    else:
        click.echo(f"{'device':<16} {'role':<9} {'status':<8} {'version':<8} {'since':<20} problems")
        for r in rows:
            click.echo(f"{r['device']:<16} {r['role']:<9} {r['status']:<8} {r['version']:<8} {r['since']:<20} "
                       f"{'; '.join(r['problems']) or '-'}")
    if check and any(r["problems"] for r in rows):
        sys.exit(1)


@click.group()
def device() -> None:
    """Send ward IT commands to one device: ping, status, log level, restart."""


def _command(broker: BrokerSection, ward: str, name: str, command: str, args: dict[str, Any] | None,
             timeout: float) -> None:
    from provisioning.fleet import send_command

    body = guard(lambda: send_command(broker, ward, name, command, args, timeout))
    click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    if not body.get("ok"):
        sys.exit(1)


_timeout = click.option("--timeout", type=click.FloatRange(0.5, 60), default=5.0, show_default=True,
                        help="Seconds to wait for the device's answer.")


@device.command("log-level")
@click.argument("name")
@click.argument("level", type=click.Choice(["debug", "info", "warning", "error"]))
@connection_options
@_timeout
def device_log_level(name: str, level: str, broker: BrokerSection, ward: str, timeout: float) -> None:
    """Change device NAME's log level until it restarts, to see more while chasing a fault."""
    _command(broker, ward, name, "log_level", {"level": level}, timeout)


SIMPLE = {
    "ping": "Ask device NAME whether it answers: role, version, boot id and uptime.",
    "status": "Ask device NAME for its full state now (printer, outbox, links, upstream).",
    "restart": "Restart device NAME's service remotely: it stops cleanly and systemd starts it again; nothing is lost.",
}


def _simple(command: str, help_text: str) -> None:
    @device.command(command, help=help_text)
    @click.argument("name")
    @connection_options
    @_timeout
    def run(name: str, broker: BrokerSection, ward: str, timeout: float) -> None:
        _command(broker, ward, name, command, None, timeout)


for _name, _help in SIMPLE.items():
    _simple(_name, _help)
