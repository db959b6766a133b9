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
    """Every device of a ward: see their health, offer and install updates."""


@fleet.command("status")
@connection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with each device's full detail).")
@click.option("--check", is_flag=True, help="Exit with code 1 when any device is offline or has a problem.")
@click.option("--expect", type=click.Path(file_okay=False, exists=True), default=None,
              help="Folder of enrolled configs (e.g. /etc/motcua on the hub): also list those that never reported.")
def fleet_status(broker: BrokerSection, ward: str, as_json: bool, check: bool, expect: str | None) -> None:
    """List every device of the ward: online or offline, role, version and update state (none, trial, ok,
    rolled_back), since when, and what needs attention."""
    from provisioning.fleet import enrolled, fleet_rows

    rows = guard(lambda: fleet_rows(broker, ward, expected=enrolled(expect, ward) if expect else None))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        click.echo(f"no device of ward {ward!r} has reported to {broker.host}:{broker.port}")
    else:
        click.echo(f"{'device':<16} {'role':<9} {'status':<8} {'version':<12} {'update':<11} {'since':<20} problems")
        for r in rows:
            click.echo(f"{r['device']:<16} {r['role']:<9} {r['status']:<8} {r['version']:<12} {r['update']:<11} "
                       f"{r['since']:<20} {'; '.join(r['problems']) or '-'}")
    if check and any(r["problems"] for r in rows):
        sys.exit(1)


@fleet.command("offer")
@click.argument("release", type=click.Path(file_okay=False, exists=True))
@click.option("--data-dir", type=click.Path(file_okay=False), default="/var/lib/motcua", show_default=True,
              help="The hub's data folder: the release goes on its shelf there (offered/<version>/).")
def fleet_offer(release: str, data_dir: str) -> None:
    """Put RELEASE (a folder from `motcua release build`) on the hub's release shelf, after checking every file
    against its manifest. The hub serves the shelf on its release_port; devices fetch from there."""
    from hub.releases import OFFERED
    from provisioning.release import offer

    guard(lambda: offer(release, f"{data_dir}/{OFFERED}", say=click.echo))


@fleet.command("update")
@click.argument("release", type=click.Path(file_okay=False, exists=True))
@click.argument("names", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every online device not already running the release.")
@click.option("--url", required=True, help="The hub's release shelf, e.g. http://192.168.1.10:8070/.")
@click.option("--healthy-s", type=click.IntRange(10, 3600), default=120, show_default=True,
              help="Seconds a device has to report healthy on the new release before it goes back by itself.")
@connection_options
def fleet_update(release: str, names: tuple[str, ...], every: bool, url: str, healthy_s: int,
                 broker: BrokerSection, ward: str) -> None:
    """Update devices NAMES (or --all) to RELEASE, one at a time: each installs it beside the running one, restarts
    into it and keeps it once healthy, or goes back to what it ran before. Waits for each one's final word."""
    from provisioning.updates import update

    guard(lambda: update(broker, ward, release, url, names, every, healthy_s, say=click.echo))


@click.group()
def release() -> None:
    """Build a motcua release for fleet updates."""


@release.command("build")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="The folder to write the release to.")
@click.option("--with-deps", is_flag=True,
              help="Also every dependency's wheel (needs the package index once), for a release with new ones.")
@click.option("--source", type=click.Path(file_okay=False, exists=True), default=None,
              help="motcua's source checkout (holding pyproject.toml); default: the one this motcua runs from.")
def release_build(out: str, with_deps: bool, source: str | None) -> None:
    """Build motcua's wheel from its source, with a manifest of checksums: a release to offer to a ward."""
    from provisioning.release import SOURCE, build

    guard(lambda: build(out, with_deps, source or SOURCE, say=click.echo))


@click.group()
def device() -> None:
    """Send ward IT commands to one device: ping, status, identify, test print, log level, reload, restart, reset.

    Each command carries a fresh id and an expiry (--ttl): the device carries it out once, and refuses it once
    expired, so a command held up by a network outage never fires later."""


def _command(broker: BrokerSection, ward: str, name: str, command: str, args: dict[str, Any] | None,
             timeout: float, ttl: float) -> None:
    from provisioning.fleet import send_command

    body = guard(lambda: send_command(broker, ward, name, command, args, timeout, ttl))
    click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    if not body.get("ok"):
        sys.exit(1)


def _timing(fn):  # noqa: ANN001, ANN202 - click decorator stack
    fn = click.option("--ttl", type=click.FloatRange(5, 600), default=60.0, show_default=True,
                      help="Seconds the command stays valid; the device refuses it after that.")(fn)
    return click.option("--timeout", type=click.FloatRange(0.5, 120), default=5.0, show_default=True,
                        help="Seconds to wait for the device's answer.")(fn)


@device.command("log-level")
@click.argument("name")
@click.argument("level", type=click.Choice(["debug", "info", "warning", "error"]))
@connection_options
@_timing
def device_log_level(name: str, level: str, broker: BrokerSection, ward: str, timeout: float, ttl: float) -> None:
    """Change device NAME's log level until it restarts, to see more while chasing a fault."""
    _command(broker, ward, name, "log_level", {"level": level}, timeout, ttl)


@device.command("identify")
@click.argument("name")
@click.option("--seconds", type=click.IntRange(1, 120), default=10, show_default=True)
@connection_options
@_timing
def device_identify(name: str, seconds: int, broker: BrokerSection, ward: str, timeout: float, ttl: float) -> None:
    """Make device NAME known where it stands: its screen flashes, or its LEDs blink; prints its host and addresses."""
    _command(broker, ward, name, "identify", {"seconds": seconds}, timeout, ttl)


@device.command("reset")
@click.argument("name")
@click.option("--factory", is_flag=True, required=True, help="Required: says you mean a factory reset.")
@click.option("--wait", "wait_s", type=click.FloatRange(0, 120), default=20.0, show_default=True,
              help="Seconds the device waits for its outbox to be acknowledged before exporting the rest.")
@connection_options
@click.option("--ttl", type=click.FloatRange(5, 600), default=60.0, show_default=True,
              help="Seconds the command stays valid; the device refuses it after that.")
def device_reset(name: str, factory: bool, wait_s: float, broker: BrokerSection, ward: str, ttl: float) -> None:
    """Factory-reset device NAME: it delivers what its outboxes hold (or exports it for its next start to send),
    forgets its local state and restarts, keeping its identity. A hub refuses on a day it issued tickets."""
    _command(broker, ward, name, "factory_reset", {"wait_s": wait_s}, wait_s + 10, ttl)


SIMPLE = {
    "ping": "Ask device NAME whether it answers: role, version, boot id and uptime.",
    "status": "Ask device NAME for its full state now (printer, outbox, links, upstream).",
    "test-print": "Ask kiosk NAME to print a test ticket; prints its printer's status.",
    "reload": "Ask device NAME to read its config again: applies what can change live, names what needs a restart.",
    "restart": "Restart device NAME's service remotely: it stops cleanly and systemd starts it again; nothing is lost.",
}


def _simple(command: str, help_text: str) -> None:
    @device.command(command, help=help_text)
    @click.argument("name")
    @connection_options
    @_timing
    def run(name: str, broker: BrokerSection, ward: str, timeout: float, ttl: float) -> None:
        _command(broker, ward, name, command.replace("-", "_"), None, timeout, ttl)


for _name, _help in SIMPLE.items():
    _simple(_name, _help)
