# The `motcua` command: a thin click layer over the library; every subcommand is a few lines over one call.
from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click

from bus.client import BusClient
from bus.config import BrokerSection
from bus.errors import BusError
from bus.messages import COUNTER_ACTIONS, PRIORITY_GROUPS
from provisioning.errors import ProvisioningError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail to stderr.")
def cli(verbose: bool) -> None:
    """motcua - queue, display and satisfaction system for ward one-stop centres."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@cli.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The hub's device config (TOML).")
def hub(config_path: str) -> None:
    """Run the ward hub: the queue authority."""
    from hub.main import run

    _guard(lambda: run(config_path))


@cli.command()
@click.option("--duration", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="How long to run, in real seconds.")
@click.option("--speed", type=click.FloatRange(min=1, max=10000), default=60.0, show_default=True,
              help="Ward time runs this many times faster than real time.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed for arrivals and service.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-ward"),
              show_default=True, help="Where the demo keeps its files; wiped at start if the demo made it.")
@click.option("--broker", type=click.Choice(["auto", "mosquitto", "embedded"]), default="auto", show_default=True,
              help="Which broker to run; auto picks mosquitto when it is installed.")
@click.option("--kiosks", type=click.IntRange(1, 20), default=2, show_default=True, help="Simulated kiosks.")
@click.option("--arrivals", type=click.FloatRange(min=1), default=40.0, show_default=True,
              help="Citizens arriving per ward hour.")
@click.option("--window/--headless", default=None,
              help="Show the kiosk in a window (default when a display is available) or run it headless.")
@click.option("--no-kiosk", is_flag=True, help="Leave out the real kiosk; only simulated bus clients.")
@click.option("--no-board", is_flag=True, help="Leave out the waiting-room board.")
def demo(duration: float, speed: float, seed: int, workdir: Path, broker: str, kiosks: int,
         arrivals: float, window: bool | None, no_kiosk: bool, no_board: bool) -> None:
    """Run a whole simulated ward on this machine, with live progress and a summary."""
    from provisioning.demo import DemoOptions, run_demo

    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger().setLevel(logging.WARNING)  # the demo's own progress lines are the output
    if window is None:
        window = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    opts = DemoOptions(duration=duration, speed=speed, seed=seed, workdir=workdir.resolve(), broker=broker,
                       kiosks=kiosks, arrivals_per_hour=arrivals, kiosk_ui=not no_kiosk, board=not no_board,
                       headless=not window)
    summary = _guard(lambda: run_demo(opts))
    if summary["duplicates"] or summary["missing_in_hub"]:
        raise click.ClickException("the demo found duplicate or missing tickets (see the summary)")


@cli.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, exists=True),
              help="The hub's device config (for its database and service targets).")
@click.option("--from", "day_from", help="First day, YYYY-MM-DD (default: today, ward time).")
@click.option("--to", "day_to", help="Last day, YYYY-MM-DD (default: the first day).")
@click.option("--by", type=click.Choice(["service", "counter", "officer"]), default="service", show_default=True)
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV instead of a table.")
def stats(config_path: str, day_from: str | None, day_to: str | None, by: str, as_csv: bool) -> None:
    """Ward statistics per day: issued, served, no-shows, transfers, waits, satisfaction."""
    import sqlite3
    import time
    from datetime import date

    from sqlite_utils import Database

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
        db = Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
        try:
            rows = ward_stats.compute(db, hub, first, day_to or first, by)
        except sqlite3.OperationalError as exc:
            raise ProvisioningError(f"cannot read {path}: {exc} (a hub of this version upgrades its database "
                                    "when it starts)") from None
        return ward_stats.to_csv(rows) if as_csv else ward_stats.to_table(rows, by)

    click.echo(_guard(run), nl=not as_csv)


@cli.group()
def rating() -> None:
    """Run a counter's satisfaction keypad."""


@rating.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The rating keypad's device config (TOML).")
def rating_run(config_path: str) -> None:
    """Run the rating keypad: one button per level, ratings sent to the hub exactly once."""
    from kiosk.rating import run

    _guard(lambda: run(config_path))


