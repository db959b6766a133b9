# The motcua commands of the upstream (district/province) collector and its report.
from __future__ import annotations

import click

from provisioning.cli_common import guard
from provisioning.errors import ProvisioningError


@click.group()
def district() -> None:
    """The upstream (district/province) collector: run it, or write its report."""


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
@click.option("--catalogue", "catalogue_path", type=click.Path(dir_okay=False, exists=True),
              help="A procedure catalogue (JSON) naming the procedures; default: the one shipped with motcua.")
def district_report(config_path: str, day_from: str, day_to: str, out: str, catalogue_path: str | None) -> None:
    """Write the HTML report with charts and CSV: satisfaction, waits, volumes, no-shows per ward and procedure."""
    from datetime import date

    from district import report
    from district.config import load_district
    from district.store import open_store
    from provisioning.roles import CATALOGUE

    def run() -> str:
        for name, value in (("--from", day_from), ("--to", day_to)):
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ProvisioningError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None
        config, section = load_district(config_path)
        names = report.procedure_names(catalogue_path or CATALOGUE)
        store = open_store(section, config.data_dir, read_only=True)
        try:
            return str(report.write(store, day_from, day_to, out, names, section.ward_names()))
        finally:
            store.close()

    click.echo(f"wrote {guard(run)}")


