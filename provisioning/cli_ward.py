# The motcua commands for ward staff and IT: tickets, counter actions, statistics, config checks.
from __future__ import annotations

import click

from bus.config import BrokerSection
from bus.messages import COUNTER_ACTIONS, PRIORITY_GROUPS, STATS_GROUPS
from provisioning.cli_common import connection_options, guard, request
from provisioning.errors import ProvisioningError


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, exists=True),
              help="The hub's device config (for its database and service targets).")
@click.option("--from", "day_from", help="First day, YYYY-MM-DD (default: today, ward time).")
@click.option("--to", "day_to", help="Last day, YYYY-MM-DD (default: the first day).")
@click.option("--by", type=click.Choice(STATS_GROUPS), default="service", show_default=True)
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV instead of a table.")
def stats(config_path: str, day_from: str | None, day_to: str | None, by: str, as_csv: bool) -> None:
    """Ward statistics per day: issued, served, no-shows, transfers, waits, satisfaction."""
    import sqlite3
    import time
    from datetime import date

    from bus.numbering import LocalDay
    from hub import stats as ward_stats
    from hub.config import load_hub

    def run() -> str:
        config, hub = load_hub(config_path)
        for name, value in (("--from", day_from), ("--to", day_to)):
            if value is not None:
                try:
                    date.fromisoformat(value)
                except ValueError:
                    raise ProvisioningError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None
        first = day_from or LocalDay(hub.timezone, hub.clock_floor).local_date(time.time()).isoformat()
        path = config.data_dir / hub.database
        if not path.exists():
            raise ProvisioningError(f"no hub database at {path}")
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = ward_stats.compute(db, hub, first, day_to or first, by)
        except sqlite3.OperationalError as exc:
            raise ProvisioningError(f"cannot read {path}: {exc} (a hub of this version upgrades its database "
                                    "when it starts)") from None
        return ward_stats.to_csv(rows) if as_csv else ward_stats.to_table(rows, by)

    click.echo(guard(run), nl=not as_csv)


@click.group()
def config() -> None:
    """Check device configs."""


@config.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
def config_check(path: str) -> None:
    """Validate a device config; prints what is wrong, naming the key."""
    from provisioning.roles import check_config

    role = guard(lambda: check_config(path))
    click.echo(f"{path}: valid {role} config")
    if role == "hub":  # how the working hours were read: the waits and the statistics rest on them
        from bus import hours
        from hub.config import load_hub

        section = load_hub(path)[1]
        read = hours.parse(section.hours, path, "hub.hours")
        click.echo(f"working hours: {read.week_said()}" if read else
                   "working hours: not set — waits ignore the lunch break (hub.hours, docs/queue.md)")
        if section.catalogue:  # the hub loads it at start: a catalogue it cannot send would stop it there
            click.echo(guard(lambda: catalogue_said(section.catalogue, path)))


def catalogue_said(path: str, config_path: str) -> str:
    """The hub's catalogue as it will send it: procedures, fields, and its size in the one message it takes."""
    from bus import messages
    from bus.catalogue import load_catalogue_message

    body = load_catalogue_message(path, config_path)  # ConfigError when it is wrong or does not fit
    payload = messages.make("catalogue.update", "hub", "0000", 0, body).encode()
    fields = body["catalogue"]["fields"]
    deflated = " deflated" if b'"body_z":' in payload else ""
    return (f"catalogue: {sum(len(f['procedures']) for f in fields)} procedures in {len(fields)} fields, "
            f"{len(payload) / 1024:.1f} KiB{deflated} of the {messages.MAX_PAYLOAD // 1024} KiB one message holds")


@click.command()
@connection_options
@click.argument("service")
@click.option("--priority", type=click.Choice(PRIORITY_GROUPS), help="Priority group, if any.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
def ticket(broker: BrokerSection, ward: str, service: str, priority: str | None, timeout: float) -> None:
    """Take a ticket for SERVICE (its code, e.g. HT) from the hub, as a kiosk would."""
    body = {"service": service, **({"priority": priority} if priority else {})}
    request(broker, ward, "cli-ticket", lambda t: t.ticket_request, "ticket.request", body, timeout)


@click.command()
@connection_options
@click.argument("action", type=click.Choice(COUNTER_ACTIONS), metavar="ACTION")
@click.option("--counter", type=click.IntRange(1, 999), required=True)
@click.option("--officer", help="Officer on duty (for open and call_next).")
@click.option("--service", help="Target service code (for transfer).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
def counter(broker: BrokerSection, ward: str, action: str, counter: int, officer: str | None, service: str | None,
            timeout: float) -> None:
    """Send a counter ACTION (call_next, recall, done, ...) to the hub, as a counter keypad would."""
    body = {"action": action, "counter": counter, **({"officer": officer} if officer else {}),
            **({"service": service} if service else {})}
    request(broker, ward, f"cli-counter-{counter}", lambda t: t.counter_command(counter),
             "counter.command", body, timeout)


