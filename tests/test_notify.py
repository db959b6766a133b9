# "Your turn is near" by text: the kiosk's keypad, the notifier on the real broker and hub, its modem and Zalo gateways.
from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus.health import problems
from devkit.broker import Broker
from devkit.chaos_kiosk import SmallDisk
from devkit.configs import write_notify_config
from devkit.fake_modem import FakeModem
from hub.service import HubService
from kiosk.core import KioskCore, mobile_number
from notify.config import load_notify
from notify.errors import GatewayError
from notify.gateways import Outgoing, gsm, zns
from notify.service import NotifyService
from notify.store import Store
from tests.conftest import wait_until

PHONE = "0912345678"
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def notifier(tmp_path: Path, broker: Broker, **kw: object) -> NotifyService:
    service = NotifyService(*load_notify(str(write_notify_config(tmp_path, broker.port, **kw))))  # type: ignore[arg-type]
    service.start()
    service.bus.wait_connected(5)
    return service


def sent(service: NotifyService) -> list[dict]:
    return service.gateway.sent()  # type: ignore[attr-defined]


@pytest.fixture
def notify(tmp_path: Path, broker: Broker, hub: HubService) -> Iterator[NotifyService]:
    service = notifier(tmp_path, broker)
    yield service
    service.stop()


def officer(make_client):  # noqa: ANN001, ANN201
    desk = make_client("counter-1", role="desk", counters=(1,))
    desk.wait_connected(5)

    def act(action: str) -> None:
        reply = desk.request(desk.topics.counter_command(1), "counter.command", {"action": action, "counter": 1},
                             timeout=5)
        assert reply is not None and reply.type == "counter.result", reply

    return act


@pytest.mark.parametrize(("typed", "number"), [("0912345678", PHONE), ("091 234 5678", PHONE), ("+84912345678", PHONE),
                                               ("84912345678", PHONE), ("0212345678", None), ("09123", None),
                                               ("", None), ("0912345678901", None)])
def test_a_mobile_number_as_people_type_it(typed: str, number: str | None) -> None:
    assert mobile_number(typed) == number


def test_texted_once_when_near_and_once_when_called(notify: NotifyService, kiosk_core: KioskCore, issue,  # noqa: ANN001
                                                    make_client) -> None:  # noqa: ANN001
    kiosk_core.kiosk = dataclasses.replace(kiosk_core.kiosk, notify=True)
    issue(5)
    mine = kiosk_core.take_ticket("HT")
    assert mine.state == "printed" and mine.ticket["label"] == "A006"
    assert kiosk_core.leave_phone(mine, "091 234 5678", "vi")
    wait_until(lambda: kiosk_core.bus.outbox.size() == 0, what="the notifier to accept the number")
    act = officer(make_client)
    act("open")
    act("call_next")
    assert sent(notify) == []  # four ahead: not yet
    act("call_next")
    wait_until(lambda: len(sent(notify)) == 1, what="the 'near' text")
    assert sent(notify)[0]["text"] == "Số A006: còn 3 người trước bạn. Mời quay lại phòng chờ."
    assert sent(notify)[0]["phone"] == PHONE and sent(notify)[0]["kind"] == "near"
    for _ in range(4):
        act("call_next")
    wait_until(lambda: len(sent(notify)) == 2, what="the 'called' text")
    assert sent(notify)[1]["text"] == "Số A006: mời bạn đến Quầy 1."
    act("recall")  # called again: no second text
    time.sleep(0.5)
    assert len(sent(notify)) == 2 and notify.store.counts(notify.today()) == {"subscribed": 1, "sent": 2}


