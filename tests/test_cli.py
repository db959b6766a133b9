# The motcua CLI: help for every command, docs that list every command, clear errors, real round trips.
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from devkit.broker import Broker, free_port
from hub.service import HubService
from provisioning.cli import cli
from provisioning.cli_common import connection_options
from provisioning.entry import service_config

ROOT = Path(__file__).resolve().parent.parent


def all_commands(group: click.Group = cli, prefix: str = "") -> dict[str, click.Command]:
    """Every command and subcommand, as help lists them (the top level loads most of its commands on use)."""
    found = {}
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"motcua {prefix}{name} is listed but cannot be loaded"
        full = f"{prefix}{name}"
        found[full] = command
        if isinstance(command, click.Group):
            found.update(all_commands(command, f"{full} "))
    return found


@pytest.mark.parametrize("name", sorted(all_commands()))
def test_every_command_has_help_and_is_documented(name: str) -> None:
    command = all_commands()[name]
    assert command.help and len(command.help) > 15, f"motcua {name} has no help text"
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0
    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert f"motcua {name}" in docs, f"docs/cli.md does not document `motcua {name}`"


def _long_names(command: click.Command) -> set[str]:
    return {name for p in command.params if isinstance(p, click.Option) and not p.hidden
            for name in p.opts if name.startswith("--")}


def test_every_option_is_documented_where_its_command_is() -> None:
    """Each option of a command is named in the command's section of docs/cli.md, or, shared, once: the broker
    connection options in "Connecting to the ward broker", an option of a group's commands in the section that
    introduces the group ("The `motcua device` group holds ...")."""
    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    heads = list(re.finditer(r"^## (.+)$", docs, re.MULTILINE))
    sections = {h.group(1): docs[h.end():nxt.start() if nxt else len(docs)]
                for h, nxt in zip(heads, [*heads[1:], None], strict=True)}
    connecting = sections["Connecting to the ward broker"]
    shared = _long_names(click.command()(connection_options(lambda **_: None)))
    commands = {name: c for name, c in all_commands().items() if not isinstance(c, click.Group)}
    missing = []
    for name, command in commands.items():
        group = name.rsplit(" ", 1)[0] if " " in name else None
        intro = next((text for text in sections.values() if group and f"The `motcua {group}` group" in text), "")
        for option in sorted(_long_names(command) - {"--help"}):
            if not (option in sections.get(f"motcua {name}", "") or (option in shared and option in connecting)
                    or option in intro):
                missing.append(f"motcua {name} {option}")
    assert len(commands) > 40
    assert not missing, f"docs/cli.md does not say what these do: {missing}"


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    assert "./run demo" in first_block and "./run test" in first_block
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "./run test" in ci


@pytest.mark.parametrize(("args", "message"), [
    (["demo", "--speed", "0"], "Invalid value for '--speed'"),
    (["ticket", "HT", "--ward", "w", "--priority", "vip"], "Invalid value for '--priority'"),
    (["counter", "explode", "--ward", "w", "--counter", "1"], "Invalid value for 'ACTION'"),
    (["counter", "call_next", "--ward", "w"], "Missing option '--counter'"),
])
def test_bad_arguments_say_what_is_wrong(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert message in result.output


def test_no_broker_is_a_clear_error() -> None:
    result = CliRunner().invoke(cli, ["ticket", "HT", "--ward", "w", "--port", str(free_port()), "--timeout", "1"])
    assert result.exit_code == 1
    assert "no broker answered" in result.output and "Traceback" not in result.output


def test_a_hub_whose_data_folder_cannot_be_made_says_so(tmp_path: Path) -> None:
    from devkit.configs import write_hub_config

    config = write_hub_config(tmp_path, free_port())
    (tmp_path / "hub").write_text("a file where the hub's data folder should be", encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert f"cannot use the data folder {tmp_path / 'hub'}: File exists" in result.output
    assert "Traceback" not in result.output
    (tmp_path / "hub").unlink()
    (tmp_path / "hub" / "hub.db").mkdir(parents=True)  # a folder where the database should be
    result = CliRunner().invoke(cli, ["run", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "cannot open the hub database" in result.output and "Traceback" not in result.output


def test_a_service_starts_without_click_and_says_its_errors_as_click_would(tmp_path: Path) -> None:
    """`motcua run --config F` (every systemd unit) skips click and ward IT's commands: a megabyte of each service's
    memory. Its errors read the same: one line, exit code 1."""
    from devkit.configs import write_hub_config

    config = write_hub_config(tmp_path, free_port())
    (tmp_path / "hub").write_text("a file where the hub's data folder should be", encoding="utf-8")
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "provisioning", "run", "--config", str(config)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stderr
    imported = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert "hub.store" in imported and "click" not in imported
    said = [line for line in run.stderr.splitlines() if not line.startswith("import time:")]
    assert said == [f"Error: cannot use the data folder {tmp_path / 'hub'}: File exists"], said


@pytest.mark.parametrize(("args", "fast"), [
    (["run", "--config", "hub.toml"], "hub.toml"), (["run", "--config=hub.toml"], "hub.toml"),
    (["run", "--config", "--help"], None), (["run", "--help"], None), (["-v", "run", "--config", "hub.toml"], None),
    (["run", "--config"], None), (["run", "--config="], None), (["hub", "--config", "hub.toml"], None)])
def test_only_a_plain_run_takes_the_short_way(args: list[str], fast: str | None) -> None:
    assert service_config(args) == fast


def test_a_kiosk_whose_data_folder_cannot_be_made_says_so(tmp_path: Path) -> None:
    from devkit.configs import write_kiosk_config

    config = write_kiosk_config(tmp_path, free_port())
    (tmp_path / "kiosk-1" / "kiosk.db").mkdir()  # a folder where the offline numbering file should be
    result = CliRunner().invoke(cli, ["run", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "cannot open the offline numbering database" in result.output and "Traceback" not in result.output


def test_ticket_and_counter_round_trip(hub: HubService, broker: Broker) -> None:
    base = ["--ward", "demo-ward", "--port", str(broker.port)]
    taken = CliRunner().invoke(cli, ["ticket", "KD", "--priority", "pregnant", *base])
    assert taken.exit_code == 0, taken.output
    assert json.loads(taken.output)["ticket"]["label"] == "D001"
    called = CliRunner().invoke(cli, ["counter", "call_next", "--counter", "4", "--officer", "Lê Thị Mai", *base])
    assert called.exit_code == 0, called.output
    body = json.loads(called.output)
    assert body["ticket"]["label"] == "D001" and body["explanation"]["rule"] == "priority_first"
    refused = CliRunner().invoke(cli, ["counter", "recall", "--counter", "1", *base])
    assert refused.exit_code == 1 and '"no_ticket"' in refused.output
