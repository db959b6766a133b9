# What ward IT should look at on a device, in plain words (English or Vietnamese), from the state it published.
from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from bus.messages import SCHEMA_VERSION, Message, iso_ts

STATE_EVERY = 60.0  # devices refresh their retained state this often (bus/client.py)
STALE_AFTER_S = 3 * STATE_EVERY
LOW_DISK_MB = 200  # a year of a ward's history is about 45 MB (docs/performance.md)
HOT_C = 80.0  # a Raspberry Pi slows its processor from 80 °C and stops it at 85
SLOW_COMMIT_MS = 1000  # a hub's write this slow keeps every answer waiting: a worn or failing SD card
BACKUP_STALE_H = 48  # a hub backed up nightly (docs/deploy.md, section 8) missed two nights
ROOM_ROLES = ("kiosk", "display", "rating", "desk", "bridge")  # devices in the waiting room or at its counters


def problems(role: str, status: str, detail: dict[str, Any], age_s: float | None = None,
             lang: str = "en", room: bool = False) -> list[str]:
    """What needs attention on one device. `age_s` is how old its state is: an old "online" means it went quiet.
    With `room`, only what a person in the waiting room can see to — a device of ROOM_ROLES switched off or gone
    quiet, a kiosk's paper, a board's speaker, a counter unit's cable — for the officers' screens."""
    if room and role not in ROOM_ROLES:
        return []
    found: list[tuple[str, str]] = []
    if status != "online":
        why = detail["reason"] if isinstance(detail.get("reason"), str) else "said goodbye"
        return [f"offline ({why})" if lang == "en" else f"ngoại tuyến ({_vi(why)})"]
    if age_s is not None and age_s > STALE_AFTER_S:
        found.append((f"no news for {age_s / 60:.0f} min by its clock (device or its network down, or its clock "
                      "behind: no time server?)",
                      f"không có tin {age_s / 60:.0f} phút theo đồng hồ của thiết bị (thiết bị hoặc mạng có thể đã "
                      "ngừng, hoặc đồng hồ bị chậm: không có máy chủ thời gian?)"))
    if room:
        return [en if lang == "en" else vi for en, vi in found + _room_problems(role, detail)]
    if detail.get("outbox"):
        found.append((f"{detail['outbox']} messages waiting for an answer",
                      f"{detail['outbox']} tin đang chờ được trả lời"))
    if detail.get("outbox_in_memory"):
        found.append((f"data disk full or read-only: {detail['outbox_in_memory']} messages held in memory only (a "
                      "power cut would lose them; free space on the SD card, or replace a card gone read-only)",
                      f"thẻ nhớ đầy hoặc chỉ đọc: {detail['outbox_in_memory']} tin chỉ còn trong bộ nhớ (mất điện sẽ "
                      "mất; hãy giải phóng thẻ nhớ, hoặc thay thẻ đã chuyển sang chỉ đọc)"))
    copies = detail.get("damaged_copies")
    if isinstance(copies, dict) and isinstance(copies.get("files"), list) and copies["files"]:
        n = len(copies["files"])
        found.append((f"{n} damaged database cop{'y' if n == 1 else 'ies'} kept in {copies.get('folder')} by a "
                      "repair (check or replace the SD card, then remove them)",
                      f"{n} bản cơ sở dữ liệu hỏng được giữ trong {copies.get('folder')} (kiểm tra hoặc thay thẻ "
                      "nhớ, rồi xoá chúng)"))
    repaired = detail.get("repaired") if isinstance(detail.get("repaired"), list) else []
    for r in (r for r in repaired if isinstance(r, dict)):
        lost = f"{r.get('unreadable')} unreadable stretches lost" if r.get("unreadable") else "nothing lost"
        copy = f"; damaged copy kept as {r['damaged_copy']}" if r.get("damaged_copy") else ""
        at = local(str(r.get("at")))
        found.append((f"repaired a damaged {r.get('file')} at {at} ({r.get('problem')}): "
                      f"{r.get('rows_kept')} rows kept, {lost}{copy}",
                      f"đã sửa tệp hỏng {r.get('file')} lúc {at}: giữ {r.get('rows_kept')} dòng"))
    if isinstance(detail.get("screen_unseen"), str):  # hmi/screen.py
        found.append((f"shows nothing: it found no screen and draws into memory ('{detail['screen_unseen']}'; a "
                      "desktop holding the display, or the service without the video and render groups? its log says "
                      "more)",
                      f"không hiển thị gì: không tìm thấy màn hình, đang vẽ vào bộ nhớ ('{detail['screen_unseen']}'; "
                      "màn hình bị giao diện desktop chiếm, hoặc dịch vụ thiếu nhóm video và render? xem nhật ký)"))
    hot = detail.get("temperature_c")
    if isinstance(hot, int | float) and hot >= HOT_C:
        found.append((f"hot: {hot:g} °C (a Raspberry Pi slows itself from {HOT_C:g} °C and stops at 85: air around it, "
                      "a heatsink or a fan)",
                      f"quá nóng: {hot:g} °C (Raspberry Pi tự chạy chậm lại từ {HOT_C:g} °C và ngừng ở 85 °C: cần "
                      "thông gió, tản nhiệt hoặc quạt)"))
    if isinstance(detail.get("under_voltage_seen"), str):
        seen = local(detail["under_voltage_seen"])
        found.append((f"power supply too weak: its voltage dipped at {seen} (a Raspberry Pi's own supply: 5.1 V 3 A "
                      "for a Pi 4, 5 V 5 A for a Pi 5; a weak one corrupts SD cards)",
                      f"nguồn điện yếu: điện áp bị sụt lúc {seen} (dùng bộ nguồn chuẩn của Raspberry Pi: 5,1 V 3 A cho "
                      "Pi 4, 5 V 5 A cho Pi 5; nguồn yếu làm hỏng thẻ nhớ)"))
    found += _update_problems(detail.get("update"))
    found += _room_problems(role, detail) + _role_problems(role, detail)
    return [en if lang == "en" else vi for en, vi in found]


