# The touch kiosk under SDL's dummy driver: taps and finger touches, a PNG of every screen, faults kept responsive.
from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest
import zxingcpp
from PIL import Image

from hmi.widgets import PAPER
from hub.service import HubService
from kiosk.core import KioskCore
from kiosk.printing.fake import FakePrinter
from kiosk.ui.app import KioskApp
from kiosk.ui.screens import problem_words
from tests.conftest import ManualClock, wait_until
from tests.escpos_decode import decode

SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots" / "kiosk"


@pytest.fixture
def printer() -> FakePrinter:
    return FakePrinter(timeout=2.0)  # longer than the hanging-printer test's ten frames


@pytest.fixture
def core(kiosk_core: KioskCore) -> KioskCore:
    return kiosk_core


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def make_app(core: KioskCore, size: tuple[int, int], clock: ManualClock) -> KioskApp:
    app = KioskApp(core, core.kiosk, size=size, clock=clock)
    app.step()
    return app


@pytest.fixture
def app(core: KioskCore, clock: ManualClock) -> Iterator[KioskApp]:
    a = make_app(core, (1024, 600), clock)
    yield a
    a.close()


def shot(app: KioskApp, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    w, h = app.screen.get_size()
    return app.screenshot(SHOTS / f"{name}-{w}x{h}.png")


def click(app: KioskApp, action: str) -> None:
    x, y = app.button(action).rect.center
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(x, y), touch=False))
    app.step()


def touch(app: KioskApp, action: str) -> None:
    x, y = app.button(action).rect.center
    w, h = app.screen.get_size()
    pygame.event.post(pygame.event.Event(pygame.FINGERDOWN, x=x / w, y=y / h, touch_id=0, finger_id=0, pressure=1.0))
    app.step()


def settle(app: KioskApp, timeout: float = 10.0) -> None:
    wait_until(lambda: (app.step(), app.view.name != "printing")[1], timeout=timeout, what="ticket to finish")


@pytest.mark.parametrize("size", [(800, 480), (1024, 600), (1920, 1080)])
def test_home_fits_every_screen_size(core: KioskCore, clock: ManualClock, size: tuple[int, int]) -> None:
    app = make_app(core, size, clock)
    try:
        screen = app.screen.get_rect()
        for button in app.buttons:
            assert screen.contains(button.rect), f"{button.action} is off screen at {size}"
        tiles = [b for b in app.buttons if b.action.startswith("service:")]
        assert len(tiles) == 5 and min(b.rect.height for b in tiles) >= 48 * size[1] / 600
        assert shot(app, "home").exists()
    finally:
        app.close()


@pytest.mark.parametrize("count", [12, 16])
def test_a_centre_with_many_services_still_gets_tiles_a_finger_can_hit(core: KioskCore, clock: ManualClock,
                                                                      count: int) -> None:
    """A merged ward's centre lists twelve or sixteen services: on the smallest screen (800×480) each tile stays as
    tall as the five-service home asks (48 px at 600 high), in four columns; in three they were 31 px at sixteen."""
    first = next(iter(core.services.values()))
    core.services = {f"S{i}": {**first, "code": f"S{i}", "name_vi": f"Dịch vụ số {i}", "name_en": f"Service {i}"}
                     for i in range(count)}
    app = make_app(core, (800, 480), clock)
    try:
        tiles = [b for b in app.buttons if b.action.startswith("service:")]
        assert len(tiles) == count and all(app.screen.get_rect().contains(b.rect) for b in tiles)
        assert min(b.rect.height for b in tiles) >= 48 * 480 / 600, [b.rect.height for b in tiles]
        assert not any(a.rect.colliderect(b.rect) for a in app.buttons for b in app.buttons if a is not b)
        shot(app, f"home-{count}-services")
    finally:
        app.close()


def test_the_screens_small_print_reads_at_least_four_and_a_half_to_one() -> None:
    """The kiosk's and the rating terminal's muted words (hours, hints, the QR's caption) were 4.2:1 on the paper."""
    from hmi.widgets import ACCENT, CALM, INK, MUTED, TILE, WARN_BG, contrast

    for words, ground in ((MUTED, PAPER), (MUTED, TILE), (INK, PAPER), (CALM, PAPER), (ACCENT, WARN_BG)):
        assert contrast(words, ground) >= 4.5, (words, ground)


