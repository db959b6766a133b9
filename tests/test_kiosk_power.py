# A kiosk process killed with -9 mid-print: on restart the ticket that may be in a citizen's hand joins the queue.
from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

from devkit.broker import Broker
from devkit.configs import write_kiosk_config
from devkit.processes import DrivenProcess
from hub.service import HubService
from tests.conftest import wait_until


def status(hub: HubService, label: str) -> str | None:
    row = hub.db.execute("SELECT status FROM tickets WHERE label=?", (label,)).fetchone()
    return row[0] if row else None


def printing(journal: Path) -> list[str]:
    """The labels the kiosk's print journal holds: written down, their printing begun and not yet ended."""
    try:
        with closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
            return [json.loads(row[0])["label"] for row in db.execute("SELECT ticket FROM printing")]
    except sqlite3.Error:  # not made yet
        return []


def started(kiosk: DrivenProcess) -> DrivenProcess:
    kiosk.start()
    assert json.loads(kiosk.read() or "{}").get("ready"), f"the kiosk did not start: {kiosk.log_path.read_text()}"
    return kiosk


def test_a_ticket_being_printed_when_the_power_goes_joins_the_queue_on_restart(tmp_path: Path, broker: Broker,
                                                                                 hub: HubService) -> None:
    config = write_kiosk_config(tmp_path, broker.port, "kiosk-1", printer_backend="fake")
    kiosk = started(DrivenProcess("devkit.kiosk_driver", config, tmp_path / "kiosk.log"))
    try:
        ticket = json.dumps({"do": "ticket", "service": "HT"})
        wait_until(lambda: json.loads(kiosk.ask(ticket) or "{}").get("state") == "printed", what="a first ticket")
        wait_until(lambda: status(hub, "A001") == "issued", what="the first ticket's confirmation")
        kiosk.ask(json.dumps({"do": "stall"}))  # the next job: the paper half out when the power goes
        threading.Thread(target=kiosk.ask, args=(ticket,), daemon=True).start()
        wait_until(lambda: status(hub, "A002") == "held", what="the hub to number the ticket being printed")
        # the hub numbers it before the kiosk has drawn the ticket and written it down: killed in between, nothing
        # was printed and the kiosk has nothing to settle (the number is skipped); the cut must find it printing
        wait_until(lambda: printing(tmp_path / "kiosk-1" / "kiosk-printing.db") == ["A002"],
                   what="the kiosk to write the ticket down and begin printing it")
        kiosk.kill()
        assert status(hub, "A002") == "held"  # nobody told the hub: before the print journal, held for ever
        started(kiosk)
        wait_until(lambda: status(hub, "A002") == "issued", what="the ticket cut off mid-print to join the queue")
        assert "was being printed when the kiosk stopped" in kiosk.log_path.read_text(encoding="utf-8")
        assert json.loads(kiosk.ask(ticket) or "{}")["label"] == "A003"
    finally:
        kiosk.stop()
