# The motcua commands that set a device up: enrol it in a ward (config and broker account), install it as a service.
from __future__ import annotations

import click

from firmware_bridge.config import KINDS as UNIT_KINDS
from provisioning.cli_common import guard
from provisioning.enrol import ENROLLED_ROLES


@click.command()
@click.argument("name")
@click.option("--role", type=click.Choice([*ENROLLED_ROLES, "it"]), required=True,
              help="What the device is; 'it' creates only ward IT's broker account.")
@click.option("--ward", envvar="MOTCUA_WARD", required=True, help="Ward id (or $MOTCUA_WARD).")
@click.option("--broker-host", default="127.0.0.1", show_default=True, help="The ward broker, as the device sees it.")
@click.option("--broker-port", type=click.IntRange(1, 65535), default=1883, show_default=True)
@click.option("--counter", type=click.IntRange(1, 999), default=None, help="Rating device: the counter it stands at.")
@click.option("--offline-block", type=click.IntRange(1, 10), default=None,
              help="Kiosk: its own block of offline numbers, different for each kiosk of the ward.")
@click.option("--printer", default="", help="Kiosk: usb:VENDOR:PRODUCT (from lsusb), serial:PORT, "
                                           "network:HOST[:PORT] or file:FOLDER.")
@click.option("--unit", "units", type=(str, click.Choice(UNIT_KINDS),
                                       click.IntRange(1, 999)), multiple=True, metavar="PORT KIND COUNTER",
              help="Bridge: a serial unit (repeat for each).")
@click.option("--out", type=click.Path(file_okay=False), default="/etc/motcua", show_default=True,
              help="Folder for NAME.toml.")
@click.option("--data-dir", default="/var/lib/motcua", show_default=True, help="The device's data folder.")
@click.option("--password-file", default="/etc/mosquitto/motcua.passwd", show_default=True,
              help="The ward broker's password file to add NAME to; empty: do not touch it.")
@click.option("--acl-file", default="/etc/mosquitto/motcua.acl", show_default=True,
              help="The ward broker's access list to give NAME its role's topics in; empty: do not touch it.")
@click.option("--force", is_flag=True, help="Replace an existing NAME.toml (and NAME's broker password).")
def enrol(name: str, role: str, ward: str, broker_host: str, broker_port: int, counter: int | None,
          offline_block: int | None, printer: str, units: tuple[tuple[str, str, int], ...], out: str, data_dir: str,
          password_file: str, acl_file: str, force: bool) -> None:
    """Enrol device NAME: write its config with sensible defaults and give it its own broker account."""
    import secrets

    from provisioning.enrol import Enrolment, add_broker_user, write_acl
    from provisioning.enrol import enrol as do_enrol

    if role == "it":
        password = secrets.token_urlsafe(18)
        guard(lambda: add_broker_user(password_file, "it", password))
        click.echo(f"ward IT's broker account 'it' added to {password_file}; its password (shown once): {password}")
        click.echo("use it as --username it --password ... (or $MOTCUA_BROKER_USER / $MOTCUA_BROKER_PASSWORD)")
        if acl_file:
            guard(lambda: write_acl(acl_file, out))
        return
    e = Enrolment(name=name, role=role, ward=ward, broker_host=broker_host, broker_port=broker_port,
                  data_dir=data_dir, counter=counter or 0, offline_block=offline_block or 0, units=list(units),
                  printer=printer)
    path = guard(lambda: do_enrol(e, out, password_file or None, force, acl_file or None))
    click.echo(f"wrote {path} ({role} of ward {ward}); check it, then `motcua install --config {path}`")
    if password_file or acl_file:
        click.echo(f"added broker user {name!r} to {password_file or '-'} and {acl_file or '-'}; "
                   "reload the broker (systemctl reload mosquitto)")


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, exists=True),
              help="The enrolled device's config (TOML).")
@click.option("--root", type=click.Path(file_okay=False), default="/", show_default=True,
              help="Install under this folder instead (an image being built); changes nothing on this machine.")
@click.option("--no-start", is_flag=True, help="Enable the service but do not start it now.")
def install(config_path: str, root: str, no_start: bool) -> None:
    """Install the device as the systemd service motcua@NAME: unit, config, data folder, service user, broker files."""
    from provisioning.install import install as do_install

    service = guard(lambda: do_install(config_path, root, start=not no_start, say=click.echo))
    click.echo(f"installed {service}")


@click.group()
def access() -> None:
    """The ward broker's access list: who may read and write which topics."""


@access.command("write")
@click.option("--config-dir", type=click.Path(file_okay=False, exists=True), default="/etc/motcua", show_default=True,
              help="Folder of the enrolled device configs.")
@click.option("--acl-file", default="/etc/mosquitto/motcua.acl", show_default=True, help="The access list to write.")
def access_write(config_dir: str, acl_file: str) -> None:
    """Write the access list anew from the enrolled configs (after an upgrade); then reload the broker."""
    from provisioning.enrol import write_acl

    path = guard(lambda: write_acl(acl_file, config_dir))
    click.echo(f"wrote {path}; reload the broker (systemctl reload mosquitto)")
