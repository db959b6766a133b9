# The console's words in Vietnamese and English: every label, button and message a page or an answer shows.
from __future__ import annotations

from datetime import date
from typing import Any

from bus.rating_words import LEVEL_WORDS, REASON_WORDS

WORDS: dict[str, tuple[str, str]] = {
    "title": ("Bảng điều khiển một cửa", "One-stop console"),
    "sign_in": ("Đăng nhập", "Sign in"),
    "sign_out": ("Đăng xuất", "Sign out"),
    "account": ("Tài khoản", "Account"),
    "password": ("Mật khẩu", "Password"),
    "wrong": ("Sai tài khoản hoặc mật khẩu.", "Wrong account or password."),
    "disabled": ("Tài khoản đã bị khoá. Hỏi quản trị viên.", "This account is disabled. Ask an admin."),
    "too_many": ("Sai quá nhiều lần. Thử lại sau {wait} giây.", "Too many wrong tries. Try again in {wait} s."),
    "counter": ("Quầy", "Counter"),
    "counters": ("Quầy", "Counters"),
    "choose_counter": ("Chọn quầy làm việc", "Choose your counter"),
    "admin": ("Quản trị", "Admin"),
    "stats": ("Thống kê", "Statistics"),
    "fleet": ("Thiết bị", "Devices"),
    "accounts": ("Tài khoản", "Accounts"),
    "audit": ("Nhật ký", "Audit log"),
    "now_serving": ("Đang phục vụ", "Now serving"),
    "nobody": ("Chưa gọi ai", "Nobody called"),
    "waiting": ("Đang chờ", "Waiting"),
    "waited": ("đã chờ {min} phút", "waited {min} min"),
    "today": ("Hôm nay", "Today"),
    "called": ("Đã gọi", "Called"),
    "served": ("Đã phục vụ", "Served"),
    "no_shows": ("Vắng mặt", "No-shows"),
    "transfers": ("Chuyển", "Transfers"),
    "call_next": ("Gọi tiếp", "Next"),
    "recall": ("Gọi lại", "Recall"),
    "start": ("Bắt đầu", "Start"),
    "skip": ("Để sau", "Skip"),
    "no_show": ("Vắng mặt", "No-show"),
    "transfer": ("Chuyển", "Transfer"),
    "done": ("Xong", "Done"),
    "close": ("Tạm nghỉ", "Pause"),
    "open": ("Mở quầy", "Resume"),
    "to_service": ("Chuyển sang dịch vụ", "Transfer to service"),
    "reason": ("Lý do", "Reason"),
    "cancel": ("Huỷ", "Cancel"),
    "send": ("Gửi", "Send"),
    "closed": ("Quầy đang tạm nghỉ", "The counter is paused"),
    "lost_console": ("Mất kết nối với bảng điều khiển — đang thử lại…", "Lost the console — reconnecting…"),
    "lost_hub": ("Máy chủ một cửa không trả lời — chưa thể gọi số.", "The hub is not answering — no calls possible."),
    "not_sent": ("Chưa gửi: không liên lạc được máy chủ. Không có gì thay đổi.",
                 "Not sent: the hub is out of reach. Nothing changed."),
    "too_large": ("Chưa gửi: quá lớn cho một tin nhắn (danh mục có quá nhiều thủ tục). Không có gì thay đổi.",
                  "Not sent: too large for one message (a catalogue of too many procedures). Nothing changed."),
    "no_answer": ("Máy chủ không trả lời kịp. Xem lại màn hình trước khi bấm lại.",
                  "The hub did not answer in time. Check the screen before pressing again."),
    "not_yours": ("Bạn không được phân công quầy này.", "This counter is not yours."),
    "saved": ("Đã lưu (phiên bản {version}).", "Saved (version {version})."),
    "account_saved": ("Đã lưu tài khoản {name}.", "Account {name} saved."),
    "refused": ("Không được: {reason}", "Refused: {reason}"),
    "markup": ("Không được chứa mã HTML như <...>.", "Must not hold markup such as <...>."),
    "services": ("Dịch vụ", "Services"),
    "notice": ("Thông báo chạy trên bảng", "Board notice"),
    "hours": ("Giờ làm việc", "Working hours"),
    "hours_help": ("Mỗi dòng một quy tắc: ngày hoặc dãy ngày (mon, tue, wed, thu, fri, sat, sun), rồi các buổi "
                   "HH:MM-HH:MM. Ngày không có quy tắc là ngày nghỉ; để trống: luôn mở cửa. Thời gian chờ tính cả giờ "
                   "nghỉ trưa và báo khi có thể không kịp trong ngày.",
                   "One rule a line: a day or a run of days (mon, tue, wed, thu, fri, sat, sun), then its sessions "
                   "HH:MM-HH:MM. A day no rule names is closed; empty: always open. Waits count the lunch break and "
                   "say when they may not be reached today."),
    "catalogue": ("Thủ tục", "Procedures"),
    "save": ("Lưu", "Save"),
    "code": ("Mã", "Code"),
    "prefix": ("Chữ cái", "Letter"),
    "name_vi": ("Tên tiếng Việt", "Vietnamese name"),
    "name_en": ("Tên tiếng Anh", "English name"),
    "procedures": ("Mã thủ tục (cách nhau bởi dấu phẩy)", "Procedure codes (comma separated)"),
    "target": ("Thời hạn (phút)", "Target (min)"),
    "serves": ("Dịch vụ phục vụ", "Services served"),
    "documents": ("Giấy tờ cần mang (mỗi dòng một loại)", "Documents to bring (one per line)"),
    "fee": ("Lệ phí", "Fee"),
    "time": ("Thời gian giải quyết", "Time to resolve"),
    "from": ("Từ ngày", "From"),
    "to": ("Đến ngày", "To"),
    "by": ("Theo", "By"),
    "show": ("Xem", "Show"),
    "csv": ("Tải CSV", "Download CSV"),
    "xlsx": ("Tải Excel", "Download Excel"),
    "print": ("In báo cáo", "Print"),
    "prepared_by": ("NGƯỜI LẬP BIỂU", "PREPARED BY"),
    "approved_by": ("LÃNH ĐẠO ĐƠN VỊ", "APPROVED BY"),
    "sign_name": ("(Ký, ghi rõ họ tên)", "(signature and full name)"),
    "signed_on": ("Ngày {d} tháng {m} năm {y}", "{d} {month} {y}"),
    "service": ("Dịch vụ", "Service"),
    "officer": ("Cán bộ", "Officer"),
    "procedure": ("Thủ tục", "Procedure"),
    "ward": ("Toàn phường", "Whole ward"),
    "day": ("Ngày", "Day"),
    "hour": ("Giờ lấy số", "Hour taken"),
    "room": ("Thiết bị trong phòng cần xem", "Devices in the room to see to"),
    "help": ("Hướng dẫn", "Help"),
    "help_title": ("Hướng dẫn màn hình quầy", "The counter screen: a guide"),
    "button": ("Nút", "Button"),
    "key": ("Phím", "Key"),
    "does": ("Tác dụng", "What it does"),
    "good_to_know": ("Cần biết", "Good to know"),
    "mon": ("Thứ Hai", "Mon"), "tue": ("Thứ Ba", "Tue"), "wed": ("Thứ Tư", "Wed"), "thu": ("Thứ Năm", "Thu"),
    "fri": ("Thứ Sáu", "Fri"), "sat": ("Thứ Bảy", "Sat"), "sun": ("Chủ Nhật", "Sun"),
    "total": ("Tổng cộng", "Total"),
    "issued": ("Đã cấp số", "Issued"),
    "wait_p50": ("Chờ (trung vị, phút)", "Wait p50 (min)"),
    "wait_p90": ("Chờ (90%, phút)", "Wait p90 (min)"),
    "within_target": ("Đúng hạn", "Within target"),
    "satisfaction_rate": ("Tỷ lệ hài lòng", "Satisfied"),
    "reasons": ("Lý do không hài lòng", "Reasons given"),
    "no_data": ("Chưa có số liệu.", "No figures yet."),
    "cut": ("Chỉ hiện {shown} nhóm có nhiều lượt cấp số nhất; dòng Tổng cộng tính cả các nhóm còn lại.",
            "Only the {shown} groups with the most tickets are shown; the Total row counts the others too."),
    **LEVEL_WORDS,  # the statistics' columns
    **REASON_WORDS,
    "range": ("Số liệu từ {first} đến {last}", "Figures from {first} to {last}"),
    "range_day": ("Số liệu ngày {first}", "Figures for {first}"),
    "no_ratings": ("chưa có đánh giá", "no ratings yet"),
    "device": ("Thiết bị", "Device"),
    "role": ("Vai trò", "Role"),
    "status": ("Trạng thái", "Status"),
    "version": ("Phiên bản", "Version"),
    "since": ("Từ lúc", "Since"),
    "problems": ("Cần xem", "Needs attention"),
    "ok": ("Tốt", "OK"),
    "online": ("trực tuyến", "online"),
    "offline": ("ngoại tuyến", "offline"),
    "ping": ("Kiểm tra", "Ping"),  # the fleet page's commands ("status" above)
    "identify": ("Nhận diện", "Identify"),
    "reload": ("Nạp lại", "Reload"),
    "restart": ("Khởi động lại", "Restart"),
    "confirm_restart": ("Khởi động lại {device}? Thiết bị sẽ ngừng làm việc trong vài giây.",
                        "Restart {device}? It stops working for a few seconds."),
    "log_level": ("Đặt mức nhật ký", "Set log level"),
    "test_print": ("In thử", "Test print"),  # a kiosk's own
    "command_sent": ("{device}: {command} — {result}", "{device}: {command} — {result}"),
    "add": ("Thêm", "Add"),
    "name_shown": ("Họ tên", "Name shown"),
    "new_password": ("Mật khẩu mới", "New password"),
    "unchanged": ("(giữ nguyên)", "(unchanged)"),
    "change_password": ("Đổi mật khẩu", "Change password"),
    "current_password": ("Mật khẩu hiện tại", "Current password"),
    "new_again": ("Nhập lại mật khẩu mới", "New password again"),
    "passwords_differ": ("Hai lần nhập mật khẩu mới không giống nhau.", "The two new passwords differ."),
    "password_changed": ("Đã đổi mật khẩu.", "Password changed."),
    "disable": ("Khoá", "Disable"),
    "enable": ("Mở khoá", "Enable"),
    "when": ("Thời gian", "When"),
    "action": ("Việc", "Action"),
    "target_of": ("Đối tượng", "Target"),
    "details": ("Chi tiết", "Details"),
    "forbidden": ("Trang này không dành cho vai trò của bạn.", "This page is not for your role."),
    "bad_form": ("Biểu mẫu không hợp lệ: {problem}", "The form is not valid: {problem}"),
    "officer_role": ("Cán bộ một cửa", "Officer"),
    "admin_role": ("Quản trị viên", "Admin"),
    "it_role": ("Cán bộ CNTT", "Ward IT"),
    "stale": ("Màn hình chưa cập nhật: {reason}", "The screen was behind: {reason}"),
    "empty": ("Không còn ai chờ.", "Nobody is waiting."),
}
# the citizen's ticket page (console/views/phone.py, console/follow.py): plain words for someone waiting in a crowded
# room; a table of its own, as some keys (done, no_show, time, no_data) say something else to an officer
PHONE_WORDS: dict[str, tuple[str, str]] = {
    "your_ticket": ("Số thứ tự của bạn", "Your ticket"),
    "ahead": ("Còn {n} người trước bạn", "{n} ahead of you"),
    "next": ("Bạn là người tiếp theo", "You are next"),
    "far": ("Hơn {n} người trước bạn", "More than {n} ahead of you"),
    "placing": ("Đang cập nhật vị trí…", "Finding your place…"),
    "wait": ("Dự kiến chờ {span} phút", "Expected wait {span} min"),
    "wait_unknown": ("Chưa ước tính được thời gian chờ", "The wait is not known yet"),
    "wait_closing": ("Dự kiến chờ từ {lo} phút; có thể không kịp trong hôm nay",
                     "Expected wait from {lo} min; you may not be reached today"),
    "wait_after_closing": ("Có thể không kịp trong hôm nay", "You may not be reached today"),
    "wait_closed": ("Ngoài giờ làm việc", "Outside working hours"),
    "wait_no_counter": ("Chưa có quầy nào mở cho dịch vụ này", "No counter is open for it yet"),
    "go_to": ("Mời bạn đến {counter}", "Please go to {counter}"),
    "serving": ("Đang được phục vụ tại {counter}", "Being served at {counter}"),
    "done": ("Đã xong. Cảm ơn bạn!", "Done. Thank you!"),
    "no_show": ("Số của bạn đã được gọi nhưng bạn vắng mặt. Vui lòng hỏi cán bộ tiếp nhận.",
                "Your number was called while you were away. Please ask at the reception desk."),
    "transferred": ("Hồ sơ của bạn đã được chuyển sang {service}.", "Your case was moved to {service}."),
    "counter_n": ("Quầy {n}", "Counter {n}"),
    "not_found": ("Không tìm thấy số thứ tự này. Đường dẫn chỉ dùng được trong ngày lấy số.",
                  "Ticket not found. The link works only on the day the ticket was taken."),
    "unreachable": ("Chưa liên lạc được hệ thống xếp hàng. Trang sẽ tự thử lại.",
                    "The queue cannot be reached just now. This page tries again by itself."),
    "live_lost": ("Mất kết nối — đang thử lại…", "Connection lost — trying again…"),
    "sound_on": ("Bật âm báo khi đến lượt", "Sound an alert when it is my turn"),
    "sound_ready": ("Âm báo đã bật. Giữ trang này mở.", "Alert on. Keep this page open."),
    "bring": ("Giấy tờ cần mang", "What to bring"),
    "time": ("Thời hạn giải quyết", "Processing time"),
    "fee": ("Lệ phí", "Fee"),
    "portal": ("Xem trên Cổng Dịch vụ công quốc gia", "See it on the National Public Service Portal"),
    "no_data": ("Trang này không lưu thông tin cá nhân.", "This page holds no personal data."),
}
# the fleet page's device roles (bus/config.ROLES) in words
ROLE_WORDS: dict[str, tuple[str, str]] = {
    "hub": ("Máy chủ phường", "Ward hub"),
    "kiosk": ("Máy lấy số", "Ticket kiosk"),
    "display": ("Bảng hiển thị", "Waiting-room board"),
    "rating": ("Thiết bị đánh giá", "Rating device"),
    "desk": ("Nút gọi số tại quầy", "Counter buttons"),
    "bridge": ("Cầu nối thiết bị quầy", "Counter units' bridge"),
    "district": ("Máy thu thập cấp trên", "Upstream collector"),
    "console": ("Bảng điều khiển web", "Web console"),
    "notify": ("Nhắn tin báo lượt", "Turn notifier"),
}
# the officers' help page (/help): what each counter button does, then what the screen tells them
HELP: dict[str, tuple[str, str]] = {
    "call_next": ("Kết thúc vé đang ở quầy (nếu có) và gọi số tiếp theo; bảng hiển thị và loa gọi số.",
                  "Finishes the ticket at the counter, if any, and calls the next number; the board shows and "
                  "speaks it."),
    "recall": ("Gọi lại số vừa gọi: bảng đọc lại (có giới hạn số lần).",
               "Calls the same number again: the board speaks it again (a limited number of times)."),
    "start": ("Công dân đã đến quầy: bắt đầu giải quyết (thời gian chờ của công dân kết thúc ở đây).",
              "The citizen has come: service starts (their wait ends here)."),
    "skip": ("Công dân chưa đến: đưa số về cuối hàng (có giới hạn số lần).",
             "The citizen has not come: back to the end of the line (a limited number of times)."),
    "no_show": ("Công dân không đến: kết thúc vé.", "The citizen has not come: the ticket ends."),
    "transfer": ("Chuyển vé sang dịch vụ khác, kèm lý do; vé giữ nguyên chỗ trong hàng.",
                 "Sends the ticket to another service, with a reason; it keeps its place in line."),
    "done": ("Đã giải quyết xong; công dân đánh giá tại thiết bị đánh giá của quầy.",
             "The citizen is served; they rate the service on the counter's rating device."),
    "close": ("Tạm nghỉ: quầy không gọi số mới cho đến khi mở lại.", "Pauses the counter: no calls until resumed."),
    "open": ("Mở lại quầy sau khi tạm nghỉ.", "Opens the counter again after a pause."),
    "note_once": ("Một lần nhấn là một lệnh: giữ phím không gọi thêm ai, nhấn đúp không gọi hai số.",
                  "One press is one command: a key held down calls nobody more, a double click never calls two."),
    "note_grey": ("Nút mờ là nút chưa dùng được lúc này (chưa gọi ai thì không Gọi lại được).",
                  "A greyed-out button makes no sense now (no Recall with nobody called)."),
    "note_band": ("Dải đỏ ở đầu trang: máy chủ không trả lời hoặc mất kết nối — các nút bị khoá và không lệnh nào "
                  "được gửi sau; dải tự mất khi có lại kết nối.",
                  "A red band at the top: the hub is not answering or the link is lost — the buttons grey out and "
                  "no press is kept for later; it clears by itself."),
    "note_room": ("Khung \"Thiết bị trong phòng cần xem\": máy lấy số hết giấy, bảng hiển thị không đọc số, bàn "
                  "phím quầy tuột dây… — xử lý tại chỗ nếu được, nếu không hãy báo cán bộ công nghệ thông tin.",
                  "The \"Devices in the room to see to\" box: a kiosk out of paper, a board not speaking, a counter "
                  "unit's cable… — see to it if you can, otherwise tell ward IT."),
}
HELP_NOTES = ("note_once", "note_grey", "note_band", "note_room")