def test_two_taps_print_a_ticket_with_its_procedure_qr(app: KioskApp, printer: FakePrinter,
                                                       hub: HubService) -> None:
    click(app, "service:HT")
    assert app.view.name == "services"
    shot(app, "procedures-HT")
    click(app, "take:1.001193")
    assert app.view.name == "printing"
    shot(app, "printing")
    settle(app)
    assert app.view.name == "ticket" and app.view.outcome.ticket["label"] == "A001"
    path = shot(app, "ticket")
    assert decode(printer.jobs[-1]).qr[0].endswith("1.001193")
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(path))]
    assert any(t.endswith("ma_thu_tuc=1.001193") for t in found)
    wait_until(lambda: hub.db.execute("SELECT status FROM tickets").fetchone() == ("issued",), what="confirm")


def test_priority_path_by_finger_in_three_touches(app: KioskApp, hub: HubService) -> None:
    touch(app, "priority:elderly")
    shot(app, "home-priority")
    touch(app, "service:CT")
    touch(app, "take:2.000884")
    settle(app)
    assert app.view.outcome.ticket["label"] == "B001"
    row = hub.db.execute("SELECT priority FROM tickets WHERE label='B001'").fetchone()
    assert row == ("elderly",)


def test_single_procedure_service_prints_in_one_tap(app: KioskApp) -> None:
    click(app, "service:KD")
    settle(app)
    assert app.view.outcome.ticket["service"] == "KD"


def test_a_double_tap_on_a_service_gives_one_ticket(app: KioskApp, printer: FakePrinter, hub: HubService) -> None:
    """Two taps that arrive together (an impatient double tap, a bouncing touch panel, a Pi busy drawing) were both
    handled against the home screen's tiles, and the citizen got two tickets; the second meets the printing screen."""
    x, y = app.button("service:KD").rect.center
    for _ in range(2):
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(x, y), touch=False))
    app.step()
    settle(app)
    assert app.view.name == "ticket" and len(printer.jobs) == 1
    wait_until(lambda: hub.db.execute("SELECT COUNT(*) FROM tickets WHERE status='issued'").fetchone()[0] == 1,
               what="the ticket confirmed")
    assert hub.db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1


def test_a_citizen_leaves_a_phone_number_under_a_consent_line(app: KioskApp, core: KioskCore) -> None:
    core.kiosk = dataclasses.replace(core.kiosk, notify=True)
    click(app, "service:KD")
    settle(app)
    click(app, "phone")
    assert app.view.name == "phone" and not app.button("send_phone").enabled
    shot(app, "phone-empty")
    for digit in "0912345678":
        touch(app, f"key:{digit}")
    touch(app, "key:del")
    touch(app, "key:8")
    assert app.view.extra["phone"] == "0912345678" and app.button("send_phone").enabled
    shot(app, "phone-typed")
    click(app, "send_phone")
    assert app.view.name == "ticket" and app.view.extra["texting"] == "091 •••• 678"
    shot(app, "phone-sent")
    assert [b for b in app.buttons if b.action == "phone"] == []  # asked once
    assert core.bus.outbox.size() == 1  # kept until the notifier answers (none runs in this test)


def test_without_a_notifier_the_kiosk_does_not_offer_texts(app: KioskApp) -> None:
    click(app, "service:KD")
    settle(app)
    assert [b for b in app.buttons if b.action == "phone"] == []


def test_english_toggle(app: KioskApp) -> None:
    click(app, "lang")
    assert app.button("lang").label == "Tiếng Việt"
    assert app.button("service:HT").label == "Civil status"
    shot(app, "home-english")


def test_failed_print_shows_number_and_keep_joins_queue(app: KioskApp, printer: FakePrinter,
                                                        hub: HubService) -> None:
    from kiosk.printing.status import PrinterStatus

    printer.fail_mid_job = True
    click(app, "service:XH")
    settle(app)
    assert app.view.outcome.state == "print_failed"
    assert {b.action for b in app.buttons} >= {"reprint", "keep", "cancel"}
    shot(app, "print-failed")
    printer.state = PrinterStatus.OK
    click(app, "keep")
    assert app.view.name == "home"
    wait_until(lambda: hub.db.execute("SELECT status FROM tickets WHERE label='E001'").fetchone() == ("issued",),
               what="kept number to join the queue")


def test_paper_out_message_and_banner(app: KioskApp, printer: FakePrinter) -> None:
    from kiosk.printing.status import PrinterStatus

    printer.state = PrinterStatus.PAPER_OUT
    click(app, "service:KD")
    settle(app)
    assert app.view.name == "problem"
    shot(app, "paper-out")
    click(app, "done")
    app.step()
    shot(app, "home-paper-out-banner")


