# The procedure catalogue: the shipped file is valid and complete; bad files name the line or key.
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bus import catalogue
from bus.errors import ConfigError, ContractError
from provisioning.roles import CATALOGUE

BRIEF_CODES = {"1.001193", "1.000894", "1.000656", "1.004873", "1.004884", "1.004859", "2.000635", "2.000815",
               "2.000884", "2.001019", "1.004194", "1.004222", "1.001612", "1.001699"}


def test_shipped_catalogue_has_every_ward_procedure_in_both_languages() -> None:
    cat = catalogue.load(CATALOGUE)
    procs = [p for f in cat.fields for p in f.procedures]
    assert {p.code for p in procs} == BRIEF_CODES
    for p in procs:
        assert p.documents_vi and p.documents_en and p.time_en and p.fee_en, p.code
    assert cat.procedure("2.000884").fee_vi == "10.000 đ/trường hợp"
    assert [p.code for p in cat.for_service("CU")] == ["1.004194", "1.004222"]
    assert cat.link("1.001193").endswith("ma_thu_tuc=1.001193")
    assert cat.link("1.001193", "https://dvc.example/{code}?tinh=hn") == "https://dvc.example/1.001193?tinh=hn"


def test_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "cat.json"
    bad.write_text('{\n  "version": 1,\n  "fields": [\n    {"id": "x",,}\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        catalogue.load(bad)
    assert info.value.key.startswith("line 4 column") and "not valid JSON" in info.value.problem


def test_wrong_value_names_key_path(tmp_path: Path) -> None:
    data = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    data["fields"][1]["procedures"][0]["code"] = "2815"
    bad = tmp_path / "cat.json"
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        catalogue.load(bad)
    assert info.value.key == "catalogue.fields[1].procedures[0].code"
    data["fields"][1]["procedures"][0]["code"] = "1.001193"
    with pytest.raises(ConfigError, match="listed twice"):
        catalogue.parse(data, "x")


def test_message_round_trip_and_bad_update() -> None:
    body = catalogue.load_catalogue_message(str(CATALOGUE), "/etc/motcua/hub.toml")
    assert catalogue.from_message(body).version == 1
    with pytest.raises(ContractError, match="link_template"):
        catalogue.from_message({"version": 2, "catalogue": {**body["catalogue"], "link_template": "no-code"}})