def across(rows: list[dict[str, Any]], lang: str = "en") -> list[dict[str, Any]]:
    """The fleet's rows with what only the ward as a whole shows added to them: a kiosk on another procedure
    catalogue than the hub sends (the hub's never reached it, or it refused it: its log says which)."""
    hub = next((r for r in rows if r["role"] == "hub" and r["status"] == "online"), None)
    sent = hub["detail"].get("catalogue") if hub is not None and isinstance(hub["detail"], dict) else None
    if type(sent) is not int:
        return rows
    for r in rows:
        has = r["detail"].get("catalogue") if isinstance(r["detail"], dict) else None
        if r["role"] == "kiosk" and r["status"] == "online" and type(has) is int and has != sent:
            r["problems"].append(
                f"procedure catalogue version {has}, the hub's is {sent} (the hub's has not reached it, or it "
                "refused it: see its log)" if lang == "en" else
                f"danh mục thủ tục phiên bản {has}, máy chủ đang dùng phiên bản {sent} (chưa nhận được hoặc đã từ "
                "chối: xem nhật ký của máy lấy số)")
    return rows


def _update_problems(update: Any) -> list[tuple[str, str]]:
    if not isinstance(update, dict):
        return []
    if update.get("state") == "rolled_back":
        return [(f"update to {update.get('failed')} rolled back to {update.get('release')}: {update.get('reason')}",
                 f"cập nhật lên {update.get('failed')} không thành, đã quay về {update.get('release')}: "
                 f"{update.get('reason')}")]
    if update.get("state") == "trial":
        return [(f"trying release {update.get('release')}: kept once healthy, else rolled back",
                 f"đang thử phiên bản {update.get('release')}: giữ lại nếu chạy tốt, nếu không sẽ quay về")]
    return []


