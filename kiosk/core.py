# The kiosk's logic, without a screen: take a ticket from the hub (or offline), print it, confirm it.
from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bus import catalogue as cat
from bus import estimate, hours
from bus.atomic import write_json
from bus.client import BusClient
from bus.config import DeviceConfig
from bus.device_commands import Device, DeviceCommands
from bus.errors import ConfigError, ContractError
from bus.messages import PHONE, Message
from bus.numbering import LocalDay, label
from bus.reload import field_appliers
from bus.reset import ResetSpec
from kiosk.config import KioskSection, load_kiosk
from kiosk.errors import KioskError, PrinterError
from kiosk.journal import PrintJournal
from kiosk.offline import OfflineNumbers
from kiosk.printing import PrinterSection, preview, profiles
from kiosk.printing import job as jobs
from kiosk.printing.base import TicketPrinter
from kiosk.printing.layout import TicketData, ticket_layout
from kiosk.printing.status import PrinterStatus

log = logging.getLogger(__name__)
SHIPPED_CATALOGUE = Path(__file__).with_name("catalogue.json")
# A factory reset forgets the cached services and catalogue (the hub sends them again) after the outbox is emptied;
# kiosk.db stays: offline numbers already handed out today must never be handed out again.
RESET = ResetSpec(wipe=("kiosk-outbox.db*", "services.json", "catalogue.json"))
LIVE = ("lang", "hub_timeout_s", "idle_timeout_s", "link_template", "footer_vi", "footer_en", "preview_dir")


@dataclass
class TicketOutcome:
    """What happened to one ticket: `state` is printed, print_failed, refused or printer_problem."""

    state: str
    ticket: dict[str, Any] = field(default_factory=dict)
    offline: bool = False
    printer: PrinterStatus = PrinterStatus.OK
    reason: str = ""
    data: TicketData | None = None
    journal: int | None = None  # its row in the print journal until its outcome is in the outbox


