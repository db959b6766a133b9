# Ward statistics from a real hub database: counts, waits, on-time share and satisfaction, as table and CSV.
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub import stats
from provisioning.cli import cli
from tests.test_queue import Clock, Ward


@pytest.fixture
def ward(tmp_path: Path) -> Ward:
    w = Ward(tmp_path, Clock("2026-11-23T08:00:00"))
    clock = w.clock
    w.do("open", counter=1, officer="Lê Văn An")
    for minutes, level in ((10, 1), (20, 2), (40, 3)):  # three served at counter 1, rated 1, 2 and 3
        w.issue("HT")
        clock.advance(minutes)
        w.call(1)
        w.do("start", counter=1)
        clock.advance(5)
        w.do("done", counter=1)
        reasons = ["had_to_come_back", "waited_too_long"] if level == 3 else None
        w.do("rate", device="rating-1", counter=1, level=level, scale=3, reasons=reasons)
    w.issue("HT")
    w.call(1)
    w.do("no_show", counter=1)
    w.issue("CT")
    w.call(2)
    w.do("transfer", counter=2, service="HT")
    return w


def test_per_service_counts_waits_and_satisfaction(ward: Ward) -> None:
    rows = {r["group"]: r for r in stats.compute(ward.db, ward.section, "2026-11-23", "2026-11-23", "service")}
    ht = rows["HT"]
    assert (ht["issued"], ht["served"], ht["no_shows"], ht["rated"]) == (4, 3, 1, 3)
    assert rows["CT"]["issued"] == 1  # the transferred ticket counts where it was issued
    assert ht["wait_p50_min"] == 15.0 and ht["wait_p90_min"] == 34.0  # waits 0 (no-show), 10, 20, 40
    assert ht["service_p50_min"] == 5.0
    assert ht["within_target"] == pytest.approx(2 / 3, abs=0.001)  # 15 and 25 min within 30; 45 min is not
    assert (ht["level_1"], ht["level_2"], ht["level_3"]) == (1, 1, 1)
    assert ht["satisfaction_rate"] == pytest.approx(2 / 3, abs=0.001)
    assert rows["CT"]["transfers"] == 1
    assert ht["came_back"] == 1


def test_the_whole_ward_is_one_group_whose_waits_are_its_own_not_a_sum(ward: Ward) -> None:
    whole = stats.compute(ward.db, ward.section, "2026-11-23", "2026-11-23", "ward", per_day=False)
    assert [r["group"] for r in whole] == ["all"]
    by_service = stats.compute(ward.db, ward.section, "2026-11-23", "2026-11-23", "service", per_day=False)
    for column in ("issued", "served", "no_shows", "transfers", "rated", "level_1", "level_3", "came_back"):
        assert whole[0][column] == sum(r[column] for r in by_service), column
    assert whole[0]["issued"] == 5 and whole[0]["wait_p50_min"] == 15.0  # its own median of 0, 10, 20, 40 (the
    # transferred ticket waits again)
    assert whole[0]["within_target"] == pytest.approx(2 / 3, abs=0.001)


def test_a_ticket_left_at_a_counter_overnight_is_served_but_not_a_service_time(ward: Ward) -> None:
    ward.clock.set("2026-11-23T16:55:00")
    ward.issue("HT")
    ward.call(1)
    ward.do("start", counter=1)
    ward.clock.set("2026-11-24T07:45:00")  # the officer finishes it the next morning
    ward.do("done", counter=1)
    ht = {r["group"]: r for r in stats.compute(ward.db, ward.section, "2026-11-23", "2026-11-23", "service")}["HT"]
    assert ht["served"] == 4 and ht["service_p90_min"] == 5.0  # not 890 minutes
    assert ht["within_target"] == pytest.approx(2 / 4, abs=0.001)  # and certainly not within the target


def test_per_officer_and_counter(ward: Ward) -> None:
    by_officer = {r["group"]: r for r in stats.compute(ward.db, ward.section, "2026-11-23", "2026-11-23",
                                                       "officer")}
    assert by_officer["Lê Văn An"]["served"] == 3 and by_officer["Lê Văn An"]["rated"] == 3
    by_counter = {r["group"]: r for r in stats.compute(ward.db, ward.section, "2026-11-23", "2026-11-23",
                                                       "counter")}
    assert by_counter["1"]["no_shows"] == 1 and by_counter["2"]["transfers"] == 1


def test_cli_table_and_csv(ward: Ward, tmp_path: Path) -> None:
    config = str(tmp_path / "hub.toml")
    table = CliRunner().invoke(cli, ["stats", "--config", config, "--from", "2026-11-23"])
    assert table.exit_code == 0, table.output
    assert "HT" in table.output and "67%" in table.output
    out = CliRunner().invoke(cli, ["stats", "--config", config, "--from", "2026-11-23", "--by", "counter", "--csv"])
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert {r["group"] for r in rows} >= {"1", "2"}
    assert CliRunner().invoke(cli, ["stats", "--config", config, "--from", "23/11"]).exit_code == 1


def test_by_hour_each_ticket_its_rating_and_transfer_follow_the_hour_it_was_taken(ward: Ward, tmp_path: Path) -> None:
    """When citizens come and how they fare, for a ward deciding when to open more counters: tickets taken 08:00,
    08:15 and 08:40 (served and rated) in "08", the no-show and the transfer taken at 09:25 in "09" — by the ward's
    clock, whatever the machine's time zone."""
    rows = {r["group"]: r for r in stats.compute(ward.db, ward.section, "2026-11-23", "2026-11-23", "hour",
                                                 per_day=False)}
    assert sorted(rows) == ["08", "09"]
    eight, nine = rows["08"], rows["09"]
    assert (eight["issued"], eight["served"], eight["rated"], eight["level_3"], eight["came_back"]) == (3, 3, 3, 1, 1)
    assert eight["wait_p50_min"] == 20.0  # 10, 20 and 40 min
    assert (nine["issued"], nine["no_shows"], nine["transfers"], nine["rated"]) == (2, 1, 1, 0)
    whole = stats.compute(ward.db, ward.section, "2026-11-23", "2026-11-23", "ward", per_day=False)[0]
    for column in ("issued", "served", "no_shows", "transfers", "rated"):
        assert whole[column] == eight[column] + nine[column], column
    result = CliRunner().invoke(cli, ["stats", "--config", str(tmp_path / "hub.toml"), "--by", "hour", "--from",
                                      "2026-11-23", "--csv"])
    assert [r["group"] for r in csv.DictReader(io.StringIO(result.output))] == ["08", "09"], result.output
