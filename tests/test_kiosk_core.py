# The kiosk's logic against a real broker and hub: printing, printer faults, hub and broker outages, catalogue.
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from devkit.broker import Broker
from hub.service import HubService
from kiosk.core import KioskCore
from kiosk.printing.fake import FakePrinter
from kiosk.printing.status import PrinterStatus
from tests.conftest import wait_until
from tests.escpos_decode import decode


@pytest.fixture
def kiosk(kiosk_core: KioskCore) -> KioskCore:
    return kiosk_core


def hub_ticket(hub: HubService, label: str) -> tuple:
    return hub.db.execute("SELECT status, offline FROM tickets WHERE label=?", (label,)).fetchone()


def test_online_ticket_prints_and_joins_the_queue(kiosk: KioskCore, printer: FakePrinter, hub: HubService) -> None:
    out = kiosk.take_ticket("HT", procedure="1.001193")
    assert out.state == "printed" and not out.offline and out.ticket["label"] == "A001"
    d = decode(printer.jobs[-1])
    assert b"A001" in d.text and d.qr[0].endswith("ma_thu_tuc=1.001193")
    wait_until(lambda: hub_ticket(hub, "A001") == ("issued", 0), what="confirmation to reach the hub")


def test_paper_out_takes_no_number_and_is_reported(kiosk: KioskCore, printer: FakePrinter, hub: HubService,
                                                   make_client) -> None:
    states = []
    ops = make_client("ops", role="cli")
    ops.subscribe(ops.topics.device_state("kiosk-1"), lambda m, _: states.append(m.body["detail"].get("printer")))
    printer.state = PrinterStatus.PAPER_OUT
    out = kiosk.take_ticket("HT")
    assert out.state == "printer_problem" and out.printer is PrinterStatus.PAPER_OUT
    assert "hết giấy" in out.printer.vi
    assert hub.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    wait_until(lambda: "paper_out" in states, what="paper_out in the kiosk's device state")
    printer.state = PrinterStatus.OK
    assert kiosk.take_ticket("HT").state == "printed"


def test_unplugged_mid_job_leaves_no_phantom_and_recovers(kiosk: KioskCore, printer: FakePrinter,
                                                          hub: HubService) -> None:
    printer.fail_mid_job = True
    failed = kiosk.take_ticket("CT")
    assert failed.state == "print_failed" and failed.ticket["label"] == "B001"
    assert hub_ticket(hub, "B001") == ("held", 0)  # shown on screen, not yet in the queue
    kiosk.cancel(failed)
    wait_until(lambda: hub_ticket(hub, "B001") == ("void", 0), what="void to reach the hub")
    printer.state = PrinterStatus.OK  # plugged back in
    again = kiosk.take_ticket("CT")
    assert again.state == "printed" and again.ticket["label"] == "B002"
    printer.fail_mid_job = True
    kept = kiosk.take_ticket("CT")
    printer.state = PrinterStatus.OK
    reprinted = kiosk.reprint(kept)
    assert reprinted.state == "printed" and decode(printer.jobs[-1]).text.count(b"B003") == 1
    wait_until(lambda: hub_ticket(hub, "B003") == ("issued", 0), what="reprinted ticket confirmed")


def test_hanging_printer_returns_within_its_timeout(kiosk: KioskCore, printer: FakePrinter) -> None:
    printer.hang()
    started = time.monotonic()
    out = kiosk.take_ticket("HT")
    assert time.monotonic() - started < 3 * printer.timeout
    assert out.state == "printer_problem" and out.printer is PrinterStatus.NO_ANSWER
    printer.release()
    assert kiosk.take_ticket("HT").state == "printed"


