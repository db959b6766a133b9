# The motcua commands of the upstream (district/province) collector and its report.
from __future__ import annotations

import click

from provisioning.cli_common import guard
from provisioning.errors import ProvisioningError


@click.group()
def district() -> None:
    """Run the upstream (district/province) collector."""


@district.command("run")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The collector's device config (TOML).")
def district_run(config_path: str) -> None:
    """Run a collector: store the wards' records exactly once, acknowledge after commit."""
    from district.main import run

    guard(lambda: run(config_path))


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

    click.echo(f"wrote {guard(run)}")


