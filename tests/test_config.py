# Device config: strict loading, errors that name the file and key, cross-checks of the ward's services.
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bus.errors import ConfigError
from devkit.configs import write_hub_config
from hub.config import load_hub
from provisioning.cli import cli
from provisioning.roles import HUB_EXAMPLE


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_hub_config(tmp_path, 1883)


def edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_demo_ward_config_loads(good: Path) -> None:
    config, hub = load_hub(str(good))
    assert config.device.role == "hub" and config.broker.port == 1883
    assert [s.prefix for s in hub.services] == ["A", "B", "C", "D", "E"]
    assert hub.policy.priority_in_row == 2
    assert "1.001193" in hub.services[0].procedures


@pytest.mark.parametrize(("old", "new", "key", "problem"), [
    ("port = 1883", "port = 70000", "broker.port", "expected at most 65535"),
    ("port = 1883", 'port = "1883"', "broker.port", "expected an integer"),
    ('log_level = "info"', 'log_level = "loud"', "device.log_level", "expected one of debug"),
    ("[hub.policy]", "[hub.policy]\nrecall_forever = true", "hub.policy.recall_forever", "expected a known option"),
    ('prefix = "B"', 'prefix = "A"', "hub.services[1].prefix", "used twice"),
    ('services = ["CT"]', 'services = ["XX"]', "hub.counters[2].services", "unknown service 'XX'"),
    ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Sai_Gon"', "hub.timezone", "unknown time zone"),
    ('procedures = ["1.001612"]', 'procedures = ["1612"]', "hub.services[3].procedures[0]", "a value matching"),
    ('id = "hub"', 'id = "Hub One"', "device.id", "expected a value matching"),
])
def test_wrong_values_name_the_key(good: Path, old: str, new: str, key: str, problem: str) -> None:
    edit(good, old, new)
    with pytest.raises(ConfigError) as info:
        load_hub(str(good))
    assert info.value.key == key
    assert problem in info.value.problem
    assert str(good) in str(info.value)


def test_unknown_section_and_missing_option(good: Path, tmp_path: Path) -> None:
    edit(good, "[broker]", "[brokr]")
    with pytest.raises(ConfigError, match="brokr: unknown section"):
        load_hub(str(good))
    minimal = tmp_path / "min.toml"
    minimal.write_text('[device]\nid = "hub"\nrole = "hub"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"device.ward: missing: a string \(required\)"):
        load_hub(str(minimal))


def test_toml_syntax_error_names_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[device]\nid = "hub"\nrole = hub\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 3"):
        load_hub(str(bad))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_hub(str(tmp_path / "nope.toml"))


def test_cli_config_check_reports_key_and_exit_code(good: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["config", "check", str(good)])
    assert ok.exit_code == 0 and "valid hub config" in ok.output
    assert "working hours: not set" in ok.output
    assert re.search(r"catalogue: 14 procedures in 5 fields, \d+\.\d KiB of the 64 KiB one message holds", ok.output)
    edit(good, 'timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Ho_Chi_Minh"\nhours = ["mon-fri 07:30-11:30 '
                                                '13:30-17:00", "sat 07:30-11:30"]')
    read = runner.invoke(cli, ["config", "check", str(good)])
    assert "working hours: mon-fri 07:30–11:30, 13:30–17:00; sat 07:30–11:30; sun closed" in read.output, read.output
    edit(good, "max_recalls = 3", "max_recalls = -1")
    bad = runner.invoke(cli, ["config", "check", str(good)])
    assert bad.exit_code == 1
    assert "hub.policy.max_recalls" in bad.output and "expected at least 0" in bad.output
    assert "Traceback" not in bad.output


def test_cli_config_check_says_whether_the_catalogue_fits_before_the_hub_is_restarted_on_it(good: Path) -> None:
    from devkit.big_catalogue import write

    text = good.read_text(encoding="utf-8")
    for count, said in ((150, r"catalogue: 150 procedures in 5 fields, \d+\.\d KiB deflated of the 64 KiB"),
                        (600, r"600 procedures do not fit in one message")):
        good.write_text(re.sub(r'(?m)^catalogue = .*$', f'catalogue = "{write(good.parent / "c.json", count)}"',
                               text), encoding="utf-8")
        checked = CliRunner().invoke(cli, ["config", "check", str(good)])
        assert re.search(said, checked.output) and checked.exit_code == (0 if count == 150 else 1), checked.output


def test_template_is_shipped() -> None:
    assert HUB_EXAMPLE.exists()


@pytest.fixture
def kiosk_toml(tmp_path: Path) -> Path:
    from devkit.configs import write_kiosk_config

    return write_kiosk_config(tmp_path, 1883, printer_backend="file")


@pytest.mark.parametrize(("old", "new", "key", "problem"), [
    ('backend = "file"', 'backend = "laser"', "printer.backend", "expected one of"),
    ('profile = "TM-T20II"', 'profile = "TM-9000"', "printer.profile", "unknown printer profile"),
    ("offline_block = 1", "offline_block = 11", "kiosk.offline_block", "expected at most 10"),
    ('backend = "file"', 'backend = "network"', "printer.path", "a known option (host, port)"),
    ('backend = "file"\nprofile = "TM-T20II"\npath', 'backend = "network"\nprofile = "TM-T20II"\n# path',
     "printer.host", "missing: a string"),
    ('mode = "touch"', 'mode = "buttons"', "buttons", "needs a [buttons] section"),
    ("hub_timeout_s = 1.5", "hub_timeout_s = 0", "kiosk.hub_timeout_s", "expected at least 0.2"),
    ('ticket_page = ""', 'ticket_page = "http://10.10.0.2:8080/t/"', "kiosk.ticket_page", "holding {token}"),
])
def test_kiosk_config_errors_name_the_key(kiosk_toml: Path, old: str, new: str, key: str, problem: str) -> None:
    from kiosk.config import load_kiosk

    edit(kiosk_toml, old, new)
    with pytest.raises(ConfigError) as info:
        load_kiosk(str(kiosk_toml))
    assert info.value.key == key and problem in info.value.problem


def test_kiosk_buttons_section_checks_pins(kiosk_toml: Path) -> None:
    from kiosk.config import load_kiosk

    edit(kiosk_toml, 'mode = "touch"', 'mode = "buttons"')
    kiosk_toml.write_text(kiosk_toml.read_text(encoding="utf-8") + '\n[buttons]\nservices = ["HT", "CT"]\n'
                          'pins = [17, 17]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="used twice"):
        load_kiosk(str(kiosk_toml))
    result = CliRunner().invoke(cli, ["config", "check", str(kiosk_toml)])
    assert result.exit_code == 1 and "a GPIO pin is used twice" in result.output


def test_a_config_with_the_old_name_of_the_rating_role_says_what_to_write(tmp_path: Path) -> None:
    path = tmp_path / "rating-1.toml"
    path.write_text('[device]\nid = "rating-1"\nrole = "counter"\nward = "w"\n\n[rating]\ncounter = 1\n'
                    'pins = [5, 6, 13]\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["config", "check", str(path)])
    assert result.exit_code == 1
    assert "device.role: the role 'counter' is now called 'rating'" in result.output
    assert 'write role = "rating" in [device]' in result.output
    path.write_text(path.read_text(encoding="utf-8").replace('"counter"', '"rating"'), encoding="utf-8")
    assert CliRunner().invoke(cli, ["config", "check", str(path)]).exit_code == 0