# the hub's refusal codes in words (its own reason follows in English)
HUB_CODES: dict[str, tuple[str, str]] = {
    "no_ticket": ("Quầy chưa có vé nào.", "The counter has no ticket."),
    "wrong_state": ("Vé không ở trạng thái cho phép việc này.", "The ticket is not in a state for this."),
    "recall_limit": ("Đã gọi lại đủ số lần cho phép.", "Recalled as often as allowed."),
    "skip_limit": ("Đã để sau đủ số lần; hãy đánh dấu vắng mặt.", "Skipped as often as allowed; mark a no-show."),
    "ticket_in_progress": ("Quầy còn vé đang phục vụ; hãy xong trước.", "The counter has a ticket; finish it."),
    "unknown_service": ("Dịch vụ không tồn tại.", "No such service."),
    "same_service": ("Vé đã thuộc dịch vụ này.", "The ticket is already in that service."),
    "invalid": ("Dữ liệu không hợp lệ.", "Not valid."),
    "in_use": ("Đang được dùng, chưa thể xoá.", "Still in use; cannot be removed."),
    "internal_error": ("Máy chủ gặp lỗi; chưa có gì thay đổi.", "The hub failed; nothing changed."),
}


def words(lang: str, table: dict[str, tuple[str, str]] = WORDS) -> dict[str, str]:
    """Every word of `table` in one language, for a template: {{ w.call_next }}."""
    i = 0 if lang == "vi" else 1
    return {key: pair[i] for key, pair in table.items()}


