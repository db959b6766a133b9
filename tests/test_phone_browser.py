# The citizen's ticket page in Debian's Chromium at a phone's size (390x844): live place, the call, a transfer.
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from bus.client import BusClient
from tests.test_console_browser import ROOT, RestartableConsole

SHOTS = ROOT / "build" / "screenshots" / "phone"


def phone(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="vi-VN")
    return context.new_page()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def take(kiosk: BusClient, service: str = "HT") -> str:
    reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": service}, timeout=5)
    assert reply is not None and reply.type == "ticket.issued", reply
    return reply.body["token"]


def test_a_waiting_ticket_moves_up_live_is_called_and_followed_after_a_transfer(
        browser: Browser, console_url: str, make_client) -> None:  # noqa: ANN001
    kiosk = make_client("kiosk-9")
    officer = make_client("counter-1", role="desk", counters=(1,))
    kiosk.wait_connected(5)
    officer.wait_connected(5)
    tokens = [take(kiosk) for _ in range(4)]

    def act(action: str, **more: object) -> None:
        reply = officer.request(officer.topics.counter_command(1), "counter.command",
                                {"action": action, "counter": 1, **more}, timeout=5)
        assert reply is not None and reply.type == "counter.result", reply

    page = phone(browser)
    page.goto(f"{console_url}/t/{tokens[3]}")
    expect(page.locator("#label")).to_have_text("A004")
    expect(page.locator("#place")).to_have_text("Còn 3 người trước bạn")
    expect(page.locator("h2")).to_have_text("Giấy tờ cần mang")
    expect(page.locator("details summary").first).to_have_text("Đăng ký khai sinh")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    assert page.evaluate("getComputedStyle(document.querySelector('button')).fontFamily") == \
        page.evaluate("getComputedStyle(document.body).fontFamily")  # a button's words in the page's font
    page.set_viewport_size({"width": 360, "height": 740})  # the narrowest phones still common
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "waiting")
    act("open")
    act("call_next")
    expect(page.locator("#place")).to_have_text("Còn 2 người trước bạn")  # live: the page was not reloaded
    expect(page.locator("#wait")).to_contain_text("chờ")
    act("call_next")
    act("call_next")
    expect(page.locator("#place")).to_have_text("Bạn là người tiếp theo")
    act("call_next")
    expect(page.locator("#call")).to_contain_text("Mời bạn đến")
    expect(page.locator("#call")).to_contain_text("1")
    expect(page.locator("#place")).to_be_hidden()
    expect(page.locator("#sound")).to_be_hidden()  # its turn came: nothing left to sound for
    shot(page, "called")
    act("start")
    expect(page.locator("#call")).to_contain_text("Đang được phục vụ")
    act("transfer", service="CU", reason="Hồ sơ cư trú")
    expect(page.locator("#note")).to_contain_text("đã được chuyển sang Cư trú")
    expect(page.locator("details summary").first).not_to_have_text("Đăng ký khai sinh")  # the new service's
    expect(page.locator("#place")).to_have_text("Bạn là người tiếp theo")  # first in its new line
    shot(page, "transferred")
    page.goto(f"{console_url}/t/{tokens[3]}?lang=en")
    expect(page.locator("#place")).to_have_text("You are next")
    expect(page.locator("#lang")).to_have_text("Tiếng Việt")


def test_a_wrong_token_gets_a_plain_not_found_page(browser: Browser, console_url: str) -> None:
    page = phone(browser)
    for token in ("Zm9vYmFyYmF6cXV4cXV1eA", "A001", "x" * 500):  # well formed but unknown, a label, too long
        answer = page.goto(f"{console_url}/t/{token}")
        assert answer is not None and answer.status == 404
        expect(page.locator("#problem")).to_contain_text("Không tìm thấy số thứ tự này")
    shot(page, "not-found")


def test_a_phone_that_cannot_follow_live_still_sees_its_turn(browser: Browser, console_url: str,
                                                             make_client) -> None:  # noqa: ANN001
    """The phones people have: scripts off (a data-saving browser), no EventSource, an older WebKit whose Web Audio
    `connect` returns nothing. Each still shows the call."""
    kiosk = make_client("kiosk-9")
    officer = make_client("counter-1", role="desk", counters=(1,))
    kiosk.wait_connected(5)
    officer.wait_connected(5)
    token = take(kiosk)
    url = f"{console_url}/t/{token}"
    quiet = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = quiet.new_page()
    page.goto(url)
    expect(page.locator("#label")).to_have_text("A001")
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_attribute("content", "15")  # reads itself again
    expect(page.locator("#sound")).to_be_hidden()  # it could not sound
    quiet.close()
    live = phone(browser)  # scripts on: the refresh stays inside <noscript>, unread
    live.goto(url)
    expect(live.locator("#place")).to_be_visible()
    assert live.locator('meta[http-equiv="refresh"]').count() == 0
    errors: list[str] = []
    old = phone(browser)
    old.add_init_script("const connect = AudioNode.prototype.connect;"
                        "AudioNode.prototype.connect = function (...to) { connect.apply(this, to); };")
    old.on("pageerror", lambda exc: errors.append(str(exc)))
    old.goto(url)
    old.click("#sound")
    bare = phone(browser)
    bare.add_init_script("delete window.EventSource;")
    bare.clock.install()
    bare.goto(url)
    expect(bare.locator("#sound")).to_be_hidden()
    for action in ("open", "call_next"):
        reply = officer.request(officer.topics.counter_command(1), "counter.command",
                                {"action": action, "counter": 1}, timeout=5)
        assert reply is not None and reply.type == "counter.result", reply
    expect(old.locator("#call")).to_have_class("call flash")  # live, beeped, and no error on the way
    assert errors == []
    expect(bare.locator("#call")).to_be_hidden()
    bare.clock.run_for(16_000)
    expect(bare.locator("#call")).to_contain_text("Mời bạn đến")  # read again after 15 s


def test_a_phone_page_left_open_follows_again_after_the_console_restarts(browser: Browser, tmp_path: Path, broker,  # noqa: ANN001
                                                                       hub, make_client) -> None:  # noqa: ANN001
    """The citizen's page says the link is lost while the console restarts, and still shows the call once it is
    back: the console remembers no ticket across the restart and asks the hub again."""
    kiosk = make_client("kiosk-9")
    officer = make_client("counter-1", role="desk", counters=(1,))
    assert kiosk.wait_connected(5) and officer.wait_connected(5)
    console = RestartableConsole(tmp_path, broker).start()
    try:
        token = take(kiosk)
        page = phone(browser)
        page.goto(f"{console.url}/t/{token}")
        expect(page.locator("#place")).to_have_text("Bạn là người tiếp theo")
        console.stop()
        expect(page.locator("#lost")).to_be_visible(timeout=10000)
        console.start()
        for action in ("open", "call_next"):
            reply = officer.request(officer.topics.counter_command(1), "counter.command",
                                    {"action": action, "counter": 1}, timeout=5)
            assert reply is not None and reply.type == "counter.result", reply
        expect(page.locator("#call")).to_contain_text("Mời bạn đến", timeout=15000)  # live again, not reloaded
        expect(page.locator("#lost")).to_be_hidden()
    finally:
        console.stop()