@cli.group()
def district() -> None:
    """Run the upstream (district/province) collector."""


@district.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The collector's device config (TOML).")
def district_run(config_path: str) -> None:
    """Run a collector: store the wards' records exactly once, acknowledge after commit."""
    from district.main import run

    _guard(lambda: run(config_path))


@district.command("report")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, exists=True),
              help="The collector's device config (for its database).")
@click.option("--from", "day_from", required=True, help="First day, YYYY-MM-DD.")
@click.option("--to", "day_to", required=True, help="Last day, YYYY-MM-DD.")
@click.option("--out", type=click.Path(file_okay=False), default="report", show_default=True,
              help="Folder for report.html, the charts and the CSV files.")
def district_report(config_path: str, day_from: str, day_to: str, out: str) -> None:
    """Write the HTML report with charts and CSV: satisfaction, waits, volumes, no-shows per ward and procedure."""
    import sqlite3
    from datetime import date

    from sqlite_utils import Database

    from district import report
    from district.config import load_district

    def run() -> str:
        for name, value in (("--from", day_from), ("--to", day_to)):
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ProvisioningError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None
        config, section = load_district(config_path)
        path = config.data_dir / section.database
        if not path.exists():
            raise ProvisioningError(f"no collector database at {path}")
        db = Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
        return str(report.write(db, day_from, day_to, out))

    click.echo(f"wrote {_guard(run)}")


@cli.group()
def kiosk() -> None:
    """Run a ticket kiosk or preview its ticket."""


@kiosk.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The kiosk's device config (TOML).")
def kiosk_run(config_path: str) -> None:
    """Run the kiosk: touch screen or big buttons, as its config says."""
    from kiosk.main import run

    _guard(lambda: run(config_path))


@kiosk.command("preview")
@click.option("--out", type=click.Path(dir_okay=False), default="ticket.png", show_default=True,
              help="PNG file to write.")
@click.option("--procedure", default="1.001193", show_default=True, help="Procedure code for the QR code.")
@click.option("--label", default="A023", show_default=True, help="Ticket number to show.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--profile", default="TM-T20II", show_default=True, help="python-escpos printer profile.")
def kiosk_preview(out: str, procedure: str, label: str, lang: str, profile: str) -> None:
    """Write a ticket as a PNG, exactly as the printer would print it."""
    from kiosk.sample import preview_ticket

    def make() -> str:
        try:
            return str(preview_ticket(out, procedure, label, lang, profile))
        except KeyError as exc:
            raise ProvisioningError(str(exc.args[0])) from None

    click.echo(f"wrote {_guard(make)}")


@cli.group()
def display() -> None:
    """Run the waiting-room board, build its voice clips, or say a call."""


@display.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The display's device config (TOML).")
def display_run(config_path: str) -> None:
    """Run the board: show the hub's state and speak every call."""
    from display.main import run

    _guard(lambda: run(config_path))


@display.command("clips")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for the clip set.")
@click.option("--voice", default="vi", show_default=True, help="espeak-ng voice.")
def display_clips(out: str, voice: str) -> None:
    """Build a complete clip set with espeak-ng (a ward may replace any clip with a recording)."""
    from display.clips import generate
    from display.errors import DisplayError

    def build() -> int:
        try:
            return len(generate(out, voice))
        except DisplayError as exc:
            raise ProvisioningError(str(exc)) from None

    click.echo(f"wrote {_guard(build)} clips to {out}")


