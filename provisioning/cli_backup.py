# The motcua commands that back up the hub's machine and restore it onto a new card.
from __future__ import annotations

import os
from pathlib import Path

import click

from provisioning.backup import BROKER
from provisioning.cli_common import guard
from provisioning.errors import ProvisioningError


@click.command()
@click.option("--to", "dest", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where the backups go: a USB stick's folder, another disk, a mounted share.")
@click.option("--config", "config_path", default="/etc/motcua/hub.toml", show_default=True,
              type=click.Path(dir_okay=False, exists=True),
              help="The hub's device config: its folder (every device's config, the ward CA) and its data folder "
                   "are backed up.")
@click.option("--keep", type=click.IntRange(1, 1000), default=14, show_default=True,
              help="How many backups of this hub to keep there; older ones are removed.")
@click.option("--password-file", type=click.Path(path_type=Path), default=BROKER.password_file, show_default=True)
@click.option("--acl-file", type=click.Path(path_type=Path), default=BROKER.acl_file, show_default=True)
@click.option("--cert-dir", type=click.Path(path_type=Path), default=BROKER.cert.parent, show_default=True,
              help="The broker's TLS certificate and key (motcua-broker.pem, .key).")
@click.option("--also", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Another file or folder to back up (a console or notifier with a data folder of its own).")
@click.option("--install-timer", is_flag=True,
              help="After this backup, back up every night with these options: a systemd timer, motcua-backup.timer.")
@click.option("--at", default="22:30", show_default=True, help="With --install-timer: the time of night (HH:MM).")
@click.option("--root", default="/", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="With --install-timer: write the timer under this folder instead (an image), and back up nothing.")
def backup(dest: Path, config_path: str, keep: int, password_file: Path, acl_file: Path, cert_dir: Path,
           also: tuple[Path, ...], install_timer: bool, at: str, root: Path) -> None:
    """Back up the hub's machine while it runs: every config and the ward CA, the broker's accounts, access list and
    certificate, and each database as a consistent, checked copy. Run it as root (the CA's key and the passwords
    are readable by root only; so is the backup)."""
    from hub.config import load_hub
    from provisioning.backup import HubMachine, back_up
    from provisioning.backup_schedule import install_timer as schedule

    def run() -> None:
        config, hub = load_hub(config_path)
        machine = HubMachine(Path(config_path), Path(password_file), Path(acl_file), Path(cert_dir), also)
        if root.resolve() == Path("/"):
            back_up(machine.sources(config.data_dir), dest, config.device.id, keep,
                    hub_database=config.data_dir / hub.database, say=click.echo)
        elif not install_timer:
            raise ProvisioningError("--root is for --install-timer (an image being built)")
        if install_timer:
            schedule(dest, Path(config_path), keep, at, machine.options(), root, say=click.echo)

    guard(run)


@click.command()
@click.argument("backup_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--root", default="/", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Restore under this folder instead (a new card's image mounted here).")
@click.option("--force", is_flag=True, help="Replace files that exist (stop motcua and mosquitto first).")
def restore(backup_dir: Path, root: Path, force: bool) -> None:
    """Put a backup made by `motcua backup` back where its files were: on a new card for the hub, before `motcua
    install`. Every checksum is checked first; a damaged backup writes nothing."""
    from provisioning.backup import MANIFEST
    from provisioning.backup import restore as do_restore

    def run() -> int:
        if not (backup_dir / MANIFEST).exists():
            found = [p for p in backup_dir.iterdir() if p.is_dir() and (p / MANIFEST).is_file()]
            if found:
                newest = max(found, key=lambda p: p.name.rsplit("-", 1)[-1])
                many = f"{len(found)} backups; name one, e.g. the newest" if len(found) > 1 else "a backup; name it"
                raise ProvisioningError(f"{backup_dir} holds {many}: motcua restore {newest}")
        if root.resolve() == Path("/") and os.geteuid() != 0:
            raise ProvisioningError("restoring the hub's files needs root (sudo motcua restore ...)")
        return do_restore(backup_dir, root, force, say=click.echo)

    guard(run)