def test_the_notifier_follows_the_hub_s_day_not_its_own_clock(tmp_path: Path, broker: Broker, hub: HubService,
                                                               kiosk_core: KioskCore, make_client) -> None:  # noqa: ANN001
    """The hub owns the day: it numbers on the last day used while its clock is unset, and holds a day after its
    clock jumped (docs/queue.md). A notifier whose own clock said another day refused every number as stale."""
    kiosk_core.kiosk = dataclasses.replace(kiosk_core.kiosk, notify=True)
    config, section = load_notify(str(write_notify_config(tmp_path, broker.port)))
    service = NotifyService(config, section, clock=lambda: time.time() + 86400)  # its clock says tomorrow
    service.start()
    try:
        mine = kiosk_core.take_ticket("HT")
        wait_until(lambda: service.counters, what="the hub's board state heard")
        assert kiosk_core.leave_phone(mine, PHONE, "vi")
        wait_until(lambda: service.store.counts(mine.ticket["day"]).get("subscribed") == 1, what="the number taken")
        act = officer(make_client)
        act("open")
        act("call_next")
        wait_until(lambda: "called" in [m["kind"] for m in sent(service)], what="the 'called' text")
    finally:
        service.stop()


def test_a_failing_gateway_is_seen_by_ward_it_and_nothing_is_lost_or_sent_twice(
        tmp_path: Path, broker: Broker, hub: HubService, make_client, issue) -> None:  # noqa: ANN001
    service = notifier(tmp_path, broker)
    service.gateway.failing = "modem unplugged"  # type: ignore[attr-defined]
    kiosk = make_client("kiosk-1", outbox=True)
    kiosk.wait_connected(5)
    issue(2)
    body = {"ticket_id": 2, "label": "A002", "service": "HT", "day": service.today(), "phone": PHONE, "lang": "en"}
    kiosk.send_durable(kiosk.topics.notify_subscribe, "notify.subscribe", body)
    kiosk.send_durable(kiosk.topics.notify_subscribe, "notify.subscribe", body)  # twice: kept once
    wait_until(lambda: service.store.waiting() == 1 and service.failing is not None, what="a text queued, failing")
    detail = service._detail()
    said = problems("notify", "online", detail)
    assert any("texts to phones failing" in p and "modem unplugged" in p for p in said), said
    service.stop()  # as a power cut would, with the text still queued
    again = notifier(tmp_path, broker)
    try:
        wait_until(lambda: len(sent(again)) == 1, what="the queued text sent after the restart")
        assert sent(again)[0]["text"].startswith("No. A002: 1 ahead of you")
        act = officer(make_client)
        act("open")
        act("call_next")
        act("call_next")
        wait_until(lambda: len(sent(again)) == 2, what="the 'called' text")
        assert again.failing is None and problems("notify", "online", again._detail()) == []
    finally:
        again.stop()


def test_a_call_made_while_the_notifier_was_down_is_texted_when_it_is_back(
        tmp_path: Path, broker: Broker, hub: HubService, make_client, issue) -> None:  # noqa: ANN001
    service = notifier(tmp_path, broker)
    kiosk = make_client("kiosk-1", outbox=True)
    kiosk.wait_connected(5)
    issue(6)
    body = {"ticket_id": 6, "label": "A006", "service": "HT", "day": service.today(), "phone": PHONE, "lang": "vi"}
    kiosk.send_durable(kiosk.topics.notify_subscribe, "notify.subscribe", body)
    wait_until(lambda: kiosk.outbox.size() == 0, what="the number accepted")
    service.stop()  # down (a power cut, an update) while the officer calls
    act = officer(make_client)
    act("open")
    for _ in range(6):
        act("call_next")
    again = notifier(tmp_path, broker)
    try:
        wait_until(lambda: [m["kind"] for m in sent(again)] == ["called"], what="the missed call texted")
        assert sent(again)[0]["text"] == "Số A006: mời bạn đến Quầy 1."
    finally:
        again.stop()


