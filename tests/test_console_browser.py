# The console in Debian's Chromium (Playwright): what officers, admins and ward IT see and do, live, at 1366x768.
from __future__ import annotations

import io
import re
import time
from pathlib import Path

import openpyxl
from playwright.sync_api import Browser, Page, expect

from bus.messages import Message
from devkit.processes import RoleProcess
from hub.config import load_hub
from hub.service import HubService
from tests.conftest import PASSWORD, wait_until

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "screenshots" / "console"


def signed_in(browser: Browser, url: str, name: str) -> Page:
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN").new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=account]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_load_state()
    return page


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_an_officer_calls_next_and_the_board_state_shows_it(browser: Browser, console_url: str, issue,  # noqa: ANN001
                                                            make_client) -> None:  # noqa: ANN001
    board = make_client("board-1", role="display")
    states: list[Message] = []
    board.subscribe(board.topics.board_state, lambda m, _: states.append(m))
    board.wait_connected(5)
    issue(3, procedure="1.001193")
    page = signed_in(browser, console_url, "mai")
    shot(page, "choose-counter")
    page.click("a.tile")
    expect(page.locator("#label")).to_have_text("—")
    expect(page.locator("#waiting li")).to_have_count(3)
    shot(page, "counter-before")
    page.keyboard.down("n")  # the shortcut for Next, and held: the key's repeats are not more presses
    expect(page.locator("#label")).to_have_text("A001")
    for _ in range(2):
        page.wait_for_timeout(600)  # past the buttons' 0.4 s rest after an answer
        page.keyboard.down("n")  # a repeat (a hand resting on the keyboard)
    page.keyboard.up("n")
    expect(page.locator("#waiting li")).to_have_count(2)
    expect(page.locator("#label")).to_have_text("A001")
    expect(page.locator("#about")).to_contain_text("Đăng ký khai sinh")
    wait_until(lambda: states and states[-1].body["counters"][0].get("ticket", {}).get("label") == "A001",
               what="board.state with the call")
    page.click("button[data-action=start]")
    expect(page.locator("#result")).not_to_have_text("…")
    expect(page.locator("button[data-action=done]")).to_be_enabled()  # serving: Done is there to press
    expect(page.locator("button[data-action=done]")).to_contain_text("Xong")
    shot(page, "counter-serving")
    page.click("button[data-action=transfer]")
    page.select_option("#transfer-service", "CU")
    page.fill("#transfer-reason", "Hồ sơ thuộc lĩnh vực cư trú")
    shot(page, "counter-transfer")
    page.click("#transfer-send")
    expect(page.locator("#label")).to_have_text("—")
    expect(page.locator("[data-count=transfers]")).to_have_text("1")
    kiosk = make_client("kiosk-3")  # the room's kiosk runs out of paper: the open page says so, and when it is back
    kiosk.facts["printer"] = "paper_out"
    kiosk.publish_state()
    expect(page.locator("#room")).to_be_visible()
    expect(page.locator("#room")).to_contain_text("Máy lấy số kiosk-3: máy in: hết giấy")
    shot(page, "counter-room")
    kiosk.facts["printer"] = "ok"
    kiosk.publish_state()
    expect(page.locator("#room")).to_be_hidden()


def test_two_officers_racing_on_next_never_get_the_same_ticket(browser: Browser, console_url: str,
                                                               hub: HubService, issue) -> None:  # noqa: ANN001
    issue(90)
    pages = [signed_in(browser, console_url, "mai"), signed_in(browser, console_url, "lan")]
    for counter, page in zip((1, 2), pages, strict=True):
        page.goto(f"{console_url}/counter/{counter}")
        expect(page.locator("#waiting li")).not_to_have_count(0)
    called: list[str] = []
    rounds = 30  # of both pressing at once (100 took 49 s of the suite and found nothing more; 40 took 23 s)
    for _ in range(rounds):
        before = [p.locator("#label").inner_text() for p in pages]
        for page in pages:  # both press at the same moment
            page.locator("button[data-action=call_next]").click(no_wait_after=True)
        for page, old in zip(pages, before, strict=True):
            expect(page.locator("#label")).not_to_have_text(old)
            called.append(page.locator("#label").inner_text())
    assert len(called) == 2 * rounds and len(set(called)) == 2 * rounds, "a ticket was called twice"
    rows = hub.db.execute("SELECT counter, COUNT(*) FROM events WHERE kind='called' GROUP BY counter").fetchall()
    assert dict(rows) == {1: rounds, 2: rounds}