def unknown_row(device: str, problem: str, role: str = "?", detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fleet row of a device whose state cannot be shown (never reported, or unreadable), saying why."""
    return {"device": device, "status": "unknown", "role": role, "version": "?", "update": "-", "since": "-",
            "problems": [problem], "detail": detail or {}}


def other_contract(device: str, contract: Any) -> dict[str, Any]:
    """The fleet row of a device whose messages speak another contract version than this motcua (it cannot be read,
    and the ward's other devices cannot read it either)."""
    return unknown_row(device, f"speaks contract v{contract}, this motcua v{SCHEMA_VERSION}: the ward cannot "
                               f"understand it; update it or the rest of the ward to one release",
                       detail={"contract": contract})


def _room_problems(role: str, detail: dict[str, Any]) -> list[tuple[str, str]]:
    """A role's problems that show in the waiting room: the fleet page's, and the officers' screens' too."""
    found: list[tuple[str, str]] = []
    if role == "display" and detail.get("hub") == "unreachable":
        found.append(("shows 'Mất kết nối': it cannot see the hub's state",
                      "đang hiện 'Mất kết nối': không thấy trạng thái của máy chủ"))
    voice = detail.get("voice") if role == "display" and isinstance(detail.get("voice"), dict) else {}
    if voice.get("failing"):
        found.append((f"calls shown but not spoken since {local(str(voice.get('since')))}: {voice['failing']} (the "
                      "speaker plugged in and on? [audio] device right?)",
                      f"số gọi chỉ hiện, không đọc được từ {local(str(voice.get('since')))}: {voice['failing']} (loa "
                      "đã cắm và bật? thiết bị âm thanh trong [audio] đúng?)"))
    if role == "kiosk":
        if detail.get("printer") not in (None, "ok"):  # paper_low too: a roll changed before it runs out
            found.append((f"printer: {detail['printer']}", f"máy in: {_vi(str(detail['printer']))}"))
        if detail.get("hub") == "unreachable":
            found.append(("cannot reach the hub (issuing offline numbers)",
                          "không liên lạc được máy chủ (đang cấp số ngoại tuyến)"))
    for unit in detail.get("units", []) if role == "bridge" and isinstance(detail.get("units"), list) else []:
        if isinstance(unit, dict) and unit.get("state") != "ready":
            why = f": {unit['last_error']}" if unit.get("last_error") else ""
            kind, state = str(unit.get("kind")), str(unit.get("state"))
            found.append((f"{kind} on counter {unit.get('counter')} is {state}{why}",
                          f"{_vi(kind)} ở quầy {unit.get('counter')}: {_vi(state)}{why}"))
    return found


def _role_problems(role: str, detail: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    gateway = detail.get("gateway")
    if role == "notify" and isinstance(gateway, dict) and not gateway.get("ok", True):
        since = local(str(gateway.get("since")))
        found.append((f"texts to phones failing since {since}: {gateway.get('error')} "
                      f"({detail.get('waiting')} waiting; they go out once the {gateway.get('kind')} gateway works)",
                      f"không gửi được tin nhắn từ {since}: {gateway.get('error')} "
                      f"({detail.get('waiting')} tin đang chờ gửi)"))
    db = detail.get("database") if role == "hub" and isinstance(detail.get("database"), dict) else {}
    if db.get("failing"):
        since = local(str(db.get("since")))
        found.append((f"database writes failing since {since}: {db['failing']} (disk full or read-only?)",
                      f"không ghi được cơ sở dữ liệu từ {since}: {db['failing']} (đĩa đầy?)"))
    elif isinstance(db.get("free_mb"), int) and db["free_mb"] < LOW_DISK_MB:
        found.append((f"data disk nearly full: {db['free_mb']} MB free",
                      f"đĩa dữ liệu sắp đầy: còn {db['free_mb']} MB"))
    last = db.get("last_backup") if isinstance(db.get("last_backup"), dict) else {}
    if isinstance(last.get("age_h"), int | float) and last["age_h"] >= BACKUP_STALE_H:
        found.append((f"last backup {last['age_h'] / 24:.0f} days ago, into {last.get('folder')} (is the backup disk "
                      "in? docs/deploy.md, section 8)",
                      f"lần sao lưu gần nhất cách đây {last['age_h'] / 24:.0f} ngày, vào {last.get('folder')} (ổ sao "
                      "lưu còn cắm không?)"))
    slowest = db.get("slowest_commit_ms")
    if isinstance(slowest, int | float) and slowest >= SLOW_COMMIT_MS:
        at = local(str(db.get("slowest_commit_at")))
        found.append((f"data disk slow: a write took {slowest / 1000:.1f} s at {at} (every "
                      "answer waited for it; check or replace the SD card)",
                      f"thẻ nhớ ghi chậm: một lần ghi mất {slowest / 1000:.1f} giây lúc {at} "
                      "(mọi câu trả lời phải chờ; hãy kiểm tra hoặc thay thẻ nhớ)"))
    store = detail.get("store") if role == "district" and isinstance(detail.get("store"), dict) else {}
    if store.get("failing"):
        since = local(str(store.get("since")))
        found.append((f"store cannot take writes since {since}: {store['failing']} (records wait with "
                      "the wards, unacknowledged; disk full or database server down?)",
                      f"không ghi được kho dữ liệu từ {since}: {store['failing']} (bản ghi chờ ở các "
                      "phường; đĩa đầy hoặc máy chủ CSDL ngừng?)"))
    zone = detail.get("clock_zone") if isinstance(detail.get("clock_zone"), dict) else {}
    if zone:  # a hub's or a collector's machine (bus/lifecycle.py)
        found.append((f"this machine's time zone is {zone.get('machine')}, its config's ({zone.get('zone')}) "
                      f"{zone.get('ward')}: its log, the times it shows and its timers (the nightly backup) are off "
                      f"the ward's clocks (sudo timedatectl set-timezone {zone.get('zone')})",
                      f"múi giờ của máy là {zone.get('machine')}, theo cấu hình ({zone.get('zone')}) là "
                      f"{zone.get('ward')}: nhật ký, giờ hiển thị và lịch hẹn giờ (sao lưu hằng đêm) lệch giờ phường "
                      f"(sudo timedatectl set-timezone {zone.get('zone')})"))
    if role == "hub" and detail.get("day_held"):
        found.append((f"numbering stays on {detail.get('day')}: {detail['day_held']} (set the hub's clock source "
                      "right: NTP, or a clock module)",
                      f"vẫn cấp số theo ngày {detail.get('day')}: đồng hồ vừa nhảy sang ngày mới khi còn công dân của "
                      "ngày đó trong phòng; sẽ sang ngày mới khi họ xong hoặc đến nửa đêm (kiểm tra nguồn giờ của máy "
                      "chủ: NTP hoặc mô-đun đồng hồ)"))
    clocks = detail.get("kiosk_clocks") if role == "hub" and isinstance(detail.get("kiosk_clocks"), dict) else {}
    for device, seen in clocks.items():
        if not isinstance(seen, dict) or not isinstance(h := seen.get("out_h"), int | float):
            continue
        (way, way_vi), at = ("behind", "chậm") if h < 0 else ("ahead of", "nhanh"), local(str(seen.get("at")))
        found.append((f"{device}'s clock was {abs(h):g} h {way} the hub's when it printed offline tickets at {at} "
                      "(give the ward a time source: NTP, or a clock module on the hub; meanwhile the hub files its "
                      "tickets by its own clock)",
                      f"đồng hồ của {device} {way_vi} hơn máy chủ {abs(h):g} giờ khi in số ngoại tuyến lúc {at} (cần "
                      "nguồn giờ cho phường: NTP hoặc mô-đun đồng hồ cho máy chủ; máy chủ vẫn xếp số theo đồng hồ "
                      "của mình)"))
    if role == "hub" and isinstance(detail.get("upstream"), dict):
        up = detail["upstream"]
        if up.get("backlog"):
            found.append((f"{up['backlog']} records not yet acknowledged upstream",
                          f"{up['backlog']} bản ghi chưa được cấp trên xác nhận"))
        if up.get("connected") is False:
            found.append(("upstream broker unreachable", "không liên lạc được máy chủ cấp trên"))
    return found


_WORDS_VI = {"said goodbye": "đã tắt đúng cách", "connection lost": "mất kết nối", "paper_out": "hết giấy",
             "cover_open": "nắp mở", "unplugged": "chưa cắm", "no_answer": "không trả lời", "paused": "tạm dừng",
             "paper_low": "sắp hết giấy (thay cuộn mới trước khi hết)", "offline": "đang tạm dừng",  # a kiosk's printer
             # a counter unit behind the bridge (firmware_bridge/): its kind, and its link's state
             "rating_keypad": "bàn phím đánh giá", "counter_keypad": "bàn phím gọi số", "led_display": "bảng số LED",
             "modbus_display": "bảng số LED (Modbus)", "closed": "chưa mở được cổng (dây cáp đã cắm?)",
             "syncing": "đang kết nối", "lost": "mất liên lạc (dây cáp còn cắm?)", "wrong_device": "sai loại thiết bị",
             "refused": "từ chối lệnh"}


def _vi(word: str) -> str:
    return _WORDS_VI.get(word, word)


def row(device: str, msg: Message, lang: str = "en", now: float | None = None,
        seen_lost: float | None = None, room: bool = False) -> dict[str, Any]:
    """One device's line in the fleet table, from its retained state; `seen_lost` is when a watcher that saw it
    online saw its last will arrive (the will does not say); `room`: only its problems a person in the room can
    see to (`problems`)."""
    body = msg.body
    detail = body["detail"] if isinstance(body.get("detail"), dict) else {}  # free-form: anything else says nothing
    age = age_s(msg.ts, now)
    update = detail.get("update") if isinstance(detail.get("update"), dict) else {}
    return {"device": device, "status": body["status"], "role": body.get("role", "?"),
            "version": body.get("version", "?"), "update": str(update.get("state", "-")),
            "since": since(msg, detail, seen_lost),
            "problems": problems(body.get("role", "?"), body["status"], detail, age, lang, room), "detail": detail}


def since(msg: Message, detail: dict[str, Any], seen_lost: float | None = None) -> str:
    """Since when a device is as its state says: running since it started (not its last refresh, a minute ago at
    most), or offline since it said goodbye. One that vanished left a last will the broker published at a time it
    does not say (the will's own time is when the device started): when a watcher saw it arrive, else "-"."""
    if msg.body["status"] == "online":
        return local(detail["up_since"] if isinstance(detail.get("up_since"), str) else msg.ts)
    if detail.get("reason") != "connection lost":
        return local(msg.ts)
    return local(iso_ts(seen_lost)) if seen_lost is not None else "-"


def age_s(ts: str, now: float | None = None) -> float | None:
    """Seconds since a state was published, by the device's clock; None if unreadable or in the future (a Pi
    without a real-time clock before NTP)."""
    try:
        age = (time.time() if now is None else now) - datetime.fromisoformat(ts).timestamp()
    except ValueError:
        return None
    return age if age >= 0 else None


def local(ts: str) -> str:
    """A time a device wrote (ISO 8601 with its offset) as this machine's local time reads, for people; anything
    else as it came. Every time in a problem goes through here: the fleet page and the logs read alike."""
    try:
        return datetime.fromisoformat(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return ts