def say(key: str, lang: str, **values: Any) -> str:
    return WORDS[key][0 if lang == "vi" else 1].format(**values)


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # the word keys, Monday first as date.weekday() counts


def day_said(day: str, lang: str) -> str:
    """A day as its readers write it: 07/12/2026 in Vietnamese (day first), 7 Dec 2026 in English — never the
    browser's own order, which on a PC set to English (US) reads 12/07/2026."""
    d = date.fromisoformat(day)
    return f"{d.day:02}/{d.month:02}/{d.year}" if lang == "vi" else f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}"


def role_said(role: str, lang: str) -> str:
    """A device's role in words; one this console does not know, as its device says it."""
    pair = ROLE_WORDS.get(role)
    return pair[0 if lang == "vi" else 1] if pair else role


AUDIT_WORDS: dict[str, tuple[str, str]] = {  # the audit log's own actions; the rest are "area: what" below
    "sign_in": ("Đăng nhập", "Signed in"), "sign_in.failed": ("Đăng nhập sai", "Failed sign-in"),
    "sign_out": ("Đăng xuất", "Signed out"), "account.add": ("Thêm tài khoản", "Account added"),
    "account.change": ("Sửa tài khoản", "Account changed"),
}
AUDIT_AREAS = {"counter": "counter", "admin": "admin", "device": "fleet"}
AUDIT_DETAIL: dict[str, tuple[str, str]] = {  # the fields an entry's detail holds; any other is shown as recorded
    "display": ("Họ tên", "Name shown"), "role": ("Vai trò", "Role"), "counters": ("Quầy", "Counters"),
    "disabled": ("Khoá", "Disabled"), "password": ("Mật khẩu", "Password"), "ok": ("Kết quả", "Outcome"),
    "message": ("Trả lời", "Answer"), "result": ("Kết quả", "Result"),
    "expect": ("Vé trên màn hình (mã)", "Ticket on the screen (id)"),
}
AUDIT_VALUES: dict[tuple[str, Any], tuple[str, str]] = {
    ("ok", True): ("được", "done"), ("ok", False): ("không được", "refused"), ("expect", 0): ("không có", "none"),
    ("disabled", True): ("có", "yes"), ("disabled", False): ("không", "no"),
    ("password", "changed"): ("đã đổi", "changed"),
    **{("role", r): WORDS[f"{r}_role"] for r in ("officer", "admin", "it")},
}