def test_near_waits_for_the_end_of_the_lunch_break_rather_than_call_citizens_back_to_a_shut_room(
        tmp_path: Path, broker: Broker, make_client) -> None:  # noqa: ANN001
    monday = datetime(2026, 11, 23, tzinfo=VN)
    now = [(monday + timedelta(hours=11, minutes=28)).timestamp()]
    config, section = load_notify(str(write_notify_config(tmp_path, broker.port)))
    service = NotifyService(config, section, clock=lambda: now[0])
    service.start()
    try:
        hub, kiosk = make_client("hub", role="hub"), make_client("kiosk-1", outbox=True)
        kiosk.wait_connected(5)
        body = {"ticket_id": 7, "label": "A007", "service": "HT", "day": "2026-11-23", "phone": PHONE, "lang": "vi"}
        kiosk.send_durable(kiosk.topics.notify_subscribe, "notify.subscribe", body)
        wait_until(lambda: kiosk.outbox.size() == 0, what="the number accepted")
        sessions = [[int((monday + timedelta(hours=h, minutes=m)).timestamp()) for h, m in pair]
                    for pair in (((7, 30), (11, 30)), ((13, 30), (17, 0)))]
        pace = {"open": 1, "samples": 10, "enough": True, "p25": 10, "p75": 12, "hours": sessions}
        hub.wait_connected(5)
        hub.send(hub.topics.line_state("HT"), "line.state", {"service": "HT", "day": "2026-11-23",
                                                                "waiting": [3, 4, 5, 7], "more": False, "pace": pace})
        wait_until(lambda: service.places.get("HT", {}).get(7) == 3, what="the line state heard")
        time.sleep(2.5)  # two rounds of the sender: three ahead, but 11:28 — their turn comes after 13:30
        assert sent(service) == []
        now[0] = (monday + timedelta(hours=13, minutes=21)).timestamp()  # nine minutes before the doors reopen
        wait_until(lambda: len(sent(service)) == 1, what="the 'near' text once the break is nearly over")
        assert sent(service)[0]["text"] == "Số A007: còn 3 người trước bạn. Mời quay lại phòng chờ."
    finally:
        service.stop()


def test_phone_numbers_are_gone_from_the_file_after_their_day(tmp_path: Path, broker: Broker) -> None:
    now = [datetime(2026, 12, 2, 16, 0, tzinfo=VN).timestamp()]
    config, section = load_notify(str(write_notify_config(tmp_path, broker.port)))
    service = NotifyService(config, section, clock=lambda: now[0])
    ticket = {"ticket_id": 7, "label": "A007", "service": "HT"}
    assert service.store.subscribe("2026-12-02", ticket, PHONE, "vi", now[0])
    service.store.queue(1, "near", "Số A007: ...", {}, now[0])
    service.store.close()
    path = config.data_dir / section.database
    assert any(PHONE.encode() in f.read_bytes() for f in path.parent.glob("notify.db*"))
    now[0] = datetime(2026, 12, 3, 7, 0, tzinfo=VN).timestamp()
    service = NotifyService(config, section, clock=lambda: now[0])
    service.start()  # a new day: yesterday's numbers deleted, overwritten, out of the log too
    service.stop()
    assert not any(PHONE.encode() in f.read_bytes() for f in path.parent.glob("notify.db*"))


def test_a_text_sent_while_the_disk_refuses_to_mark_it_is_never_sent_again(tmp_path: Path) -> None:
    """The gateway took the text (the citizen has it), then the full disk refused to mark it sent: before, the
    sender found it due again every second and texted the citizen again and again."""
    disk = SmallDisk(tmp_path / "disk", 4)
    if not disk.mounted:
        pytest.skip("a small disk to fill needs root (mount -t tmpfs)")
    try:
        store = Store(disk.folder / "notify.db")
        assert store.subscribe("2026-12-02", {"ticket_id": 7, "label": "A007", "service": "HT"}, PHONE, "vi", 1.0)
        assert store.queue(1, "near", "Số A007: ...", {}, 1.0) and store.queue(1, "called", "Số A007: ...", {}, 1.0)
        with disk.filled():
            first, second = store.due(2.0)
            store.sent(first.id, "ref-1", "2026-12-02", 2.0)  # the disk refuses: no error for the sender
            assert [m.id for m in store.due(3.0)] == [second.id] and store.waiting() == 1  # not due again
        assert [m.id for m in store.due(4.0)] == [second.id]  # room again: written down on the next look
        store.close()
        again = Store(disk.folder / "notify.db")
        assert again.counts("2026-12-02") == {"subscribed": 1, "sent": 1} and again.waiting() == 1
        again.close()
    finally:
        disk.close()


# -- the modem ---------------------------------------------------------------------------------------------------
@pytest.fixture
def modem(tmp_path: Path) -> Iterator[FakeModem]:
    m = FakeModem(tmp_path).plug()
    yield m
    m.unplug()