@display.command("say")
@click.argument("label")
@click.argument("counter", type=click.IntRange(1, 999))
@click.option("--clips", type=click.Path(file_okay=False, exists=True), required=True, help="Clip set folder.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="WAV file to write.")
@click.option("--variant", type=click.Choice(["north", "south"]), default="north", show_default=True)
def display_say(label: str, counter: int, clips: str, out: str, variant: str) -> None:
    """Write the call for LABEL at COUNTER as a WAV, as the board would speak it."""
    from pathlib import Path as P

    from display.clips import ClipSet
    from display.errors import DisplayError
    from display.phrases import call_text, call_tokens

    def say() -> str:
        try:
            P(out).write_bytes(ClipSet(clips).compose(call_tokens(label.upper(), counter, variant)))
        except DisplayError as exc:
            raise ProvisioningError(str(exc)) from None
        return call_text(label, counter, variant)

    click.echo(f"{_guard(say)} -> {out}")


@cli.group()
def config() -> None:
    """Check device configs."""


@config.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
def config_check(path: str) -> None:
    """Validate a device config; prints what is wrong, naming the key."""
    from bus.config import load

    def check() -> str:
        role = _role_of(path)
        if role == "hub":
            from hub.config import load_hub

            load_hub(path)
        elif role == "kiosk":
            from kiosk.config import load_kiosk

            load_kiosk(path)
        elif role == "display":
            from display.config import load_display

            load_display(path)
        elif role == "district":
            from district.config import load_district

            load_district(path)
        else:
            load(path)
        return role

    role = _guard(check)
    click.echo(f"{path}: valid {role} config")


def _role_of(path: str) -> str:
    import tomllib

    from bus.errors import ConfigError

    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "-", str(exc)) from None
    role = raw.get("device", {}).get("role") if isinstance(raw.get("device"), dict) else None
    return role if isinstance(role, str) else "?"


def _connection(fn):  # noqa: ANN001, ANN202 - click decorator stack
    fn = click.option("--ward", envvar="MOTCUA_WARD", required=True, help="Ward id (or $MOTCUA_WARD).")(fn)
    fn = click.option("--port", type=click.IntRange(1, 65535), default=1883, show_default=True)(fn)
    return click.option("--host", default="127.0.0.1", show_default=True, help="Ward broker host.")(fn)


@cli.command()
@_connection
@click.argument("service")
@click.option("--priority", type=click.Choice(PRIORITY_GROUPS), help="Priority group, if any.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
def ticket(host: str, port: int, ward: str, service: str, priority: str | None, timeout: float) -> None:
    """Take a ticket for SERVICE (its code, e.g. HT) from the hub, as a kiosk would."""
    body = {"service": service, **({"priority": priority} if priority else {})}
    _request(host, port, ward, "cli-ticket", lambda bus: bus.topics.ticket_request, "ticket.request", body, timeout)


@cli.command()
@_connection
@click.argument("action", type=click.Choice(COUNTER_ACTIONS), metavar="ACTION")
@click.option("--counter", type=click.IntRange(1, 999), required=True)
@click.option("--officer", help="Officer on duty (for open and call_next).")
@click.option("--service", help="Target service code (for transfer).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
def counter(host: str, port: int, ward: str, action: str, counter: int, officer: str | None, service: str | None,
            timeout: float) -> None:
    """Send a counter ACTION (call_next, recall, done, ...) to the hub, as a counter keypad would."""
    body = {"action": action, "counter": counter, **({"officer": officer} if officer else {}),
            **({"service": service} if service else {})}
    _request(host, port, ward, f"cli-counter-{counter}", lambda bus: bus.topics.counter_command(counter),
             "counter.command", body, timeout)


def _request(host, port, ward, device, topic_of, type_, body, timeout) -> None:  # noqa: ANN001
    def call() -> dict:
        bus = BusClient(BrokerSection(host=host, port=port), ward, device, "cli")
        bus.start()
        try:
            if not bus.wait_connected(timeout):
                raise ProvisioningError(f"no broker answered at {host}:{port} within {timeout} s")
            reply = bus.request(topic_of(bus), type_, body, timeout)
            if reply is None:
                raise ProvisioningError(f"the hub of ward {ward!r} did not answer within {timeout} s")
            return {"type": reply.type, **reply.body}
        finally:
            bus.stop()

    result = _guard(call)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    if result["type"] == "error":
        sys.exit(1)


def _guard(fn):  # noqa: ANN001, ANN202
    """Turns our own errors into a one-line message and exit code 1 instead of a traceback."""
    try:
        return fn()
    except (BusError, ProvisioningError) as exc:
        raise click.ClickException(str(exc)) from None


def main() -> None:
    cli(prog_name="motcua")