def audit_said(action: str, lang: str) -> str:
    """An audit log action in words ("Quầy: Gọi tiếp"); one this console has no words for, as it was recorded."""
    i = 0 if lang == "vi" else 1
    if action in AUDIT_WORDS:
        return AUDIT_WORDS[action][i]
    area, _, what = action.partition(".")
    if area in AUDIT_AREAS and what in WORDS:
        return f"{WORDS[AUDIT_AREAS[area]][i]}: {WORDS[what][i]}"
    return action


def audit_detail(detail: Any, lang: str) -> str:
    """An audit entry's detail for people ("Vai trò: Cán bộ một cửa · Quầy: 2, 3"), in the order recorded."""
    if not isinstance(detail, dict):
        return "" if detail is None else str(detail)
    i = 0 if lang == "vi" else 1
    parts = []
    for key, value in detail.items():
        if isinstance(value, list):
            shown = ", ".join(map(str, value)) or "—"
        else:
            pair = AUDIT_VALUES.get((key, value)) if isinstance(value, str | int | bool) else None
            shown = pair[i] if pair else "—" if value is None or value == "" else str(value)
        parts.append(f"{AUDIT_DETAIL[key][i] if key in AUDIT_DETAIL else key}: {shown}")
    return " · ".join(parts)


def phone_say(key: str, lang: str, **values: Any) -> str:
    """A sentence of the citizen's ticket page."""
    return PHONE_WORDS[key][0 if lang == "vi" else 1].format(**values)


def hub_refusal(code: str, reason: str, lang: str) -> str:
    pair = HUB_CODES.get(code)
    text = pair[0 if lang == "vi" else 1] if pair else code
    return f"{text} ({reason})"