def message(i: int, text: str = "Số A006: mời bạn đến Quầy 1.") -> Outgoing:
    return Outgoing(i, PHONE, "called", text, {})


def test_the_modem_sends_vietnamese_in_ucs2(modem: FakeModem) -> None:
    gateway = gsm.GsmGateway(gsm.Options(port=str(modem.path), timeout_s=2.0))
    assert gateway.send(message(1)) == "gsm-1"
    assert gateway.send(message(2, "Số A007: còn 3 người trước bạn.")) == "gsm-2"
    assert [(d.phone, d.text) for d in modem.delivered] == [(PHONE, "Số A006: mời bạn đến Quầy 1."),
                                                           (PHONE, "Số A007: còn 3 người trước bạn.")]
    assert modem.commands[:4] == ["ATE0", "AT+CMGF=1", 'AT+CSCS="UCS2"', "AT+CSMP=17,167,0,8"]
    gateway.close()


def test_a_refused_or_unplugged_text_goes_out_once_none_lost_across_a_restart(tmp_path: Path, broker: Broker,
                                                                               modem: FakeModem) -> None:
    options = {"port": str(modem.path), "timeout_s": 2.0}
    service = notifier(tmp_path, broker, gateway="gsm", options=options)

    def tried(s: NotifyService, message_id: int) -> tuple[str, int]:
        return s.store.db.execute("SELECT state, attempts FROM messages WHERE id=?", (message_id,)).fetchone()

    try:
        for ticket_id in (3, 4, 5):
            ticket = {"ticket_id": ticket_id, "label": f"A00{ticket_id}", "service": "HT"}
            service.store.subscribe(service.today(), ticket, PHONE, "vi", 0)
        subs = service.store.following(service.today())
        modem.refuse = 1  # the network said no: +CMS ERROR
        service.queue(subs[0], "called", counter="Quầy 1")
        wait_until(lambda: tried(service, 1) == ("sent", 2), what="the refused text sent on its retry")
        modem.unplug_mid_text = True  # the cable pulled while the next text is half typed
        service.queue(subs[1], "called", counter="Quầy 2")
        wait_until(lambda: tried(service, 2)[1] >= 1, what="the cut text failed")
        assert modem.cut == 1 and tried(service, 2)[0] == "queued"
        modem.plug()  # the same path comes back with the modem behind it
        wait_until(lambda: tried(service, 2)[0] == "sent", what="the cut text sent after the replug")
        modem.unplug()
        service.queue(subs[2], "called", counter="Quầy 3")
        wait_until(lambda: tried(service, 3)[1] >= 1, what="a text held back by the missing modem")
    finally:
        service.stop()  # stopped with a text queued, as a power cut would leave it
    modem.plug()
    again = notifier(tmp_path, broker, gateway="gsm", options=options)
    try:
        wait_until(lambda: tried(again, 3)[0] == "sent", what="the held text sent after the restart")
        assert [d.text for d in modem.delivered] == ["Số A003: mời bạn đến Quầy 1.", "Số A004: mời bạn đến Quầy 2.",
                                                    "Số A005: mời bạn đến Quầy 3."]
        assert again.store.counts(again.today())["sent"] == 3
    finally:
        again.stop()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=st.binary(max_size=200) | st.sampled_from([b"\r\nOK\r\n", b"\r\n> ", b"+CMS ERROR: 30", b"\xff" * 50,
                                                         b"ERROR\x1b[31m\x00\r\nERROR"]))
def test_whatever_a_modem_answers_costs_a_bounded_wait_and_a_clear_error(modem: FakeModem, answer: bytes) -> None:
    modem.garbage = answer
    gateway = gsm.GsmGateway(gsm.Options(port=str(modem.path), timeout_s=0.2))  # shorter than a config allows
    started = time.monotonic()
    try:
        gateway.send(message(1))
    except GatewayError as exc:
        assert str(modem.path) in exc.reason and exc.reason.isprintable(), exc.reason  # a state can carry it
    finally:
        gateway.close()
    assert time.monotonic() - started < 10  # each wait is bounded by timeout_s
    assert modem.delivered == []