class KioskCore:
    def __init__(self, config: DeviceConfig, kiosk: KioskSection, printer_cfg: PrinterSection,
                 printer: TicketPrinter, clock: Any = time.time) -> None:
        self.config, self.kiosk, self.printer_cfg, self.printer, self.clock = config, kiosk, printer_cfg, printer, clock
        data = config.data_dir
        self.tz = ZoneInfo(kiosk.timezone)
        self.bus = BusClient(config.broker, config.device.ward, config.device.id, "kiosk",
                             outbox_path=data / "kiosk-outbox.db")
        live = field_appliers("kiosk", LIVE, lambda loaded: loaded[1], self, "kiosk")
        self.commands = DeviceCommands(self.bus, Device(config, load_kiosk, live, reset=RESET),
                                       extra={"test_print": self.test_print})
        self.bus.state_detail = self._state_detail
        self.offline = OfflineNumbers(data / "kiosk.db", kiosk.offline_block, LocalDay(kiosk.timezone, "2025-01-01"))
        self.journal = PrintJournal(data / "kiosk-printing.db")
        for db in (self.offline, self.journal):
            if db.repair is not None:
                self.bus.repairs.append(db.repair)
        cached = _read_json(data / "services.json", {})
        self.services: dict[str, dict[str, Any]] = cached.get("services", {})
        self.ward: dict[str, str] = cached.get("ward", {})
        self.hours = _hours(cached.get("hours", []))
        self.catalogue = self._initial_catalogue()
        self.hub_ok = False
        self.hub_said_offline = False  # the hub's own (retained) state says it is down: no point asking it
        self.width_px = printer_cfg.width_px or profiles.width(printer.profile)
        self._lock = threading.Lock()
        self._changed: list[Any] = []

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        t = self.bus.topics
        self.bus.subscribe(t.services, self._on_services)
        self.bus.subscribe(t.catalogue, self._on_catalogue)
        self.bus.subscribe(t.device_state(self.kiosk.hub_id), self._on_hub_state)
        self.bus.on_disconnect(lambda: self._set_hub_ok(False))
        self.bus.on_reply(self._on_reply)
        self._settle_left()
        self.bus.start()

    def _settle_left(self) -> None:
        """Tickets that were being printed when the kiosk last stopped (power lost mid-print) join the queue."""
        for key, ticket, offline in self.journal.left():
            log.warning("ticket %s was being printed when the kiosk stopped: it joins the queue", ticket.get("label"))
            self._settle(TicketOutcome("printed", ticket, offline, journal=key), "printed")

    def stop(self) -> None:
        self.bus.stop()
        self.offline.close()
        self.journal.close()
        self.printer.close()

    def on_change(self, callback: Any) -> None:
        """`callback()` runs (on a bus thread) when services, catalogue or connectivity change."""
        self._changed.append(callback)

    # -- tickets ---------------------------------------------------------------------------------------------
    def take_ticket(self, service: str, priority: str | None = None, procedure: str = "",
                    lang: str | None = None) -> TicketOutcome:
        """Takes and prints one ticket. Blocks for at most the hub bound plus the printer's timeouts; a UI calls
        it from a worker thread."""
        lang = lang or self.kiosk.lang
        if service not in self.services:
            return TicketOutcome("refused", reason=f"unknown service {service!r}")
        with self._lock:
            status = self.printer.check()
            if not status.can_print:
                self._publish_state()
                return TicketOutcome("printer_problem", printer=status, reason=status.en)
            ticket, offline, why = self._number(service, priority, procedure)
            if ticket is None:
                return TicketOutcome("refused", offline=offline, reason=why)
            data = self._ticket_data(ticket, service, procedure, lang, offline)
            key = self.journal.begin(ticket, offline)
            return self._print(TicketOutcome("printed", ticket, offline, data=data, journal=key))

    def reprint(self, outcome: TicketOutcome) -> TicketOutcome:
        with self._lock:
            return self._print(TicketOutcome("printed", outcome.ticket, outcome.offline, data=outcome.data,
                                             journal=outcome.journal))

    def keep(self, outcome: TicketOutcome) -> None:
        """The print failed but the citizen keeps the number shown on screen: it joins the queue."""
        self._settle(outcome, "shown")

    def cancel(self, outcome: TicketOutcome) -> None:
        """The print failed and the citizen did not keep the number: it never joins the queue."""
        self._settle(outcome, "void")

    def leave_phone(self, outcome: TicketOutcome, typed: str, lang: str) -> bool:
        """The citizen's phone number for "your turn is near" texts (docs/phone.md), sent through the outbox so it
        reaches the notifier after an outage too. False when it is not a mobile number, or the ticket has no place
        in the hub's line (an offline ticket)."""
        phone, t = mobile_number(typed), outcome.ticket
        if not self.kiosk.notify or phone is None or outcome.offline or "id" not in t:
            return False
        self.bus.send_durable(self.bus.topics.notify_subscribe, "notify.subscribe", {
            "ticket_id": t["id"], "label": t["label"], "service": t["service"], "day": t["day"], "phone": phone,
            "lang": lang if lang in ("vi", "en") else "vi"})
        return True

    def _number(self, service: str, priority: str | None, procedure: str
                ) -> tuple[dict[str, Any] | None, bool, str]:
        """The ticket from the hub, or an offline number of this kiosk's block; (ticket or None, offline, why not)."""
        body: dict[str, Any] = {"service": service, "hold": True, **({"priority": priority} if priority else {}),
                                **({"procedure": procedure} if procedure else {})}
        reply = None
        if self.bus.connected.is_set() and not self.hub_said_offline:
            reply = self.bus.request(self.bus.topics.ticket_request, "ticket.request", body,
                                     timeout=self.kiosk.hub_timeout_s)
        self._set_hub_ok(reply is not None)
        if reply is not None and reply.type == "ticket.issued":
            return {**reply.body["ticket"], "token": reply.body.get("token")}, False, ""
        if reply is not None:
            log.warning("hub refused a ticket for %s: %s", service, reply.body.get("reason"))
            return None, False, f"refused by the hub: {reply.body.get('reason')}"
        try:
            day, number = self.offline.next(service, self.clock())
        except KioskError as exc:  # the block used up, or a number that cannot be kept (a full disk)
            log.error("%s", exc)
            return None, True, str(exc)
        info = self.services[service]
        now = datetime.fromtimestamp(self.clock(), self.tz)
        return {"label": label(info["prefix"], number), "number": number, "day": day, "service": service,
                "service_vi": info["name_vi"], "service_en": info["name_en"], "priority": priority,
                "issued_at": now.isoformat(timespec="seconds"), "procedures": info.get("procedures", []),
                "ahead": None, "wait": {"known": False, "reason": "offline"}}, True, ""

    def _print(self, outcome: TicketOutcome) -> TicketOutcome:
        assert outcome.data is not None
        layout = ticket_layout(outcome.data, self.width_px)
        job = jobs.compose(layout, self.printer.profile, self.printer.native_qr)
        try:
            outcome.printer = self.printer.print_job(job)
        except PrinterError as exc:
            log.warning("ticket %s not printed: %s", outcome.ticket.get("label"), exc)
            outcome.state, outcome.reason = "print_failed", exc.detail
            outcome.printer = PrinterStatus(exc.status)
            self._publish_state()
            return outcome
        if self.kiosk.preview_dir:
            folder = Path(self.kiosk.preview_dir)
            try:
                folder.mkdir(parents=True, exist_ok=True)
                preview.save(layout, folder / f"{outcome.ticket['day']}-{outcome.ticket['label']}.png")
            except OSError as exc:  # a picture for people to look at: never worth a citizen's ticket (a full disk?)
                log.warning("preview of %s not saved: %s", outcome.ticket["label"], exc)
        self._settle(outcome, "printed")
        return outcome

    def _settle(self, outcome: TicketOutcome, result: str) -> None:
        t, topics = outcome.ticket, self.bus.topics
        if outcome.offline:
            if result != "void":
                self.bus.send_durable(topics.ticket_offline, "ticket.offline", {
                    k: t[k] for k in ("service", "number", "label", "day", "issued_at")} |
                    ({"priority": t["priority"]} if t.get("priority") else {}))
        else:
            self.bus.send_durable(topics.ticket_confirm, "ticket.confirm", {"ticket_id": t["id"], "outcome": result})
        self.journal.end(outcome.journal)

    def test_print(self, _: dict[str, Any]) -> dict[str, Any]:
        """Ward IT's test ticket: this kiosk's name, version and printer status on paper, and in the answer."""
        with self._lock:
            status = self.printer.check()
            now = datetime.fromtimestamp(self.clock(), self.tz).strftime("%d/%m/%Y %H:%M")
            data = TicketData(ward=self._ward_name(True), label="TEST", service="In thử / Test print", issued=now,
                              ahead="-", wait=f"{status.vi} / {status.en}",
                              footer=f"{self.bus.device} · motcua {self.bus.version} · hub: "
                                     f"{'ok' if self.hub_ok else 'unreachable'}")
            result: dict[str, Any] = {"printer": status.value, "status_vi": status.vi, "status_en": status.en}
            if not status.can_print:
                return {**result, "printed": False}
            layout = ticket_layout(data, self.width_px)
            try:
                result["printer"] = self.printer.print_job(jobs.compose(layout, self.printer.profile,
                                                                        self.printer.native_qr)).value
            except PrinterError as exc:
                return {**result, "printed": False, "printer": exc.status, "reason": exc.detail}
            self._publish_state()
            return {**result, "printed": True}

    # -- what is printed -------------------------------------------------------------------------------------
    def _ticket_data(self, t: dict[str, Any], service: str, procedure: str, lang: str, offline: bool) -> TicketData:
        vi = lang == "vi"
        procs = self.catalogue.for_service(service)
        chosen = self.catalogue.procedure(procedure) if procedure else (procs[0] if len(procs) == 1 else None)
        issued = datetime.fromisoformat(t["issued_at"]).astimezone(self.tz).strftime("%d/%m/%Y %H:%M")
        page = self.page_of(t)
        return TicketData(
            ward=self._ward_name(vi), label=t["label"], service=t["service_vi"] if vi else t["service_en"],
            issued=issued, wait=wait_words(t["wait"], lang),
            ahead=str(t["ahead"]) if t["ahead"] is not None else ("chưa rõ" if vi else "unknown"),
            qr_url=page or (self.catalogue.link(chosen.code, self.kiosk.link_template) if chosen else ""),
            qr_caption=_caption(chosen, vi, page=bool(page)),
            footer=self.kiosk.footer_vi if vi else self.kiosk.footer_en,
            offline_note=("Số lấy khi mất kết nối; vẫn được gọi theo thứ tự." if vi else
                          "Taken while offline; it will be called in turn.") if offline else "",
            lang=lang)

    def page_of(self, t: dict[str, Any]) -> str:
        """The ticket's phone page (docs/phone.md), where the ward has one; an offline ticket has none."""
        return self.kiosk.ticket_page.replace("{token}", t["token"]) if self.kiosk.ticket_page and t.get("token") \
            else ""

    def hours_today(self, lang: str) -> str:
        """Today's working hours in words for the home screen, as the hub last sent them; empty when none are set."""
        return self.hours.said(datetime.fromtimestamp(self.clock(), self.tz).date(), lang) if self.hours else ""

    def _ward_name(self, vi: bool) -> str:
        return self.ward.get("vi" if vi else "en") or ("Bộ phận một cửa" if vi else "One-stop centre")

    # -- bus -------------------------------------------------------------------------------------------------
    def _on_services(self, msg: Message, _: str) -> None:
        self.services = {s["code"]: s for s in msg.body["services"]}
        self.ward = {"vi": msg.body.get("ward_vi", ""), "en": msg.body.get("ward_en", "")}
        self.hours = _hours(msg.body.get("hours", []))
        _write_json(self.config.data_dir / "services.json", {"services": self.services, "ward": self.ward,
                                                             "hours": msg.body.get("hours", [])})
        self._set_hub_ok(True)

    def _on_reply(self, msg: Message, _: str) -> None:
        """The hub's answer to an offline ticket says the day it filed it on (by its age, when this kiosk's clock was
        behind): numbering offline on that day goes on above it, never printing its label again."""
        if msg.type == "ticket.confirmed":
            t = msg.body["ticket"]
            self.offline.taken(t["day"], t.get("transferred_from") or t["service"], t["number"])

    def _on_hub_state(self, msg: Message, _: str) -> None:
        if msg.device != self.kiosk.hub_id:  # only the hub speaks for itself (the broker's access list says so too)
            return
        self.hub_said_offline = msg.body.get("status") == "offline"
        if self.hub_said_offline:
            self._set_hub_ok(False)

    def _on_catalogue(self, msg: Message, _: str) -> None:
        if msg.body["version"] <= self.catalogue.version:
            return
        try:
            new = cat.from_message(msg.body)
        except ContractError as exc:
            log.warning("catalogue update rejected: %s", exc)
            return
        self.catalogue = new
        _write_json(self.config.data_dir / "catalogue.json", new.to_dict())
        log.info("catalogue updated to version %s", new.version)
        self._publish_state()  # ward IT sees at once that it arrived (bus/health.py compares it with the hub's)
        self._notify()

    def _initial_catalogue(self) -> cat.Catalogue:
        cached = self.config.data_dir / "catalogue.json"
        base = cat.load(self.kiosk.catalogue or SHIPPED_CATALOGUE)
        if cached.exists():
            try:
                newer = cat.parse(json.loads(cached.read_text(encoding="utf-8")), str(cached))
                return newer if newer.version > base.version else base
            except (ValueError, ConfigError) as exc:  # a damaged cache must not stop the kiosk
                log.warning("ignoring cached catalogue %s: %s", cached, exc)
        return base

    def _set_hub_ok(self, ok: bool) -> None:
        if ok != self.hub_ok:
            self.hub_ok = ok
            self._publish_state()
            self._notify()

    def _notify(self) -> None:
        for callback in self._changed:
            callback()

    def _publish_state(self) -> None:
        self.bus.publish_state()

    def _state_detail(self) -> dict[str, Any]:
        return {"printer": self.printer.last_status.value, "hub": "ok" if self.hub_ok else "unreachable",
                "catalogue": self.catalogue.version}


