# The demo ward runs headless for a short while and its summary reports zero duplicates.
from __future__ import annotations

import io
from pathlib import Path

import pytest

from devkit.demo import DemoOptions, run_demo


@pytest.mark.parametrize("broker", ["mosquitto", "embedded"])
def test_demo_runs_and_reports_no_duplicates(tmp_path: Path, broker: str) -> None:
    out = io.StringIO()
    summary = run_demo(DemoOptions(duration=6, speed=900, seed=7, workdir=tmp_path / "ward", broker=broker,
                                   arrivals_per_hour=60), out=out)
    text = out.getvalue()
    assert f"{broker} broker on 127.0.0.1" in text
    assert "issued" in text and "motcua demo summary" in text
    assert summary["issued"] >= 10
    assert summary["served"] >= 3
    assert summary["tickets_given_to_kiosks"] == summary["issued"]
    assert summary["held_at_end"] == 0
    assert summary["missing_in_hub"] == 0
    assert summary["duplicates"] == 0
    assert (tmp_path / "ward" / "hub.log").exists()
    assert summary["kiosk_tickets_printed"] >= 2  # the real kiosk, tapped by simulated citizens
    assert summary["kiosk_print_jobs"] == summary["kiosk_previews"] == summary["kiosk_tickets_printed"]
    assert list((tmp_path / "ward" / "kiosk-1" / "screens").glob("ticket-*.png"))
    assert summary["ratings"] >= 1 and summary["ratings_at_district"] == summary["ratings"]
    report = Path(summary["district_report"]).read_text(encoding="utf-8")
    assert '<td class="text">Phường Mẫu</td><td class="code">demo-ward</td>' in report  # named, not by its id alone
    assert summary["devices_online"] == "11 of 11"  # hub, board, bridge, console, real kiosk, 2 sim kiosks, 4 counters
    fleet = text[text.index("ward devices at the end"):]
    assert "bridge-1       bridge    online   ok" in fleet, fleet  # the table, shown whole when it says otherwise
    rows = fleet.strip().splitlines()[1:]
    assert len(rows) == 11 and all(row.endswith(" online   ok") for row in rows), fleet  # no false alarm, none in
    # flight either: a device that stated itself as a message was on its way says so again once it is answered
    assert summary["led_display_updates"] >= 2  # counter 1's LED display, through the bridge process
    assert summary["serial_keypad_answers"] <= summary["serial_keypad_presses"]
    assert summary["board_screenshots"] >= 1  # the board process drew the calls it was sent
    assert "calling: Mời công dân số" in (tmp_path / "ward" / "board.log").read_text(encoding="utf-8")
    for log, device in (("hub", "hub"), ("board", "board-1"), ("bridge", "bridge-1"), ("console", "console"),
                        ("collector", "collector-1")):  # each process stopped as systemd stops it, and said so
        said = (tmp_path / "ward" / f"{log}.log").read_text(encoding="utf-8")
        assert "SIGTERM received: stopping" in said and said.rstrip().endswith(f"{device} stopped"), (log, said)


def test_demo_never_wipes_a_folder_it_did_not_make(tmp_path: Path) -> None:
    from devkit.errors import DevkitError

    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete", encoding="utf-8")
    with pytest.raises(DevkitError, match="refusing to wipe"):
        run_demo(DemoOptions(duration=1, workdir=precious), out=io.StringIO())
    assert (precious / "thesis.txt").read_text(encoding="utf-8") == "do not delete"
