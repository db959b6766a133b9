# Any arguments to the motcua commands that work on files: done, or a one-line error (exit code 1 or 2), never a trace.
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devkit import configs
from provisioning.cli import cli

# the commands that read and write only the files they are given (no service, no network, nothing of the system's)
COMMANDS = [("config", "check"), ("enrol",), ("kiosk", "preview"), ("district", "report"), ("officer", "add"),
            ("officer", "disable"), ("officer", "list"), ("officer", "passwd"), ("stats",), ("access", "write"),
            ("revoke",), ("rotate",)]
PATHS = ["out", "a/b/c", "", ".", "missing.toml", "²", "x" * 300, "hub.toml", "console.toml", "collector-1.toml",
         "kiosk-1.toml", "passwd", "acl"]  # relative: the runner works in a folder of its own
TEXT = st.sampled_from(["", "0", "-1", "²", "٣", "1e9", "99999999999999999999", "2026-11-23", "2026-13-45",
                        "kiosk", "hub", "display", "rating", "bridge", "officer", "admin", "it", "usb:04b8:0e15",
                        "network:10.0.0.5:9100", "file:/dev/null", "1,2", "1, x", "--help", "-", "mai", "HT",
                        "demo-ward", "vi", "en", "A023", "1.001193", "mật-khẩu-đủ-dài-1"]) \
    | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=80)


def command(path: tuple[str, ...]) -> click.Command:
    cmd: click.Command = cli
    for name in path:  # the commands are loaded when asked for
        cmd = cmd.get_command(click.Context(cmd), name)  # type: ignore[attr-defined]
    return cmd


def is_path(param: click.Parameter) -> bool:
    return isinstance(param.type, click.Path) or param.name in ("out", "password_file", "acl_file", "config_dir",
                                                                "cert_dir", "data_dir", "config_path")


def values(param: click.Parameter) -> st.SearchStrategy[str]:
    """What to give `param`: mostly what its type takes (a choice, a number, a file here), sometimes anything."""
    if is_path(param):
        return st.sampled_from(PATHS)
    if isinstance(param.type, click.Choice):
        return st.sampled_from([str(c) for c in param.type.choices]) | TEXT
    if isinstance(param.type, click.types.IntParamType | click.types.FloatParamType):
        return st.integers(-5, 70_000).map(str) | TEXT
    return TEXT


@st.composite
def argv(draw: st.DrawFn) -> list[str]:
    path = draw(st.sampled_from(COMMANDS))
    args = list(path)
    for param in command(path).params:
        # a file or folder option is always given, here: left out, its default is the system's (/etc/motcua ...)
        if not (isinstance(param, click.Option) and is_path(param)) and \
                draw(st.integers(0, 9)) < (1 if param.required else 4):
            continue  # left out
        if isinstance(param, click.Option) and param.is_flag:
            args.append(param.opts[0])
            continue
        given_values = [draw(values(param)) for _ in range(max(1, param.nargs))]  # --unit PORT KIND COUNTER
        args += [param.opts[0], *given_values] if isinstance(param, click.Option) else given_values
    return args


SYSTEM = ("/etc/motcua", "/etc/mosquitto", "/etc/mosquitto/certs", "/var/lib/motcua")  # the commands' defaults


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Good configs of the roles these commands read, where relative paths land."""
    d = tmp_path_factory.mktemp("cli")
    configs.write_hub_config(d, 1883)
    configs.write_kiosk_config(d, 1883)
    configs.write_district_config(d, 1883, ["demo-ward"])
    configs.write_console_config(d, 1883, 8080)
    system = {p: sorted(Path(p).iterdir()) if Path(p).is_dir() else None for p in SYSTEM}
    yield d
    assert system == {p: sorted(Path(p).iterdir()) if Path(p).is_dir() else None for p in SYSTEM}, \
        "a command wrote outside its test folder"


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=argv())
def test_any_arguments_end_in_a_result_or_a_plain_error(folder: Path, args: list[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryDirectory() as fresh:  # each try starts from the good files: what one wrote is gone
        shutil.copytree(folder, fresh, dirs_exist_ok=True)
        monkeypatch.chdir(fresh)
        result = CliRunner().invoke(cli, args, input="")
        monkeypatch.undo()
    assert result.exit_code in (0, 1, 2), (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "Traceback" not in result.output, (args, result.output)


@pytest.mark.parametrize(("args", "said"), [  # what this fuzz found, each once a traceback
    (["revoke", "kiosk-1", "--out", "x" * 300, "--password-file", "passwd", "--acl-file", "acl"], "too long"),
    (["officer", "add", "mai", "--config", "console.toml", "--display", "Mai", "--counters", "²", "--password",
      "mật-khẩu-đủ-dài-1"], "'²' is not a counter number"),
    (["officer", "add", "mai", "--config", "console.toml", "--display", "Mai", "--counters", "1,x", "--password",
      "mật-khẩu-đủ-dài-1"], "'x' is not a counter number"),
    (["rotate", "picture", "--out", ".", "--password-file", "passwd"], "not UTF-8 text"),
    (["access", "write", "--config-dir", ".", "--acl-file", ""], "needs a file name"),
])
def test_what_the_fuzz_found_is_said_in_one_line(folder: Path, args: list[str], said: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryDirectory() as fresh:
        shutil.copytree(folder, fresh, dirs_exist_ok=True)
        (Path(fresh) / "picture.toml").write_bytes(b"\x89PNG\r\n\x1a\n")
        monkeypatch.chdir(fresh)
        result = CliRunner().invoke(cli, args, input="")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1 and said in result.output and "Traceback" not in result.output, result.output