def test_hub_and_broker_down_tickets_print_offline_then_merge_once(kiosk: KioskCore, printer: FakePrinter,
                                                                   hub: HubService, broker: Broker) -> None:
    assert kiosk.take_ticket("HT").ticket["label"] == "A001"
    broker.stop()
    wait_until(lambda: not kiosk.bus.connected.is_set(), what="kiosk sees the outage")
    started = time.monotonic()
    offline = [kiosk.take_ticket(s) for s in ("HT", "HT", "CT", "HT")]
    assert time.monotonic() - started < 2, "offline issuing must not wait for the hub bound when the link is down"
    assert [o.ticket["label"] for o in offline] == ["A8000", "A8001", "B8000", "A8002"]
    assert all(o.state == "printed" and o.offline for o in offline)
    assert b"chua" not in decode(printer.jobs[-1]).text  # the offline note is raster, never code-page text
    broker.start()
    wait_until(lambda: kiosk.bus.outbox.size() == 0, timeout=30, what="outbox to drain")
    rows = hub.db.execute("SELECT label FROM tickets WHERE offline=1 ORDER BY queue_at").fetchall()
    assert [r[0] for r in rows] == ["A8000", "A8001", "B8000", "A8002"]
    assert kiosk.take_ticket("HT").ticket["label"] == "A002"


def test_hub_silent_but_broker_up_goes_offline_after_the_bound(kiosk: KioskCore, hub: HubService,
                                                               make_client) -> None:  # noqa: ANN001
    hub.stop()
    hung = make_client("hub", role="hub")  # says online, answers nothing: a hung hub process
    hung.wait_connected(5)
    wait_until(lambda: not kiosk.hub_said_offline, what="the kiosk to see the hub online again")
    started = time.monotonic()
    out = kiosk.take_ticket("HT")
    elapsed = time.monotonic() - started
    assert out.offline and out.state == "printed"
    assert kiosk.kiosk.hub_timeout_s <= elapsed < kiosk.kiosk.hub_timeout_s + 1
    assert not kiosk.hub_ok


def test_a_hub_that_said_it_is_down_is_not_waited_for(kiosk: KioskCore, hub: HubService) -> None:
    hub.stop()  # a clean stop (or its last will) publishes the hub's state: offline
    wait_until(lambda: kiosk.hub_said_offline, what="the kiosk to see the hub's offline state")
    started = time.monotonic()
    out = kiosk.take_ticket("HT")
    assert out.offline and out.state == "printed" and out.ticket["label"] == "A8000"
    assert time.monotonic() - started < kiosk.kiosk.hub_timeout_s  # the citizen does not wait out the bound
    assert not kiosk.hub_ok


def test_catalogue_update_from_the_hub_applies_without_restart(kiosk: KioskCore, make_client) -> None:
    changed = threading.Event()
    kiosk.on_change(changed.set)
    body = {"version": 2, "catalogue": {**kiosk.catalogue.to_dict(), "version": 2,
                                        "link_template": "https://dvc.hanoi.example/tt/{code}"}}
    ward_it = make_client("hub-admin", role="cli")
    ward_it.wait_connected(5)
    ward_it.publish(ward_it.topics.catalogue, ward_it.message("catalogue.update", body), retain=True)
    wait_until(lambda: kiosk.catalogue.version == 2, what="the new catalogue")
    assert changed.wait(5)  # listeners are told just after the catalogue is swapped in
    out = kiosk.take_ticket("CU", procedure="1.004194")
    assert out.data is not None and out.data.qr_url == "https://dvc.hanoi.example/tt/1.004194"


def test_a_read_only_data_disk_still_prints_online_tickets_and_says_so(kiosk: KioskCore, hub: HubService) -> None:
    """A worn SD card turns read-only (or the kernel remounts it so after an error): every write refused, not for
    want of room. Before, the confirmation's write raised out of take_ticket after the paper came out, and the
    citizen's number stayed held at the hub, never called."""
    from bus.health import problems

    kiosk.bus.outbox._db.execute("PRAGMA query_only = 1")  # type: ignore[union-attr]  # every write refused
    outs = [kiosk.take_ticket("HT") for _ in range(3)]
    assert all(o.state == "printed" and not o.offline for o in outs)
    wait_until(lambda: hub.db.execute("SELECT COUNT(*) FROM tickets WHERE status='issued'").fetchone()[0] == 3,
               what="every confirmation, from memory, reaching the hub")
    assert kiosk.bus.outbox._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0  # type: ignore[union-attr]
    kiosk.bus.outbox.add("probe", "t", b"x")  # type: ignore[union-attr]  # one held now shows in the fleet's words
    said = problems("kiosk", "online", kiosk.bus.state_body("online")["detail"])
    assert any(p.startswith("data disk full or read-only: ") and "held in memory only" in p for p in said), said


