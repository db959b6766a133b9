# The console over HTTP, in-process (Starlette's client) against a real hub and broker: roles, CSRF, throttling.
from __future__ import annotations

import html
import re
import time

import pytest
from starlette.testclient import TestClient

from hub.service import HubService
from tests.conftest import PASSWORD, wait_until


def client(app: object) -> TestClient:
    return TestClient(app, base_url="http://ward.local", headers={"accept": "text/html"})  # type: ignore[arg-type]


def token(c: TestClient, path: str = "/login") -> str:
    page = c.get(path)
    return re.search(r'name="csrf" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def sign_in(app: object, name: str, password: str = PASSWORD) -> TestClient:
    c = client(app)
    answer = c.post("/login", data={"account": name, "password": password, "csrftoken": token(c), "next": "/"},
                    follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return c


def act(c: TestClient, counter: int, action: str, expect: int = 0, **extra: object):  # noqa: ANN201
    return c.post(f"/counter/{counter}/act", json={"action": action, "expect": expect, **extra},
                  headers={"x-csrftoken": token(c, f"/counter/{counter}")})


def test_an_officer_calls_the_next_citizen_and_sees_it(console: tuple, issue) -> None:  # noqa: ANN001
    live, _, app = console
    issue(1)
    mai = sign_in(app, "mai")
    assert mai.get("/", follow_redirects=False).headers["location"] == "/counter"
    page = mai.get("/counter/1")
    assert page.status_code == 200 and "Gọi tiếp" in page.text
    called = act(mai, 1, "call_next")
    assert called.status_code == 200 and called.json()["ok"] and called.json()["ticket"]["label"] == "A001"
    wait_until(lambda: live.counters.get(1, {}).get("ticket", {}).get("label") == "A001", what="the live state")
    data = mai.get("/counter/1?format=json").json()  # the page's JSON twin, from the same data
    assert data["state"]["ticket"]["label"] == "A001" and data["state"]["counts"]["called"] == 1
    again = act(mai, 1, "call_next")  # a double click: sent with what the screen showed (nothing)
    assert again.status_code == 409 and not again.json()["ok"] and "A001" in again.json()["message"]
    issue(1)
    second = act(mai, 1, "call_next", expect=called.json()["ticket"]["id"]).json()  # A001 ends as A002 is called
    assert second["message"] == "Gọi tiếp: A002 · Xong: A001", second
    last = act(mai, 1, "call_next", expect=second["ticket"]["id"]).json()  # nobody left: A002 still ends
    assert last["message"] == "Xong: A002 · Không còn ai chờ.", last


def test_an_officer_may_not_open_admin_or_fleet_or_act_on_another_counter(console: tuple) -> None:
    _, accounts, app = console
    mai = sign_in(app, "mai")
    assert mai.get("/admin").status_code == 403 and mai.get("/fleet").status_code == 403
    assert mai.get("/accounts").status_code == 403 and mai.get("/counter/2").status_code == 403
    refused = act(mai, 2, "call_next")
    assert refused.status_code == 403 and not refused.json()["ok"]
    assert mai.post("/admin/notice", data={"notice": "x", "csrftoken": token(mai, "/counter/1")}).status_code == 403
    assert client(app).get("/counter/1", follow_redirects=False).headers["location"].startswith("/login")


def test_a_request_without_its_csrf_token_changes_nothing(console: tuple, hub: HubService) -> None:
    _, _, app = console
    quan = sign_in(app, "quan")
    forged = quan.post("/admin/notice", data={"notice": "Forged"})
    assert forged.status_code == 403 and hub.hub.notice != "Forged"
    forged = quan.post("/counter/1/act", json={"action": "call_next", "expect": 0})
    assert forged.status_code == 403
    login = client(app).post("/login", data={"account": "quan", "password": PASSWORD})  # a login CSRF too
    assert login.status_code == 403


def test_five_wrong_passwords_slow_further_tries(console: tuple) -> None:
    _, _, app = console
    c = client(app)
    for _ in range(5):
        wrong = c.post("/login", data={"account": "mai", "password": "not-her-password", "csrftoken": token(c)})
        assert wrong.status_code == 401 and "Sai tài khoản hoặc mật khẩu" in wrong.text
    slowed = c.post("/login", data={"account": "mai", "password": PASSWORD, "csrftoken": token(c)})
    assert slowed.status_code == 429 and "Thử lại sau" in slowed.text  # even the right password must wait


def test_the_session_cookie_is_httponly_and_samesite(console: tuple) -> None:
    _, _, app = console
    c = client(app)
    answer = c.post("/login", data={"account": "mai", "password": PASSWORD, "csrftoken": token(c)},
                    follow_redirects=False)
    cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie" and "motcua_session" in v)
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert "content-security-policy" in answer.headers and answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(("form", "problem"), [
    ({"code.0": "HT", "prefix.0": "A", "name_vi.0": "<script>alert(1)</script>", "name_en.0": "x",
      "target.0": "30"}, "markup"),
    ({"code.0": "HT", "prefix.0": "A", "name_vi.0": "x" * 500, "name_en.0": "x", "target.0": "30"}, "at most"),
    ({"code.0": "HT", "prefix.0": "A", "name_vi.0": '{"a": {"b": {"c": [[[[]]]]}}}', "name_en.0": "x",
      "target.0": "abc"}, "number of minutes"),
    ({"code.0": "HT", "prefix.0": "A", "name_vi.0": "x", "name_en.0": "x", "target.0": "²"}, "number of minutes"),
])
def test_a_hostile_form_is_refused_with_a_message_and_changes_nothing(console: tuple, hub: HubService,
                                                                      form: dict, problem: str) -> None:
    _, _, app = console
    quan = sign_in(app, "quan")
    before = hub.hub
    answer = quan.post("/admin/services", data={**form, "csrftoken": token(quan, "/admin")})
    assert answer.status_code == 200 and problem in answer.text  # back on the page, the reason shown
    assert hub.hub == before and hub.settings.history() == []


def test_oversized_and_nested_requests_are_refused(console: tuple) -> None:
    _, _, app = console
    mai = sign_in(app, "mai")
    huge = mai.post("/counter/1/act", content=b"{" + b" " * 300_000 + b"}",
                    headers={"x-csrftoken": token(mai, "/counter/1"), "content-type": "application/json"})
    assert huge.status_code == 413
    nested = mai.post("/counter/1/act", content=b"[" * 5000 + b"]" * 5000,
                      headers={"x-csrftoken": token(mai, "/counter/1"), "content-type": "application/json"})
    assert nested.status_code == 400 and "nested" in nested.json()["message"]
    odd = act(mai, 1, "explode")
    assert odd.status_code == 400 and "unknown action" in odd.json()["message"]


def test_an_admin_renames_a_service_and_it_is_audited(console: tuple, hub: HubService) -> None:
    live, accounts, app = console
    quan = sign_in(app, "quan")
    form = {"csrftoken": token(quan, "/admin")}
    for i, s in enumerate(hub.hub.services):
        form.update({f"code.{i}": s.code, f"prefix.{i}": s.prefix, f"name_vi.{i}": s.name_vi,
                     f"name_en.{i}": s.name_en, f"procedures.{i}": ", ".join(s.procedures),
                     f"target.{i}": str(s.target_minutes)})
    form["name_vi.0"] = "Hộ tịch (khai sinh, kết hôn)"
    answer = quan.post("/admin/services", data=form)
    assert answer.status_code == 200 and "Đã lưu" in answer.text
    assert hub.hub.services[0].name_vi == "Hộ tịch (khai sinh, kết hôn)"
    wait_until(lambda: live.services[0]["name_vi"] == "Hộ tịch (khai sinh, kết hôn)", what="the console sees it")
    assert any(e["action"] == "admin.services" and e["account"] == "quan" for e in accounts.audit())
    assert "admin.services" in quan.get("/audit").text


def test_an_admin_types_the_working_hours_one_rule_a_line(console: tuple, hub: HubService) -> None:
    live, _, app = console
    quan = sign_in(app, "quan")
    typed = "  mon-fri   07:30-11:30 13:30-17:00\r\n\r\nsat 07:30-11:30  \n"
    answer = quan.post("/admin/hours", data={"hours": typed, "csrftoken": token(quan, "/admin")})
    assert answer.status_code == 200 and "Đã lưu" in answer.text
    assert hub.hub.hours == ["mon-fri 07:30-11:30 13:30-17:00", "sat 07:30-11:30"]
    wait_until(lambda: live.hours == hub.hub.hours, what="the console to see the hours")
    assert "mon-fri 07:30-11:30 13:30-17:00\nsat 07:30-11:30</textarea>" in quan.get("/admin").text
    wrong = quan.post("/admin/hours", data={"hours": "sat 07:30-11:30\nsat 13:30-17:00",
                                            "csrftoken": token(quan, "/admin")})
    assert "&#39;sat 13:30-17:00&#39;: sat already has its hours" in wrong.text  # the rule named, nothing changed
    assert hub.hub.hours == ["mon-fri 07:30-11:30 13:30-17:00", "sat 07:30-11:30"]


def test_a_catalogue_too_large_even_deflated_is_not_sent_and_is_said(console: tuple) -> None:
    from devkit.big_catalogue import procedures_catalogue

    live, _, _ = console
    body = {"action": "catalogue", "data": procedures_catalogue(700), "by": "Lê Văn Quản trị"}
    assert live.ask(lambda t: t.admin_request, "admin.command", body) == "too_large"  # not a broken page
    assert live.ask(lambda t: t.admin_request, "admin.command", {**body, "data": procedures_catalogue(250)}).type \
        == "admin.result"  # a whole commune's catalogue, deflated, taken by the hub


def test_ward_it_sends_a_device_command_and_sees_the_answer(console: tuple) -> None:
    _, _, app = console
    tin = sign_in(app, "tin")
    page = tin.get("/fleet")
    assert page.status_code == 200 and "Máy chủ phường" in page.text and "trực tuyến" in page.text
    hub_row = re.search(r'<tr[^>]*data-device="hub">(.*?)</tr>', page.text, re.S).group(1)  # type: ignore[union-attr]
    cells = re.findall(r"<td>([^<]*)</td>", hub_row)
    assert cells[:3] == ["hub", "Máy chủ phường", "trực tuyến"] and re.fullmatch(r"\d+\.\d+\.\d+\S*", cells[3]), cells
    answer = tin.post("/fleet/hub/ping", headers={"x-csrftoken": token(tin, "/fleet")})
    assert answer.status_code == 200 and answer.json()["ok"] and answer.json()["result"]["role"] == "hub"
    quan = sign_in(app, "quan")
    assert quan.post("/fleet/hub/restart", headers={"x-csrftoken": token(quan, "/admin")}).status_code == 403


def test_the_officer_and_the_citizen_each_read_their_own_words(console: tuple, make_client) -> None:  # noqa: ANN001
    """The counter's buttons and answers, the statistics' empty day and the ticket's phone page share some keys
    (done, no_show, no_data) with different words: an officer's "Xong", a citizen's "Đã xong. Cảm ơn bạn!"."""
    _, _, app = console
    tin = sign_in(app, "tin")
    empty = tin.get("/stats?by=service").text
    assert "Chưa có số liệu." in empty and "thông tin cá nhân" not in empty
    kiosk = make_client("kiosk-9")
    kiosk.wait_connected(5)
    reply = kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
    token = reply.body["token"]  # type: ignore[union-attr]
    mai = sign_in(app, "mai")
    buttons = dict(re.findall(r'data-action="(\w+)"[^>]*>([^<]+?) <kbd>', mai.get("/counter/1").text))
    assert buttons == {"call_next": "Gọi tiếp", "recall": "Gọi lại", "start": "Bắt đầu", "skip": "Để sau",
                       "no_show": "Vắng mặt", "transfer": "Chuyển", "done": "Xong", "close": "Tạm nghỉ",
                       "open": "Mở quầy"}
    called = act(mai, 1, "call_next").json()
    assert called["message"] == "Gọi tiếp: A001", called  # not the why, which the page shows under the number
    done = act(mai, 1, "done", expect=called["ticket"]["id"]).json()
    assert done["ok"] and done["message"] == "Xong: A001", done
    page = client(app).get(f"/t/{token}")
    assert page.status_code == 200 and "Đã xong. Cảm ơn bạn!" in page.text and "Chưa có số liệu" not in page.text


def test_an_officer_reading_english_sees_the_counters_english_names(console: tuple) -> None:
    _, _, app = console
    mai = sign_in(app, "mai")
    assert "<h2>Quầy 1 · Đang phục vụ</h2>" in mai.get("/counter/1").text
    mai.post("/lang", data={"lang": "en", "csrftoken": token(mai, "/counter")}, follow_redirects=False)
    assert "<h2>Counter 1 · Now serving</h2>" in mai.get("/counter/1").text
    assert "<strong>Counter 1</strong>" in mai.get("/counter").text


def test_an_officer_sees_the_room_s_devices_that_need_a_person_and_only_those(console: tuple, make_client) -> None:  # noqa: ANN001
    """A kiosk out of paper went unnoticed until citizens complained: only ward IT's fleet page said so, and ward IT
    is seldom in the room. The officers' screens name the room's devices that need a person, and nothing of the
    servers' (a hot hub, a backlog upstream), which officers cannot mend."""
    live, _, app = console
    kiosk, board = make_client("kiosk-5"), make_client("board-2", role="display")
    server = make_client("hub-2", role="hub")
    server.facts["temperature_c"] = 83.0  # ward IT's to mend
    server.publish_state()
    wait_until(lambda: {"kiosk-5", "board-2", "hub-2"} <= set(live.devices), what="the devices' states")
    mai = sign_in(app, "mai")
    assert mai.get("/counter/1?format=json").json()["room"] == []
    assert 'id="room" hidden' in mai.get("/counter/1").text
    kiosk.facts["printer"] = "paper_out"
    kiosk.publish_state()
    other = make_client("kiosk-6")
    other.facts["printer"] = "paper_low"  # the roll can be changed before it runs out
    other.publish_state()
    board.facts["voice"] = {"failing": "aplay: no such device", "since": "2026-12-08T02:00:00+00:00"}
    board.publish_state()
    bridge = make_client("bridge-1", role="bridge")
    bridge.facts["units"] = [{"kind": "rating_keypad", "counter": 3, "state": "lost", "last_error": ""},
                             {"kind": "led_display", "counter": 3, "state": "ready", "last_error": ""}]
    bridge.publish_state()
    wait_until(lambda: live.devices["kiosk-5"].body["detail"].get("printer") == "paper_out"
               and "voice" in live.devices["board-2"].body["detail"] and {"bridge-1", "kiosk-6"} <= set(live.devices),
               what="the new states")
    room = {d["device"]: d for d in mai.get("/counter/1?format=json").json()["room"]}
    assert set(room) == {"kiosk-5", "kiosk-6", "board-2", "bridge-1"}, room  # not the hot hub-2
    assert room["kiosk-6"]["problems"] == ["máy in: sắp hết giấy (thay cuộn mới trước khi hết)"]
    assert room["bridge-1"]["problems"] == ["bàn phím đánh giá ở quầy 3: mất liên lạc (dây cáp còn cắm?)"]
    assert room["kiosk-5"] == {"device": "kiosk-5", "role": "Máy lấy số", "problems": ["máy in: hết giấy"]}
    assert room["board-2"]["role"] == "Bảng hiển thị" and "loa đã cắm và bật?" in room["board-2"]["problems"][0]
    page = mai.get("/counter/1").text
    assert '<div class="card room" id="room"><h3>Thiết bị trong phòng cần xem</h3>' in page
    assert "<li><b>Máy lấy số kiosk-5</b>: máy in: hết giấy</li>" in page
    fleet = {d["device"]: d for d in sign_in(app, "tin").get("/fleet?format=json").json()["devices"]}
    assert any("quá nóng" in p for p in fleet["hub-2"]["problems"])  # ward IT's fleet page still says it
    kiosk.facts["printer"] = "ok"
    kiosk.publish_state()
    kiosk.stop()  # switched off at the end of the day: said too
    wait_until(lambda: live.devices["kiosk-5"].body["status"] == "offline", what="the kiosk's goodbye")
    room = {d["device"]: d for d in mai.get("/counter/1?format=json").json()["room"]}
    assert room["kiosk-5"]["problems"] == ["ngoại tuyến (đã tắt đúng cách)"]


def test_the_fleet_page_says_since_when_a_device_it_saw_vanish_is_offline(console: tuple, make_client) -> None:  # noqa: ANN001
    """A pulled cable leaves the broker's copy of the kiosk's last will, which says not when: the console that saw
    it online and then saw the will arrive knows. (`motcua fleet status`, reading retained states, says "-".)"""
    from bus import health
    from bus.messages import iso_ts

    live, _, app = console
    kiosk = make_client("kiosk-5")
    wait_until(lambda: "kiosk-5" in live.devices and live.devices["kiosk-5"].body["status"] == "online",
               what="the kiosk online on the fleet page")
    before = time.time()
    kiosk._mqtt._sock.close()  # the cable is pulled: no goodbye
    wait_until(lambda: live.devices["kiosk-5"].body["status"] == "offline", timeout=60, what="its last will")
    after = time.time()
    rows = {r["device"]: r for r in sign_in(app, "tin").get("/fleet?format=json").json()["devices"]}
    seen = {health.local(iso_ts(t)) for t in range(int(before), int(after) + 1)}
    assert rows["kiosk-5"]["status"] == "offline" and rows["kiosk-5"]["since"] in seen, (rows["kiosk-5"], seen)


def test_ward_it_prints_a_test_ticket_on_a_kiosk_from_the_fleet_page(console: tuple, kiosk_core, printer) -> None:  # noqa: ANN001
    live, _, app = console
    kiosk = kiosk_core.bus.device
    wait_until(lambda: kiosk in live.devices, what="the kiosk on the fleet page")
    tin = sign_in(app, "tin")
    page = tin.get("/fleet").text
    row = re.search(rf'<tr[^>]*data-device="{kiosk}">(.*?)</tr>', page, re.S).group(1)  # type: ignore[union-attr]
    assert 'data-command="test_print">In thử</button>' in row
    assert 'data-command="test_print"' not in re.search(r'<tr[^>]*data-device="hub">(.*?)</tr>', page,
                                                           re.S).group(1)  # type: ignore[union-attr]
    answer = tin.post(f"/fleet/{kiosk}/test_print", headers={"x-csrftoken": token(tin, "/fleet")})
    assert answer.status_code == 200 and answer.json()["result"]["printed"] is True, answer.text
    assert len(printer.jobs) == 1
    refused = tin.post("/fleet/hub/test_print", headers={"x-csrftoken": token(tin, "/fleet")})
    assert refused.status_code == 400 and not refused.json()["ok"]


def save_account(c: TestClient, name: str, **fields: str):  # noqa: ANN201
    form = {"csrftoken": token(c, "/accounts"), "name": name, "op": "save", **fields}
    c.post("/accounts", data=form, follow_redirects=False)
    return html.unescape(c.get("/accounts").text)


def test_an_admin_moves_an_officer_to_another_counter_and_renames_them(console: tuple) -> None:
    _, accounts, app = console
    quan = sign_in(app, "quan")
    page = save_account(quan, "mai", display="Nguyễn Thị Mai (Tư pháp)", role="officer", counters="2, 3")
    assert "Đã lưu tài khoản mai." in page
    mai = accounts.get("mai")
    assert (mai.display, mai.role, mai.counters) == ("Nguyễn Thị Mai (Tư pháp)", "officer", (2, 3))
    assert accounts.sign_in("mai", PASSWORD, "127.0.0.1").name == "mai"  # the password left as it was
    officer = sign_in(app, "mai")
    assert officer.get("/counter/2").status_code == 200 and officer.get("/counter/1").status_code == 403
    assert any(e["action"] == "account.change" and e["detail"].get("counters") == [2, 3] for e in accounts.audit())
    log = quan.get("/audit").text  # in words for the ward's admins, not the JSON it is kept as
    assert "Họ tên: Nguyễn Thị Mai (Tư pháp) · Vai trò: Cán bộ một cửa · Quầy: 2, 3" in log, log
    assert '"counters"' not in log and "[2, 3]" not in log
    quan.post("/lang", data={"lang": "en", "csrftoken": token(quan, "/audit")}, follow_redirects=False)
    assert "Name shown: Nguyễn Thị Mai (Tư pháp) · Role: Officer · Counters: 2, 3" in quan.get("/audit").text


@pytest.mark.parametrize(("fields", "problem"), [
    ({"display": "Mai", "role": "officer", "counters": "1, x"}, "'x' is not a counter number"),
    ({"display": "Mai", "role": "officer", "counters": ""}, "an officer needs the counters"),
    ({"display": "Mai", "role": "boss", "counters": "1"}, "role 'boss' is not one of"),
    ({"display": "", "role": "officer", "counters": "1"}, "display: required"),
    ({"display": "Mai", "role": "officer", "counters": "1", "password": "short"}, "at least 10 characters"),
])
def test_a_wrong_account_change_is_refused_naming_what_is_wrong(console: tuple, fields: dict, problem: str) -> None:
    _, accounts, app = console
    before = accounts.get("mai")
    page = save_account(sign_in(app, "quan"), "mai", **fields)
    assert problem in page and accounts.get("mai") == before


def test_an_admin_cannot_lock_themselves_out(console: tuple) -> None:
    _, accounts, app = console
    quan = sign_in(app, "quan")
    assert "may not change their own role" in save_account(quan, "quan", display="Quản", role="officer",
                                                            counters="1")
    quan.post("/accounts", data={"csrftoken": token(quan, "/accounts"), "name": "quan", "op": "disable"})
    assert accounts.get("quan").role == "admin" and not accounts.get("quan").disabled
    assert 'data-account="quan"' in quan.get("/accounts").text  # no lock button on their own row


def test_every_action_the_audit_log_records_is_said_in_words() -> None:
    from console.i18n import audit_said
    from console.views.counter import ACTIONS
    from console.views.fleet import COMMANDS, ROLE_COMMANDS

    recorded = ["sign_in", "sign_in.failed", "sign_out", "account.add", "account.change",
                *(f"admin.{a}" for a in ("services", "counters", "notice", "hours", "catalogue")),
                *(f"counter.{a}" for a in ACTIONS),
                *(f"device.{c}" for c in (*COMMANDS, *(c for cs in ROLE_COMMANDS.values() for c in cs), "log_level"))]
    for action in recorded:
        assert all(audit_said(action, lang) != action for lang in ("vi", "en")), action
    assert audit_said("counter.call_next", "vi") == "Quầy: Gọi tiếp"
    assert audit_said("something.new", "vi") == "something.new"  # unknown: as recorded


def test_an_audit_entry_s_detail_reads_in_words() -> None:
    from console.i18n import audit_detail

    refused = {"ok": False, "message": "Quầy đang tạm nghỉ", "expect": 0}  # a counter action, as recorded
    said = "Kết quả: không được · Trả lời: Quầy đang tạm nghỉ · Vé trên màn hình (mã): không có"
    assert audit_detail(refused, "vi") == said
    assert audit_detail({"ok": True, "expect": 12}, "en") == "Outcome: done · Ticket on the screen (id): 12"
    assert audit_detail({"role": "it", "counters": []}, "en") == "Role: Ward IT · Counters: —"
    assert audit_detail({"disabled": True, "password": "changed"}, "vi") == "Khoá: có · Mật khẩu: đã đổi"
    assert audit_detail({"something_new": 3}, "en") == "something_new: 3" and audit_detail({}, "vi") == ""


def test_a_counter_numbered_in_other_digits_is_refused(console: tuple, hub: HubService) -> None:
    """'²' and '٣' pass str.isdigit(); a counter number is 0-9 only."""
    _, _, app = console
    quan = sign_in(app, "quan")
    for ident in ("²", "٣"):
        answer = quan.post("/admin/counters", data={"id.0": ident, "name_vi.0": "Quầy", "name_en.0": "Counter",
                                                    "services.0": "HT", "csrftoken": token(quan, "/admin")})
        assert answer.status_code == 200 and "a counter number" in answer.text
    assert hub.settings.history() == []


@pytest.mark.parametrize(("wanted", "went"), [
    ("/stats?by=counter", "/stats?by=counter"),
    ("/\\evil.example", "/"),  # a browser reads "/\" as "//": another site
    ("/\t/evil.example", "/"),  # a browser drops the tab: "//evil.example"
    ("//evil.example", "/"), ("https://evil.example/", "/"),
])
def test_after_signing_in_the_way_back_stays_on_the_console(console: tuple, wanted: str, went: str) -> None:
    _, _, app = console
    c = client(app)
    answer = c.post("/login", data={"account": "quan", "password": PASSWORD, "csrftoken": token(c), "next": wanted},
                    follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == went


def test_an_officer_changes_their_own_password(console: tuple) -> None:
    _, accounts, app = console
    mai = sign_in(app, "mai")
    assert 'href="/password"' in mai.get("/counter/1").text  # their name in the header leads there

    def change(current: str, new: str, again: str) -> str:
        answer = mai.post("/password", data={"current": current, "new": new, "again": again,
                                             "csrftoken": token(mai, "/password")})
        return html.unescape(answer.text)

    assert "Sai tài khoản hoặc mật khẩu." in change("not-my-password", "mật-khẩu-mới-dài-2", "mật-khẩu-mới-dài-2")
    assert "không giống nhau" in change(PASSWORD, "mật-khẩu-mới-dài-2", "mật-khẩu-mới-dài-3")
    assert "at least 10 characters" in change(PASSWORD, "ngắn", "ngắn")
    assert accounts.sign_in("mai", PASSWORD, "127.0.0.1").name == "mai"  # none of those changed it
    assert "Đã đổi mật khẩu." in change(PASSWORD, "mật-khẩu-mới-dài-2", "mật-khẩu-mới-dài-2")
    assert accounts.sign_in("mai", "mật-khẩu-mới-dài-2", "127.0.0.1").name == "mai"
    assert accounts.sign_in("mai", PASSWORD, "127.0.0.2").reason == "wrong"
    assert any(e["action"] == "account.change" and e["account"] == "mai" for e in accounts.audit())


def test_a_password_changed_ends_the_account_s_other_sessions(console: tuple) -> None:
    _, _, app = console
    at_counter, at_home = sign_in(app, "mai"), sign_in(app, "mai")  # two PCs
    new = "mật-khẩu-mới-dài-2"
    answer = at_counter.post("/password", data={"current": PASSWORD, "new": new, "again": new,
                                                "csrftoken": token(at_counter, "/password")})
    assert "Đã đổi mật khẩu." in html.unescape(answer.text)
    assert at_counter.get("/counter/1").status_code == 200  # where it was changed: still signed in
    assert at_home.get("/counter/1", follow_redirects=False).headers["location"].startswith("/login")
    quan = sign_in(app, "quan")  # an admin setting it ends the officer's sessions too
    save_account(quan, "mai", display="Nguyễn Thị Mai", role="officer", counters="1", password="mật-khẩu-mới-dài-3")
    assert at_counter.get("/counter/1", follow_redirects=False).headers["location"].startswith("/login")
    assert quan.get("/accounts").status_code == 200


def test_an_accounts_file_from_before_opens_and_its_accounts_sign_in(tmp_path) -> None:  # noqa: ANN001
    import sqlite3

    from console.accounts import HASHER, Accounts

    path = tmp_path / "console.db"
    with sqlite3.connect(path) as db:  # the table as it was before passwords dated their sessions
        db.execute("CREATE TABLE accounts (name TEXT PRIMARY KEY, display TEXT NOT NULL, role TEXT NOT NULL, "
                   "counters TEXT NOT NULL DEFAULT '[]', hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, "
                   "created REAL NOT NULL, changed REAL NOT NULL)")
        db.execute("INSERT INTO accounts VALUES ('mai', 'Mai', 'officer', '[1]', ?, 0, 1, 1)", (HASHER.hash(PASSWORD),))
    accounts = Accounts(path)
    try:
        assert accounts.get("mai").password_at == 0.0  # type: ignore[union-attr]
        assert accounts.sign_in("mai", PASSWORD, "127.0.0.1").counters == (1,)  # type: ignore[union-attr]
    finally:
        accounts.close()


def test_guessing_the_current_password_is_slowed_as_at_sign_in(console: tuple) -> None:
    _, _, app = console
    mai = sign_in(app, "mai")
    answers = [mai.post("/password", data={"current": f"guess-{i}", "new": "mật-khẩu-mới-dài-2",
                                           "again": "mật-khẩu-mới-dài-2", "csrftoken": token(mai, "/password")})
               for i in range(6)]
    assert [a.status_code for a in answers] == [400] * 5 + [429]
    assert "Thử lại sau" in answers[-1].text


def test_officers_have_a_guide_to_their_screen_made_from_its_own_buttons(console: tuple) -> None:
    """An officer new to the screen reads what each button and key does, in the page's language, from the nav; the
    guide is made from the buttons and keys the screen has, so it cannot say a key the screen does not take."""
    from console.views.counter import ACTIONS, SHORTCUTS

    _, _, app = console
    mai = sign_in(app, "mai")
    assert '<a href="/help"' in mai.get("/counter/1").text
    page = mai.get("/help").text
    rows = re.findall(r'<tr data-action="(\w+)"><th>([^<]+)</th><td class="key"><kbd>(\w)</kbd></td><td>([^<]+)</td>',
                      page)
    assert [(a, k) for a, _, k, _ in rows] == [(a, SHORTCUTS[a]) for a in ACTIONS]
    said = {a: (word, does) for a, word, _, does in rows}
    assert said["call_next"][0] == "Gọi tiếp" and "gọi số tiếp theo" in said["call_next"][1]
    assert said["skip"][0] == "Để sau" and "cuối hàng" in said["skip"][1]
    assert "Thiết bị trong phòng cần xem" in page and "giữ phím" in page
    mai.post("/lang", data={"lang": "en", "csrftoken": token(mai, "/help")}, follow_redirects=False)
    english = mai.get("/help").text
    assert "<h1>The counter screen: a guide</h1>" in english and "<th>Next</th>" in english
    assert sign_in(app, "tin").get("/help").status_code == 403  # ward IT has no counter


def test_a_page_can_ask_whether_it_is_still_signed_in(console: tuple) -> None:
    """A page whose live stream was refused asks /session, to say "signed out" rather than "reconnecting" for ever."""
    _, _, app = console
    assert sign_in(app, "mai").get("/session").json() == {"account": "mai", "role": "officer"}
    with TestClient(app) as nobody:
        answer = nobody.get("/session")
    assert answer.status_code == 401 and answer.json()["error"] == "sign_in"