def _caption(chosen: cat.Procedure | None, vi: bool, page: bool = False) -> str:
    if page:  # the phone page shows the procedure's documents too
        return "Quét để theo dõi lượt và xem giấy tờ cần mang" if vi else "Scan to follow your turn and what to bring"
    if chosen is None:
        return ""
    return ("Giấy tờ cần mang: " + chosen.name_vi) if vi else ("What to bring: " + chosen.name_en)


def mobile_number(typed: str) -> str | None:
    """A Vietnamese mobile number as typed (spaces, dots, dashes, +84 or 84 in front) as 0xxxxxxxxx, or None."""
    digits = re.sub(r"[\s.\-]", "", typed)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if re.fullmatch(PHONE, digits) else None


def wait_words(wait: dict[str, Any], lang: str) -> str:
    """The wait as the ticket and the screen say it: a range, or why there is none (docs/queue.md)."""
    vi = lang == "vi"
    if not wait.get("known"):
        if wait.get("reason") == "closed":
            return "ngoài giờ làm việc" if vi else "outside working hours"
        if wait.get("reason") == "after_closing":
            return "có thể không kịp trong hôm nay" if vi else "may not be reached today"
        if wait.get("reason") == "no_counter_open":
            return "chưa có quầy mở" if vi else "no counter open yet"
        return "chưa ước tính được" if vi else "not yet known"
    unit = "phút" if vi else "min"
    if wait.get("closing"):
        lo = wait["low_min"]
        return f"từ {lo} {unit}, có thể không kịp hôm nay" if vi else f"from {lo} {unit}, may not be reached today"
    return f"{estimate.minutes(wait)} {unit}"


def _hours(rules: Any) -> hours.Hours | None:
    """The ward's hours from the rules the hub sent (or the copy kept of them); rules that do not hold are not shown."""
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        return None
    try:
        return hours.parse(rules, "the hub's services list", "hours")
    except ConfigError as exc:
        log.warning("working hours not shown: %s", exc)
        return None


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def _write_json(path: Path, data: Any) -> None:
    """Keeps a copy of what the hub last sent, for a start without the hub; a copy that cannot be written (a full
    disk) is only logged: the kiosk goes on with what it has in memory."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, data)
    except OSError as exc:
        log.warning("%s not kept: %s", path, exc)