# -- Zalo ZNS ----------------------------------------------------------------------------------------------------
class FakeZns(BaseHTTPRequestHandler):
    """Zalo's template endpoint on loopback: records each request; answers what `answers` holds next."""

    requests: list[dict] = []
    answers: list[tuple[int, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        FakeZns.requests.append({"token": self.headers["access_token"], **body})
        status, answer = FakeZns.answers.pop(0) if FakeZns.answers else (200, {"error": 0, "message": "Success",
                                                                               "data": {"msg_id": "m1"}})
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()  # bytes: sent as they are
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_zns() -> Iterator[str]:
    FakeZns.requests, FakeZns.answers = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeZns)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/message/template"
    server.shutdown()


def test_zalo_gets_the_template_and_fields_and_its_refusals_are_errors(fake_zns: str) -> None:
    gateway = zns.ZnsGateway(zns.Options(token="tok", template_near="111", template_called="222", url=fake_zns))
    out = Outgoing(9, PHONE, "near", "…", {"ticket": "A009", "ahead": 3, "counter": "", "service": "HT"})
    assert gateway.send(out) == "zns-m1"
    assert FakeZns.requests == [{"token": "tok", "phone": "84912345678", "template_id": "111", "tracking_id": "9",
                                 "template_data": {"ticket": "A009", "ahead": "3", "counter": "", "service": "HT"}}]
    FakeZns.answers = [(200, {"error": -124, "message": "Access token is invalid"}), (500, {})]
    for expected in ("error -124 Access token is invalid", "HTTP 500"):
        with pytest.raises(GatewayError, match=expected):
            gateway.send(out)


ZNS_ANSWERS = (st.binary(max_size=300) | st.sampled_from([b"[" * 100_000, b'{"error": 0, "data": ' * 5000, b"NaN",
                                                         b'{"error": NaN}', b"\xff\xfe", b"x" * 70_000, b"null",
                                                         b'{"error": 0, "data": []}', b'{"error": "0"}'])
               | st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=40),
                              lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                                  st.sampled_from(["error", "message", "data", "msg_id"]) | st.text(max_size=5),
                                  inner, max_size=4), max_leaves=10).map(lambda v: json.dumps(v).encode()))


@pytest.mark.parametrize("answer", [{"error": 1, "message": "a\nb\x1b[31m"}, {"error": "\x00"},
                                    {"error": 0, "data": {"msg_id": "x\ny"}}])
def test_what_zalo_says_is_named_as_text_a_state_can_carry(fake_zns: str, answer: dict) -> None:
    gateway = zns.ZnsGateway(zns.Options(token="tok", template_near="111", template_called="222", url=fake_zns))
    FakeZns.answers = [(200, answer)]
    out = Outgoing(9, PHONE, "near", "…", {"ticket": "A009", "ahead": 3, "counter": "", "service": "HT"})
    try:
        assert gateway.send(out) == "zns"  # an id Zalo should never send is not kept
    except GatewayError as exc:
        assert exc.reason.isprintable() and ("\\n" in exc.reason or "\\x00" in exc.reason), exc.reason


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=ZNS_ANSWERS, status=st.sampled_from([200, 200, 200, 400, 500]))
def test_any_answer_from_zalo_is_a_reference_or_a_gateway_error_a_state_can_carry(fake_zns: str, answer: bytes,
                                                                                  status: int) -> None:
    """Zalo's endpoint is outside the ward: whatever it answers, the text is sent or refused with a reason the
    notifier's device state can say (no control characters, not too long), never another error."""
    gateway = zns.ZnsGateway(zns.Options(token="tok", template_near="111", template_called="222", url=fake_zns))
    FakeZns.answers = [(status, answer)]
    out = Outgoing(9, PHONE, "near", "…", {"ticket": "A009", "ahead": 3, "counter": "", "service": "HT"})
    try:
        reference = gateway.send(out)
    except GatewayError as exc:
        assert exc.reason.isprintable() and len(exc.reason) <= 300, exc.reason
    else:
        assert reference.isprintable() and len(reference) <= 300, reference