def test_hanging_printer_keeps_the_screen_responsive(app: KioskApp, printer: FakePrinter) -> None:
    printer.hang()
    click(app, "service:KD")
    slowest = 0.0
    for _ in range(10):
        started = time.monotonic()
        app.step()
        slowest = max(slowest, time.monotonic() - started)
        time.sleep(0.05)
    assert slowest < 1.0 and app.view.name == "printing"
    printer.release()
    settle(app)
    assert app.view.name in ("ticket", "problem")


def test_offline_banner_and_ticket(app: KioskApp, hub: HubService) -> None:
    hub.stop()
    click(app, "service:KD")
    settle(app)
    assert app.view.outcome.offline and app.view.outcome.ticket["label"] == "D8000"
    shot(app, "ticket-offline")
    click(app, "done")
    app.render()
    assert app.view.name == "home"
    shot(app, "home-offline")


def test_a_list_longer_than_the_screen_takes_pages_and_every_procedure_can_be_reached(
        core: KioskCore, clock: ManualClock) -> None:
    """Hộ tịch's seven procedures on an 800×480 kiosk: the seventh was drawn below the screen's edge, where no
    finger could reach it. The list takes pages now, every tile on screen and as tall as a finger needs."""
    app = make_app(core, (800, 480), clock)
    try:
        click(app, "browse")
        click(app, "field:ho-tich")
        seen: list[str] = []
        while True:
            assert all(app.screen.get_rect().contains(b.rect) for b in app.buttons)
            tiles = [b for b in app.buttons if b.action.startswith("procedure:")]
            assert tiles and min(b.rect.height for b in tiles) >= 48 * 480 / 600
            seen += [b.action.removeprefix("procedure:") for b in tiles]
            if len(seen) == len(tiles):
                assert not app.button("page:prev").enabled
                shot(app, "field-ho-tich-page-1")
            if not app.button("page:next").enabled:
                break
            click(app, "page:next")
        field = next(f for f in core.catalogue.fields if f.id == "ho-tich")
        assert seen == [p.code for p in field.procedures] and len(seen) == 7
        click(app, f"procedure:{seen[-1]}")  # the last one opens, and back returns to its page
        click(app, "back")
        assert seen[-1] in [b.action.removeprefix("procedure:") for b in app.buttons]
    finally:
        app.close()


def test_a_procedure_with_a_long_list_of_documents_keeps_its_time_and_fee_on_the_screen(core: KioskCore) -> None:
    """Eight long documents on an 800×480 kiosk ran past the screen's foot, and the time and fee with them. The
    list is set a tenth smaller, then its last documents are left to the QR code in one line; time and fee stay."""
    from kiosk.ui.screens import _height, procedure_blocks

    pygame.font.init()
    proc = core.catalogue.procedure("2.000815")
    assert proc is not None
    long = dataclasses.replace(proc, documents_vi=[f"Giấy tờ thứ {i}: bản chính hoặc bản sao có chứng thực của giấy tờ "
                                                    "tùy thân còn hiệu lực" for i in range(1, 9)])
    scale, room = 0.8, (496, 384)  # the left column of the 800×480 screen, below the header
    blocks, shrink = procedure_blocks(long, "vi", room, scale)
    said = [b.words for b in blocks]
    assert _height(blocks, room[0], scale * shrink) <= room[1]
    assert said[-2].startswith("Thời hạn:") and said[-1].startswith("Lệ phí:")
    left = sum(w.startswith("• ") for w in said)
    assert 0 < left < 8 and f"… và {8 - left} giấy tờ khác: quét mã để xem đủ" in said
    blocks, shrink = procedure_blocks(proc, "en", room, scale)  # the shipped one fits whole, at full size
    assert shrink == 1.0 and sum(b.words.startswith("• ") for b in blocks) == len(proc.documents_vi)


def test_the_ticket_screen_wraps_a_long_wait_within_its_column(core: KioskCore, clock: ManualClock) -> None:
    """"Thời gian chờ dự kiến: từ 40 phút, có thể không kịp hôm nay" ran off the left edge of an 800×480 screen
    (and would have under the QR code); the service, count and wait wrap within their column now."""
    app = make_app(core, (800, 480), clock)
    try:
        click(app, "service:KD")
        settle(app)
        assert app.view.outcome is not None
        app.view.outcome.ticket.update(service_vi="Lao động - Thương binh và Xã hội", ahead=123,
                                       wait={"known": True, "low_min": 40, "high_min": 55, "closing": True})
        app.dirty = True
        app.render()
        shot(app, "ticket-long-wait")
        pixels = pygame.image.tobytes(app.screen.subsurface(pygame.Rect(0, 200, 14, 200)), "RGB")
        assert {pixels[i:i + 3] for i in range(0, len(pixels), 3)} == {bytes(PAPER)}, "words past the left edge"
    finally:
        app.close()