def test_a_full_data_disk_still_prints_online_tickets_and_refuses_offline_ones_plainly(
        kiosk: KioskCore, hub: HubService, broker: Broker) -> None:
    from bus.health import problems
    from tests.test_outbox import disk_full

    disk_full(kiosk.bus.outbox)  # type: ignore[arg-type]
    outs = [kiosk.take_ticket("HT") for _ in range(30)]  # their confirmations no longer fit in the outbox's file
    assert all(o.state == "printed" and not o.offline for o in outs)
    wait_until(lambda: kiosk.bus.outbox.size() == 0, timeout=30, what="every confirmation answered")
    assert hub.db.execute("SELECT COUNT(*) FROM tickets WHERE status='issued'").fetchone()[0] == 30
    kiosk.bus.outbox.add("probe", "t", b"x" * 5000)  # one held now shows in the fleet's words
    assert kiosk.bus.outbox.held == 1
    assert any("data disk full" in p for p in problems("kiosk", "online", kiosk.bus.state_body("online")["detail"]))
    kiosk.offline._db.execute("PRAGMA query_only = 1")  # the numbering file refuses every write, as a full disk does
    broker.stop()
    wait_until(lambda: not kiosk.bus.connected.is_set(), what="kiosk sees the outage")
    refused = kiosk.take_ticket("HT")  # an offline number that cannot be kept is never printed
    assert refused.state == "refused" and refused.offline and "disk may be full" in refused.reason, refused


def test_a_kiosk_whose_clock_is_a_day_behind_prints_offline_tickets_the_hub_files_today(
        tmp_path: Path, broker: Broker, hub: HubService, printer: FakePrinter) -> None:
    """After a night's power cut a kiosk boots on the time it saved the evening before; the hub is down, so it
    prints offline tickets dated yesterday. Sent saying their age by the kiosk's time since boot, they join the
    hub's line of today instead of a day no counter calls."""
    from devkit.configs import write_kiosk_config
    from kiosk.config import load_kiosk

    config, section, printer_cfg, _ = load_kiosk(str(write_kiosk_config(tmp_path, broker.port,
                                                                        printer_backend="fake")))
    core = KioskCore(config, section, printer_cfg, printer, clock=lambda: time.time() - 86400)
    core.start()
    try:
        wait_until(lambda: core.services and core.hub_ok, what="the kiosk to learn the services")
        today = hub.queue.today()
        broker.stop()
        wait_until(lambda: not core.bus.connected.is_set(), what="kiosk sees the outage")
        out = core.take_ticket("HT")
        assert out.offline and out.state == "printed" and out.ticket["day"] < today
        broker.start()
        wait_until(lambda: core.bus.outbox.size() == 0, timeout=30, what="outbox to drain")
        day, status = hub.db.execute("SELECT day, status FROM tickets WHERE label=?", (out.ticket["label"],)).fetchone()
        assert (day, status) == (today, "issued")
        assert hub.queue.today() == today  # nor does the hub go back to yesterday's numbering to call it
        broker.stop()  # the hub's answer said where it filed the ticket: offline numbering there goes on above it
        wait_until(lambda: not core.bus.connected.is_set(), what="kiosk sees the second outage")
        again = core.take_ticket("HT")
        assert (again.ticket["label"], again.ticket["day"]) == ("A8001", today) and again.offline
    finally:
        core.stop()
