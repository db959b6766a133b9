# The motcua commands that set a device up: enrol it in a ward (config and broker account), install it as a service.
from __future__ import annotations

import click

from firmware_bridge.config import KINDS as UNIT_KINDS
from provisioning.cli_common import guard
from provisioning.roles import ENROLLED_ROLES


@click.command()
@click.argument("name")
@click.option("--role", type=click.Choice([*ENROLLED_ROLES, "it"]), required=True,
              help="What the device is; 'it' creates only ward IT's broker account.")
@click.option("--ward", envvar="MOTCUA_WARD", required=True, help="Ward id (or $MOTCUA_WARD).")
@click.option("--broker-host", default="127.0.0.1", show_default=True,
              help="The ward broker as the device dials it: 127.0.0.1 on the hub's own machine (plain MQTT on "
                   "loopback), else the hub's LAN name or address (TLS, checked against the ward CA).")
@click.option("--broker-port", type=click.IntRange(1, 65535), default=None,
              help="Default: 1883 on loopback, 8883 (TLS) over the LAN.")
@click.option("--lan-address", "lan", multiple=True,
              help="Hub (and a console with --https): a name or address LAN devices dial it by; repeat for each. "
                   "Default: its host name, NAME.local and its LAN address.")
@click.option("--cert-dir", default="/etc/mosquitto/certs", show_default=True,
              help="Hub: where the broker's certificate and key are written.")
@click.option("--https", is_flag=True, help="Console: serve HTTPS with a certificate from the ward CA.")
@click.option("--counter", type=click.IntRange(1, 999), default=None,
              help="Rating device or desk buttons: the counter it stands at.")
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
def enrol(name: str, role: str, ward: str, broker_host: str, broker_port: int | None, lan: tuple[str, ...],
          cert_dir: str, https: bool, counter: int | None, offline_block: int | None, printer: str,
          units: tuple[tuple[str, str, int], ...], out: str, data_dir: str, password_file: str, acl_file: str,
          force: bool) -> None:
    """Enrol device NAME: write its config with sensible defaults and give it its own broker account. The hub's
    enrolment also makes the ward CA (OUT/ca) and the broker's TLS certificate; every device enrolled to reach the
    hub over the LAN gets the CA's certificate in its config, which is then the one file it needs."""
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
    e = Enrolment(name=name, role=role, ward=ward, broker_host=broker_host, broker_port=broker_port or 0,
                  data_dir=data_dir, counter=counter or 0, offline_block=offline_block or 0, units=list(units),
                  printer=printer, lan=lan, cert_dir=cert_dir, https=https)
    path = guard(lambda: do_enrol(e, out, password_file or None, force, acl_file or None))
    click.echo(f"wrote {path} ({role} of ward {ward}); check it, then `motcua install --config {path}`")
    if role == "hub":
        from provisioning.ca import names_in

        names = ", ".join(names_in(f"{cert_dir}/motcua-broker.pem"))
        click.echo(f"ward CA in {out}/ca (its key never leaves this machine); the broker's TLS certificate in "
                   f"{cert_dir} is good for: {names}; enrol LAN devices with --broker-host set to one of these")
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


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, exists=True),
              help="This device's config (TOML).")
@click.option("--factory", is_flag=True, required=True, help="Required: says you mean a factory reset.")
@click.option("--forget-identity", is_flag=True,
              help="Also remove the config and its broker password: the device must be enrolled again.")
def reset(config_path: str, factory: bool, forget_identity: bool) -> None:
    """Factory-reset this device (run on it, as root): its service is stopped, what its outboxes hold is exported
    for the next start to send, its local state is wiped (records archived), and the service started again."""
    from provisioning.factory_reset import reset_stopping_service

    guard(lambda: reset_stopping_service(config_path, forget_identity, click.echo))
    click.echo("factory reset done")


_out = click.option("--out", type=click.Path(file_okay=False), default="/etc/motcua", show_default=True,
                    help="Folder of the enrolled configs.")
_password_file = click.option("--password-file", default="/etc/mosquitto/motcua.passwd", show_default=True)
_acl_file = click.option("--acl-file", default="/etc/mosquitto/motcua.acl", show_default=True)


@click.command()
@click.argument("name")
@_out
@_password_file
def rotate(name: str, out: str, password_file: str) -> None:
    """Give device NAME a new broker password (in the password file and in OUT/NAME.toml, nothing else changed)."""
    from provisioning.enrol import rotate as do_rotate

    path = guard(lambda: do_rotate(name, out, password_file))
    click.echo(f"new password for {name!r} in {path} and {password_file}; copy the file to the device "
               f"(/etc/motcua/{name}.toml), then `systemctl reload mosquitto` here and "
               f"`systemctl restart motcua@{name}` there")


@click.command()
@click.argument("name")
@_out
@_password_file
@_acl_file
def revoke(name: str, out: str, password_file: str, acl_file: str) -> None:
    """Take device NAME out of the ward: delete its broker account, drop it from the access list, keep its config
    under OUT/revoked/ as a record."""
    from provisioning.enrol import revoke as do_revoke

    kept = guard(lambda: do_revoke(name, out, password_file, acl_file or None))
    click.echo(f"{name!r} revoked (its config kept as {kept}); `systemctl restart mosquitto` drops a connection it "
               f"still holds")


@click.group()
def image() -> None:
    """Prepare an SD card for a device's first boot."""


@image.command("prepare")
@click.argument("boot_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--bundle", required=True, type=click.Path(dir_okay=False, exists=True),
              help="The device's enrolled config (from `motcua enrol`): its whole enrolment bundle.")
@click.option("--wheels", required=True, type=click.Path(file_okay=False, exists=True),
              help="Folder of wheels: motcua's and its dependencies' (`motcua release build --with-deps`).")
@click.option("--timezone", default="Asia/Ho_Chi_Minh", show_default=True)
def image_prepare(boot_dir: str, bundle: str, wheels: str, timezone: str) -> None:
    """Write BOOT_DIR (a freshly flashed Raspberry Pi OS card's boot partition): cloud-init user-data that installs
    motcua and applies the bundle on first boot, the bundle, and the wheels."""
    from provisioning.firstboot import prepare

    guard(lambda: prepare(boot_dir, bundle, wheels, timezone, click.echo))


@click.command()
@click.option("--bundle", required=True, type=click.Path(dir_okay=False), help="The enrolment bundle to apply.")
@click.option("--root", type=click.Path(file_okay=False), default="/", show_default=True,
              help="Install under this folder instead (a test, or an image being built).")
def firstboot(bundle: str, root: str) -> None:
    """Apply an enrolment bundle on first boot (cloud-init runs this): install and start the device's service,
    then remove the bundle from the boot partition."""
    from provisioning.firstboot import first_boot

    service = guard(lambda: first_boot(bundle, root, click.echo))
    click.echo(f"first boot done: {service}")