def test_the_ticket_screen_says_its_qr_follows_the_turn_where_it_opens_the_phone_page(
        core: KioskCore, clock: ManualClock) -> None:
    """The printed ticket said "Quét để theo dõi lượt…" under a QR for the ticket's phone page, while the screen
    beside it still said the QR only showed what to bring."""
    app = make_app(core, (1024, 600), clock)
    caption = pygame.Rect(660, 305, 364, 95)  # below the QR, above the buttons
    try:
        shown = []
        for page in ("", "http://10.10.0.2:8080/t/{token}"):
            core.kiosk = dataclasses.replace(core.kiosk, ticket_page=page)
            click(app, "service:KD")
            settle(app)
            assert app.view.name == "ticket" and app.view.outcome is not None
            data = app.view.outcome.data
            assert data is not None and data.qr_url.startswith(page.removesuffix("{token}") or "https://")
            shown.append(pygame.image.tobytes(app.screen.subsurface(caption), "RGB"))
            shot(app, "ticket-phone-page" if page else "ticket-procedure-qr")
            click(app, "done")
        assert shown[0] != shown[1]  # another sentence under the QR
    finally:
        app.close()


def test_idle_timeout_returns_home(app: KioskApp, clock: ManualClock) -> None:
    click(app, "browse")
    shot(app, "browse")
    click(app, "field:chung-thuc")
    shot(app, "field-chung-thuc")
    click(app, "procedure:2.000815")
    assert app.view.name == "procedure"
    path = shot(app, "procedure-2.000815")
    assert any(r.text.endswith("2.000815") for r in zxingcpp.read_barcodes(Image.open(path)))
    clock.now += app.section.idle_timeout_s + 1
    app.step()
    assert app.view.name == "home"
    click(app, "priority:elderly")  # a priority group and English chosen, then the citizen walks away: the next
    click(app, "lang")              # one must not take a priority number (or read English) unknowingly
    clock.now += app.section.idle_timeout_s + 1
    app.step()
    assert app.view.priority is None and app.view.lang == "vi"


@pytest.mark.parametrize("size", [(800, 480), (1920, 1080)])
def test_the_home_screen_says_today_s_working_hours_once_the_hub_sends_them(core: KioskCore, clock: ManualClock,
                                                                            make_client, size: tuple[int, int]) -> None:  # noqa: ANN001
    admin = make_client("console", role="console")
    admin.wait_connected(5)
    rules = {"hours": ["mon-sun 07:30-11:30 13:30-17:00"]}  # every day: the words do not depend on today
    reply = admin.request(admin.topics.admin_request, "admin.command", {"action": "hours", "data": rules, "by": "IT"},
                          timeout=10)
    assert reply is not None and reply.type == "admin.result"
    wait_until(lambda: core.hours_today("vi") == "Giờ làm việc hôm nay: 07:30–11:30, 13:30–17:00",
               what="the kiosk to learn the hours")
    assert core.hours_today("en") == "Open today: 07:30–11:30, 13:30–17:00"
    app = make_app(core, size, clock)
    try:
        scale = min(size[0] / 1024, size[1] / 600)
        line = pygame.Rect(size[0] // 2, int(80 * scale), size[0] // 2 - int(24 * scale), int(18 * scale))
        assert any(tuple(app.screen.get_at((x, y))[:3]) != PAPER for x in range(line.left, line.right, 2)
                   for y in range(line.top, line.bottom, 2)), "no hours drawn at the right of the subtitle"
        shot(app, "home-hours")
    finally:
        app.close()


def test_a_refused_number_is_told_to_the_citizen_in_their_language(app: KioskApp, core: KioskCore) -> None:
    """A service the kiosk still lists but the hub no longer has (an admin removed it a moment ago): the hub refuses,
    and the citizen reads why in Vietnamese, not the hub's English reason (that stays, small, for the staff)."""
    core.services = {**core.services, "ZZ": {**core.services["XH"], "code": "ZZ", "name_vi": "Dịch vụ cũ"}}
    app.mark_dirty()  # as the services list arriving would
    app.step()
    click(app, "service:ZZ")
    click(app, "take:")  # no procedure of its own in the catalogue: "Thủ tục khác"
    settle(app)
    assert app.view.name == "problem" and app.view.outcome.state == "refused"
    message, cause = problem_words(app.view.outcome, "vi")
    assert message == "Chưa lấy được số lúc này. Vui lòng hỏi cán bộ tiếp nhận." and "ZZ" in cause
    assert problem_words(app.view.outcome, "en")[0].startswith("A number could not be taken")
    shot(app, "refused")
