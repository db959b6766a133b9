# The motcua commands that run ward devices: kiosk, rating terminal, board, serial bridge.
from __future__ import annotations

import click

from provisioning.cli_common import guard
from provisioning.errors import ProvisioningError


@click.group()
def rating() -> None:
    """Run a counter's satisfaction keypad or touch terminal."""


@rating.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The rating device's config (TOML).")
def rating_run(config_path: str) -> None:
    """Run the rating keypad or touch terminal its config names; ratings sent to the hub exactly once."""
    from rating.main import run

    guard(lambda: run(config_path))


@click.group()
def kiosk() -> None:
    """Run a ticket kiosk or preview its ticket."""


@kiosk.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The kiosk's device config (TOML).")
def kiosk_run(config_path: str) -> None:
    """Run the kiosk: touch screen or big buttons, as its config says."""
    from kiosk.main import run

    guard(lambda: run(config_path))


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

    click.echo(f"wrote {guard(make)}")


@click.group()
def display() -> None:
    """Run the waiting-room board, build its voice clips, or say a call."""


@display.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The display's device config (TOML).")
def display_run(config_path: str) -> None:
    """Run the board: show the hub's state and speak every call."""
    from display.main import run

    guard(lambda: run(config_path))


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

    click.echo(f"wrote {guard(build)} clips to {out}")


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

    click.echo(f"{guard(say)} -> {out}")




@click.group()
def bridge() -> None:
    """Run the serial bridge to keypads and LED displays, or check one port."""


@bridge.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The bridge's device config (TOML).")
def bridge_run(config_path: str) -> None:
    """Run the bridge: every configured port kept open, keys sent to the hub, numbers shown."""
    from firmware_bridge.main import run

    guard(lambda: run(config_path))


@bridge.command("probe")
@click.argument("port")
@click.option("--baud", type=click.Choice(["9600", "19200", "38400", "57600", "115200", "230400"]),
              default="115200", show_default=True)
@click.option("--timeout", type=click.FloatRange(0.5, 60), default=5.0, show_default=True, help="Seconds to wait.")
@click.option("--show", default="", help="Text to put on a display, to see which unit is on this port.")
def bridge_probe(port: str, baud: str, timeout: float, show: str) -> None:
    """Open PORT, run the handshake and print who answered and how clean the line is (JSON)."""
    import json
    import sys

    from firmware_bridge.probe import probe

    status = probe(port, int(baud), timeout, show)
    click.echo(json.dumps(status, ensure_ascii=False, indent=2))
    if status["state"] != "ready":
        sys.exit(1)