def test_the_page_says_when_the_hub_is_gone_refuses_and_recovers(browser: Browser, console_url: str,
                                                                  hub: HubService, hub_config: Path,
                                                                  issue) -> None:  # noqa: ANN001
    issue(1)
    page = signed_in(browser, console_url, "mai")
    page.goto(f"{console_url}/counter/1")
    expect(page.locator("button[data-action=call_next]")).to_be_enabled()
    hub.stop()
    started = time.monotonic()
    expect(page.locator("#banner")).to_be_visible(timeout=5000)
    assert time.monotonic() - started < 5
    expect(page.locator("#banner")).to_contain_text("Máy chủ một cửa không trả lời")
    expect(page.locator("button[data-action=call_next]")).to_be_disabled()
    shot(page, "counter-hub-down")
    answer = page.evaluate("""async () => (await fetch('/counter/1/act', {method: 'POST',
        headers: {'x-csrftoken': document.querySelector('meta[name=csrf]').content, 'content-type': 'application/json'},
        body: JSON.stringify({action: 'call_next', expect: 0})})).status""")
    assert answer == 503  # refused at the console: nothing is sent to a hub that is not there
    again = HubService(*load_hub(str(hub_config)))
    again.start()
    try:
        expect(page.locator("#banner")).to_be_hidden(timeout=15000)
        page.click("button[data-action=call_next]")
        expect(page.locator("#label")).to_have_text("A001")
    finally:
        again.stop()


class RestartableConsole:
    """`motcua run` of a console on a port of its own that a test may stop and start again, as an update, a power
    cut or ward IT would (the `console_url` fixture's console lives as long as its test)."""

    def __init__(self, tmp_path: Path, broker) -> None:  # noqa: ANN001
        from devkit.broker import free_port
        from tests.conftest import _console_config

        self.port = free_port()
        self.path, self.log = _console_config(tmp_path, broker, self.port)[0], tmp_path / "console.log"
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: RoleProcess | None = None

    def start(self) -> RestartableConsole:
        from devkit.broker import port_open

        process = self.process = RoleProcess("console", self.path, self.log, command=("run",)).start()
        wait_until(lambda: port_open("127.0.0.1", self.port) or process.check_alive(), timeout=20,
                   what="the console to listen")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def test_the_officers_page_follows_again_after_the_console_restarts(browser: Browser, tmp_path: Path, broker,  # noqa: ANN001
                                                                   hub: HubService, issue) -> None:  # noqa: ANN001
    """An update, a power cut or ward IT restarts the console while officers' pages are open: each page says it lost
    the console, then follows live again and acts, with no F5 (peers' first complaint) and no new sign-in."""
    console = RestartableConsole(tmp_path, broker).start()
    try:
        issue(1)
        page = signed_in(browser, console.url, "mai")
        page.goto(f"{console.url}/counter/1")
        expect(page.locator("#waiting li")).to_have_count(1)
        console.stop()
        expect(page.locator("#banner")).to_be_visible(timeout=10000)
        console.start()
        expect(page.locator("#banner")).to_be_hidden(timeout=15000)
        issue(1)  # reaches the page over its stream again, as the page was left open
        expect(page.locator("#waiting li")).to_have_count(2)
        page.click("button[data-action=call_next]")
        expect(page.locator("#label")).to_have_text("A001")
        # the sign-in ended meanwhile (its hours passed, or a new password): the stream is refused, and the browser
        # gives up on a refused stream for good — the band said "reconnecting" for ever; it says why, and the way in
        page.context.clear_cookies()
        console.stop()
        console.start()
        again = page.locator("#banner a")
        expect(again).to_have_text("Phiên đăng nhập đã hết — bấm vào đây để đăng nhập lại.", timeout=15000)
        expect(page.locator("button[data-action=recall]")).to_be_disabled()
        again.click()
        page.fill("input[name=account]", "mai")
        page.fill("input[name=password]", PASSWORD)
        page.click("button.primary")
        expect(page.locator("#label")).to_have_text("A001")  # back on the counter it was at
        expect(page.locator("#banner")).to_be_hidden()
    finally:
        console.stop()


