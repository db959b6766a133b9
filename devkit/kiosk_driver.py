# A kiosk's core in its own process, driven by JSON lines on stdin as its touch screen would drive it (kill -9-able).
from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import threading
from typing import IO, Any

from kiosk.config import load_kiosk
from kiosk.core import KioskCore, TicketOutcome
from kiosk.printing.fake import FakePrinter
from kiosk.printing.status import PrinterStatus

log = logging.getLogger(__name__)


def serve(config_path: str, commands: IO[str], answers: IO[str]) -> None:
    """Starts the kiosk (notify on, the fake printer) and answers one JSON line per command line:
    `{"do": "ticket", "service", "priority", "phone"}` → the outcome; `{"do": "paper", "state"}`;
    `{"do": "stall"}` (the printer's next job stops half-way, never ending); `{"do": "outbox"}` → what the outbox
    holds."""
    config, section, printer_cfg, _ = load_kiosk(config_path)
    printer = StallingPrinter(printer_cfg.profile, printer_cfg.timeout_s)
    core = KioskCore(config, dataclasses.replace(section, notify=True), printer_cfg, printer)
    core.start()
    _answer(answers, {"ready": True, "pid": os.getpid()})
    try:
        for line in commands:
            _answer(answers, _do(core, printer, json.loads(line)))
    finally:
        core.stop()


class StallingPrinter(FakePrinter):
    """The fake printer, whose jobs can be made to stop half-way and never end (the paper half out, for a power
    cut to find)."""

    stalled = False

    def write(self, job: bytes) -> None:
        if self.stalled:
            self.partial.append(job[: len(job) // 2])
            threading.Event().wait()
        super().write(job)


def _do(core: KioskCore, printer: StallingPrinter, cmd: dict[str, Any]) -> dict[str, Any]:
    if cmd["do"] == "ticket":
        if not core.services:
            return {"state": "no_services"}
        outcome = core.take_ticket(cmd["service"], cmd.get("priority"))
        if outcome.state == "print_failed":
            core.cancel(outcome)  # nothing in the citizen's hand: the number never joins the queue
        return _outcome(core, outcome, cmd.get("phone"))
    if cmd["do"] == "paper":
        printer.state = PrinterStatus(cmd["state"])
        return {"paper": printer.state.value}
    if cmd["do"] == "stall":
        printer.stalled = True
        return {"stalled": True}
    if cmd["do"] == "outbox":
        outbox = core.bus.outbox
        return {"size": outbox.size() if outbox is not None else 0}
    return {"error": f"unknown command {cmd['do']!r}"}


def _outcome(core: KioskCore, outcome: TicketOutcome, phone: str | None) -> dict[str, Any]:
    t = outcome.ticket
    printed = outcome.state == "printed"
    return {"state": outcome.state, "offline": outcome.offline, "ticket": f"{t['day']} {t['label']}" if t else "",
            "label": t.get("label", ""), "reason": outcome.reason,
            "subscribed": bool(printed and phone and core.leave_phone(outcome, phone, "vi"))}


def _answer(out: IO[str], answer: dict[str, Any]) -> None:
    out.write(json.dumps(answer, ensure_ascii=False) + "\n")
    out.flush()


def main() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    answers, sys.stdout = sys.stdout, sys.stderr  # nothing else may write on the answers' line
    serve(sys.argv[1], sys.stdin, answers)


if __name__ == "__main__":
    main()
