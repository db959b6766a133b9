# The `motcua` command: a thin click layer over the library; every subcommand is a few lines over one call.
from __future__ import annotations

import importlib
import logging
import os
import sys
from pathlib import Path

import click

from provisioning.cli_common import guard
from provisioning.entry import LOG_FORMAT

# Subcommands kept in other modules, by name: imported only when one of them runs (or help lists them), so a service
# started by `motcua run` does not carry ward IT's commands and their libraries for weeks.
LAZY = {name: f"provisioning.{module}" for module, names in (
    ("cli_ward", ("stats", "ticket", "counter", "config")),
    ("cli_devices", ("kiosk", "rating", "display", "bridge")),
    ("cli_district", ("district",)),
    ("cli_fleet", ("fleet", "device", "release")),
    ("cli_setup", ("enrol", "install", "reset", "rotate", "revoke", "image", "firstboot", "access")),
    ("cli_console", ("console", "officer")),
    ("cli_backup", ("backup", "restore")),
) for name in names}


class LazyGroup(click.Group):
    """click's group, with the LAZY subcommands loaded from their modules on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY and name not in self.commands:
            self.add_command(getattr(importlib.import_module(LAZY[name]), name), name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail to stderr.")
def cli(verbose: bool) -> None:
    """motcua - queue, display and satisfaction system for ward one-stop centres."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr, format=LOG_FORMAT)


@cli.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The hub's device config (TOML).")
def hub(config_path: str) -> None:
    """Run the ward hub: the queue authority."""
    from hub.main import run

    guard(lambda: run(config_path))


@cli.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The device's config (TOML); its [device] role picks the service.")
def run_command(config_path: str) -> None:
    """Run this device's service, whatever its role: the one command every systemd unit uses."""
    from provisioning.roles import run_device

    guard(lambda: run_device(config_path))


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
@click.option("--no-bridge", is_flag=True, help="Leave out the serial bridge and its fake keypad and LED display.")
@click.option("--no-console", is_flag=True, help="Leave out the web console.")
def demo(duration: float, speed: float, seed: int, workdir: Path, broker: str, kiosks: int,
         arrivals: float, window: bool | None, no_kiosk: bool, no_board: bool, no_bridge: bool,
         no_console: bool) -> None:
    """Run a whole simulated ward on this machine, with live progress and a summary."""
    from devkit.demo import DemoOptions, run_demo
    from devkit.errors import DevkitError

    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger().setLevel(logging.WARNING)  # the demo's own progress lines are the output
    if window is None:
        window = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    opts = DemoOptions(duration=duration, speed=speed, seed=seed, workdir=workdir.resolve(), broker=broker,
                       kiosks=kiosks, arrivals_per_hour=arrivals, kiosk_ui=not no_kiosk, board=not no_board,
                       bridge=not no_bridge, console=not no_console,
                       headless=not window)
    try:
        summary = guard(lambda: run_demo(opts))
    except DevkitError as exc:
        raise click.ClickException(str(exc)) from None
    if summary["duplicates"] or summary["missing_in_hub"]:
        raise click.ClickException("the demo found duplicate or missing tickets (see the summary)")


@cli.command()
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the arrivals, services and faults.")
@click.option("--hours", type=click.FloatRange(0.5, 10), default=10.0, show_default=True,
              help="Ward hours to run (a whole day is 10).")
@click.option("--speed", type=click.FloatRange(1, 2000), default=300.0, show_default=True,
              help="Ward time runs this many times faster than real time.")
@click.option("--citizens", type=click.IntRange(10, 10000), default=1100, show_default=True,
              help="Citizens over a whole day (morning and after-lunch peaks).")
@click.option("--faults", type=click.IntRange(0, 100), default=10, show_default=True,
              help="Faults in the run (every kind once from 9).")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("chaos-ward"),
              show_default=True, help="Where the run keeps its files; must be empty or absent.")
def chaos(seed: int, hours: float, speed: float, citizens: int, faults: int, workdir: Path) -> None:
    """Run a ward's day with faults on a seeded schedule, then check its invariants (docs/reliability.md)."""
    from devkit.chaos import ChaosOptions, run_and_report
    from devkit.errors import DevkitError

    if workdir.exists() and any(workdir.iterdir()):
        raise click.ClickException(f"{workdir} is not empty: choose another --workdir or remove it")
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger().setLevel(logging.ERROR)  # the faults make the ward complain, on purpose
    opts = ChaosOptions(seed=seed, hours=hours, speed=speed, citizens=citizens, faults=faults,
                        workdir=workdir.resolve())
    try:
        rows = guard(lambda: run_and_report(opts))
    except DevkitError as exc:
        raise click.ClickException(str(exc)) from None
    broken = [r["invariant"] for r in rows if r["ok"] is False]
    if broken:
        raise click.ClickException(f"invariants broken: {'; '.join(broken)}")



def main() -> None:
    cli(prog_name="motcua")