def test_a_page_left_open_by_an_officer_who_is_locked_out_says_so(browser: Browser, console_url: str) -> None:
    """An admin locks an account (someone left the ward) while its counter screen is open on a PC: the screen stops
    following the ward within seconds and says its sign-in has ended, where it went on showing every change."""
    mai = signed_in(browser, console_url, "mai")
    mai.goto(f"{console_url}/counter/1")
    expect(mai.locator("#waiting")).to_be_attached()
    expect(mai.locator("#banner")).to_be_hidden()
    quan = signed_in(browser, console_url, "quan")
    quan.goto(f"{console_url}/accounts")
    quan.locator("tr[data-account=mai] button[value=disable]").click()
    expect(quan.locator("tr[data-account=mai] button[value=enable]")).to_be_visible()
    expect(mai.locator("#banner a")).to_have_text("Phiên đăng nhập đã hết — bấm vào đây để đăng nhập lại.",
                                                  timeout=20000)
    expect(mai.locator("button[data-action=call_next]")).to_be_disabled()


def test_an_admin_renames_a_service_and_a_running_kiosk_follows(browser: Browser, console_url: str,
                                                                kiosk_core, issue) -> None:  # noqa: ANN001
    issue(4, procedure="1.001193")
    issue(2, service="CT")
    page = signed_in(browser, console_url, "quan")
    page.goto(f"{console_url}/admin")
    shot(page, "admin")
    page.fill("input[name='name_vi.0']", "Hộ tịch — khai sinh, kết hôn, khai tử")
    page.click("form[action='/admin/services'] button.primary")
    expect(page.locator(".flash")).to_contain_text("Đã lưu")
    wait_until(lambda: kiosk_core.services["HT"]["name_vi"] == "Hộ tịch — khai sinh, kết hôn, khai tử",
               what="the kiosk's service list")
    page.goto(f"{console_url}/accounts")
    shot(page, "accounts")
    mai = page.locator("tr[data-account=mai]")  # Mai moves to counters 2 and 3, her password left as it is
    mai.locator("input[name=counters]").fill("2, 3")
    mai.locator("button[value=save]").click()
    expect(page.locator(".flash")).to_contain_text("Đã lưu")
    expect(page.locator("tr[data-account=mai] input[name=counters]")).to_have_value("2, 3")
    expect(page.locator("tr[data-account=quan] button[value=disable]")).to_have_count(0)  # not their own
    page.goto(f"{console_url}/audit")
    expect(page.locator("table")).to_contain_text("Quản trị: Dịch vụ")  # admin.services, in words
    expect(page.locator("table")).to_contain_text("Sửa tài khoản")
    expect(page.locator("table")).to_contain_text("Quầy: 2, 3")  # the detail in words, not JSON
    shot(page, "audit")
    page.goto(f"{console_url}/stats")
    long_name = page.locator("svg.bars text.name", has_text="Hộ tịch — khai sinh").first  # cut with "…", whole on hover
    expect(long_name).to_contain_text("…")
    expect(long_name.locator("title")).to_have_text("Hộ tịch — khai sinh, kết hôn, khai tử")
    shot(page, "stats")
    expect(page.locator("#signatures")).to_be_hidden()  # on the screen, the page's own controls
    page.emulate_media(media="print")  # "In báo cáo": a report to sign, none of the page's controls
    expect(page.locator("header.top nav")).to_be_hidden()
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.locator("table.figures")).to_be_visible()
    expect(page.locator("#signatures")).to_contain_text("NGƯỜI LẬP BIỂU")
    expect(page.locator("#signatures .when")).to_have_text(re.compile(r"Ngày \d\d tháng \d\d năm \d{4}"))
    shot(page, "stats-print")
    printed = page.pdf(prefer_css_page_size=True)  # as the browser prints it: the page's own size, A4 landscape
    boxes = {(round(float(w)), round(float(h))) for w, h in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]",
                                                                         printed)}
    assert printed[:4] == b"%PDF" and boxes == {(842, 595)}, boxes  # every page A4 across, in points
    page.emulate_media(media="screen")
    with page.expect_download() as download:  # the workbook, as the browser saves it
        page.get_by_role("link", name="Tải Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    names = [row[0] for row in book.active.iter_rows(values_only=True)]
    assert "Hộ tịch — khai sinh, kết hôn, khai tử" in names


def test_the_fleet_page_shows_a_device_going_offline(browser: Browser, console_url: str, make_client) -> None:  # noqa: ANN001
    kiosk = make_client("kiosk-7")
    kiosk.wait_connected(5)
    page = signed_in(browser, console_url, "tin")
    row = page.locator("tr[data-device=kiosk-7]")
    expect(row).to_contain_text("Máy lấy số")
    expect(row).to_contain_text("trực tuyến")
    shot(page, "fleet")
    kiosk.stop()
    expect(row).to_contain_text("ngoại tuyến", timeout=5000)  # the table as the page redraws it, still Vietnamese
    expect(row).to_contain_text("Máy lấy số")
    expect(row.locator("button[data-command=restart]")).to_have_text("Khởi động lại")
    page.locator("tr[data-device=hub] button[data-command=ping]").click()
    expect(page.locator("#result")).to_contain_text("Kiểm tra")
    expect(page.locator("#result")).to_contain_text("uptime_s")
    page.locator("tr[data-device=hub] select").select_option("debug")
    page.locator("tr[data-device=hub] button[data-command=log_level]").click()
    expect(page.locator("#result")).to_contain_text('"level": "debug"')
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    row.locator("button[data-command=restart]").click()  # a slip of the mouse: asked first, and nothing sent
    assert asked == ["Khởi động lại kiosk-7? Thiết bị sẽ ngừng làm việc trong vài giây."]
    expect(page.locator("#result")).to_contain_text('"level": "debug"')
    login = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    login.goto(f"{console_url}/login")
    shot(login, "login")


def test_an_admin_on_a_phone_gets_fields_wide_enough_to_type_in(browser: Browser, console_url: str) -> None:
    """The services and counters tables at 390 px squeezed each field to a few characters (a name 40 px wide), and
    the accounts and fleet tables ran off the side; on a phone each row is a block of labelled fields now."""
    page = signed_in(browser, console_url, "quan")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{console_url}/admin")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for field in ("name_vi.0", "procedures.0", "id.0"):
        box = page.locator(f"input[name='{field}']").first.bounding_box()
        assert box is not None and box["width"] >= 150, (field, box)
    expect(page.locator("td[data-label='Tên tiếng Việt']").first).to_be_visible()
    page.goto(f"{console_url}/accounts")  # the accounts table the same way
    box = page.locator("tr[data-account='mai'] input[name='display']").bounding_box()
    assert box is not None and box["width"] >= 150 and box["x"] + box["width"] <= 390, box
    page.goto(f"{console_url}/fleet")  # the fleet's rows too, each cell named by its column's heading
    expect(page.locator("#fleet td[data-label='Thiết bị']").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_an_officer_on_a_phone_sees_no_keyboard_hints(browser: Browser, console_url: str) -> None:
    """The counter screen's buttons carry their keys (Gọi tiếp N) for the office PC; a touch screen has no keys."""
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                locale="vi-VN").new_page()
    phone.goto(f"{console_url}/login")
    phone.fill("input[name=account]", "mai")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button.primary")
    phone.goto(f"{console_url}/counter/1")
    expect(phone.locator("button[data-action=call_next]")).to_be_visible()
    expect(phone.locator("button[data-action=call_next] kbd")).to_be_hidden()
    phone.goto(f"{console_url}/help")  # the guide too: what each button does, no column of keys to press
    expect(phone.locator("#guide tr[data-action=call_next]")).to_contain_text("gọi số tiếp theo")
    expect(phone.locator("#guide td.key").first).to_be_hidden()
    shot(phone, "help-phone")
    office = signed_in(browser, console_url, "mai")
    office.goto(f"{console_url}/counter/1")
    expect(office.locator("button[data-action=call_next] kbd")).to_be_visible()
    office.goto(f"{console_url}/help")
    expect(office.locator("#guide tr[data-action=call_next] kbd")).to_have_text("N")
    shot(office, "help")
