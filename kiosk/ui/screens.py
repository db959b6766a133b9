# Kiosk screens: each draws itself on the surface and returns the buttons a tap can hit.
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pygame

from bus.catalogue import Procedure
from bus.messages import PRIORITY_GROUPS
from hmi.widgets import ACCENT, CALM, INK, MUTED, OK_BG, PAPER, WARN_BG, Button, font, qr_surface, text, wrap, wrapped
from kiosk.core import KioskCore, TicketOutcome, mobile_number, wait_words

WORDS = {
    "vi": {"title": "Lấy số thứ tự", "choose": "Chạm vào dịch vụ bạn cần", "browse": "Tra cứu thủ tục",
           "lang": "English", "priority": "Ưu tiên:", "other": "Thủ tục khác", "back": "Quay lại",
           "printing": "Đang in vé, vui lòng chờ…", "your": "Số của bạn", "ahead": "Người chờ trước bạn",
           "wait": "Thời gian chờ dự kiến", "take": "Vui lòng nhận vé bên dưới", "done": "Xong",
           "failed": "Không in được vé. Vui lòng ghi nhớ số này.", "reprint": "In lại", "keep": "Giữ số này",
           "cancel": "Hủy", "prev": "‹ Trang trước", "next": "Trang sau ›",
           "more": "… và {n} giấy tờ khác: quét mã để xem đủ",
           "offline": "Đang hoạt động ngoại tuyến — vé vẫn được in và gọi theo thứ tự.",
           "scan": "Quét mã để xem giấy tờ cần mang", "documents": "Giấy tờ cần mang", "time": "Thời hạn",
           "fee": "Lệ phí", "ok": "Đồng ý", "unknown": "chưa rõ",
           "notify": "Nhắn tin cho tôi khi sắp đến lượt", "phone": "Số điện thoại di động của bạn",
           "consent": "Số này chỉ dùng để nhắn tin về lượt của bạn hôm nay và được xoá cuối ngày.",
           "send": "Gửi", "no_thanks": "Không, cảm ơn", "delete": "Xoá",
           "will_text": "Sẽ nhắn tin đến {phone} khi sắp đến lượt.",
           "refused": "Chưa lấy được số lúc này. Vui lòng hỏi cán bộ tiếp nhận.",
           "groups": {"elderly": "Người cao tuổi", "disability": "Người khuyết tật", "pregnant": "Phụ nữ mang thai",
                      "meritorious": "Người có công"}},
    "en": {"title": "Take a number", "choose": "Tap the service you need", "browse": "Procedures",
           "lang": "Tiếng Việt", "priority": "Priority:", "other": "Other procedure", "back": "Back",
           "printing": "Printing your ticket…", "your": "Your number", "ahead": "People ahead of you",
           "wait": "Expected wait", "take": "Please take your ticket below", "done": "Done",
           "failed": "The ticket could not be printed. Please note this number.", "reprint": "Print again",
           "keep": "Keep this number", "cancel": "Cancel", "prev": "‹ Previous", "next": "Next ›",
           "more": "… and {n} more: scan the code to see them all",
           "offline": "Working offline — tickets still print and are called in turn.",
           "scan": "Scan to see what to bring", "documents": "What to bring", "time": "Processing time",
           "fee": "Fee", "ok": "OK", "unknown": "unknown",
           "notify": "Text me when my turn is near", "phone": "Your mobile number",
           "consent": "Used only to text you about today's turn; deleted at the end of the day.",
           "send": "Send", "no_thanks": "No, thanks", "delete": "Delete",
           "will_text": "We will text {phone} when your turn is near.",
           "refused": "A number could not be taken just now. Please ask at the reception desk.",
           "groups": {"elderly": "Elderly", "disability": "Disability", "pregnant": "Pregnant",
                      "meritorious": "Meritorious service"}},
}


@dataclass
class View:
    """What the screen shows; the app changes it, the screens read it."""

    name: str = "home"
    lang: str = "vi"
    priority: str | None = None
    service: str = ""
    field_id: str = ""
    procedure: str = ""
    outcome: TicketOutcome | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def draw(surface: pygame.Surface, view: View, core: KioskCore) -> list[Button]:
    w, h = surface.get_size()
    scale = min(w / 1024, h / 600)
    surface.fill(PAPER)
    words = WORDS[view.lang]
    buttons = SCREENS[view.name](surface, view, core, scale, words)
    if not core.hub_ok and view.name in ("home", "services"):
        band = pygame.Rect(0, h - int(40 * scale), w, int(40 * scale))
        pygame.draw.rect(surface, OK_BG, band)
        text(surface, words["offline"], band.center, int(20 * scale), CALM, center=True)
    for button in buttons:
        button.draw(surface, scale)
    return buttons


def _header(surface: pygame.Surface, title: str, scale: float, words: dict, back: bool = False) -> list[Button]:
    w = surface.get_width()
    text(surface, title, (int(24 * scale), int(16 * scale)), int(40 * scale), INK, bold=True)
    buttons = [Button("lang", pygame.Rect(w - int(190 * scale), int(12 * scale), int(170 * scale), int(56 * scale)),
                      words["lang"], colour=(235, 240, 248))]
    if back:
        buttons.append(Button("back", pygame.Rect(w - int(380 * scale), int(12 * scale), int(170 * scale),
                                                  int(56 * scale)), words["back"], colour=(235, 240, 248)))
    return buttons


def _home(surface: pygame.Surface, view: View, core: KioskCore, scale: float, words: dict) -> list[Button]:
    w, h = surface.get_size()
    buttons = _header(surface, words["title"], scale, words)
    text(surface, words["choose"], (int(24 * scale), int(74 * scale)), int(24 * scale), MUTED)
    if said := core.hours_today(view.lang):  # so a wait that spans the lunch break reads as it is
        width = font(int(20 * scale)).size(said)[0]
        text(surface, said, (w - int(24 * scale) - width, int(78 * scale)), int(20 * scale), MUTED)
    problem = core.printer.last_status
    if not problem.can_print:
        band = pygame.Rect(int(24 * scale), int(104 * scale), w - int(48 * scale), int(36 * scale))
        pygame.draw.rect(surface, WARN_BG, band, border_radius=int(8 * scale))
        text(surface, problem.vi if view.lang == "vi" else problem.en, band.center, int(20 * scale), ACCENT,
             center=True)
    services = list(core.services.values())
    cols = 2 if len(services) <= 4 else 3 if len(services) <= 9 else 4 if len(services) <= 16 else 5  # tiles a finger
    rows = max(1, -(-len(services) // cols))
    top, bottom = int(150 * scale), h - int(150 * scale)
    gap = int(16 * scale)
    tile_w = (w - int(48 * scale) - gap * (cols - 1)) // cols
    tile_h = min(int(150 * scale), (bottom - top - gap * (rows - 1)) // rows)
    for i, svc in enumerate(services):
        r, c = divmod(i, cols)
        rect = pygame.Rect(int(24 * scale) + c * (tile_w + gap), top + r * (tile_h + gap), tile_w, tile_h)
        buttons.append(Button(f"service:{svc['code']}", rect, svc["name_vi" if view.lang == "vi" else "name_en"],
                              colour=(255, 235, 235) if view.priority else (255, 255, 255)))
    y = h - int(140 * scale)
    text(surface, words["priority"], (int(24 * scale), y + int(18 * scale)), int(22 * scale), INK, bold=True)
    gw = (w - int(200 * scale) - int(320 * scale)) // 4
    for i, group in enumerate(PRIORITY_GROUPS):
        rect = pygame.Rect(int(150 * scale) + i * (gw + int(8 * scale)), y, gw, int(64 * scale))
        chosen = view.priority == group
        buttons.append(Button(f"priority:{group}", rect, words["groups"][group],
                              colour=ACCENT if chosen else (255, 255, 255), ink=(255, 255, 255) if chosen else INK))
    buttons.append(Button("browse", pygame.Rect(w - int(300 * scale), y, int(276 * scale), int(64 * scale)),
                          words["browse"], colour=(235, 240, 248)))
    return buttons


def _procedures(surface: pygame.Surface, view: View, core: KioskCore, scale: float, words: dict) -> list[Button]:
    svc = core.services[view.service]
    buttons = _header(surface, svc["name_vi" if view.lang == "vi" else "name_en"], scale, words, back=True)
    procs = core.catalogue.for_service(view.service)
    items = [(f"take:{p.code}", p.name_vi if view.lang == "vi" else p.name_en, "") for p in procs]
    items.append(("take:", words["other"], ""))
    return buttons + _tiles(surface, view, scale, words, items, int(90 * scale), 2, int(110 * scale))


def _tiles(surface: pygame.Surface, view: View, scale: float, words: dict, items: list[tuple[str, str, str]],
           top: int, cols: int, tallest: int) -> list[Button]:
    """A list screen's tiles (action, label, sub) in `cols` columns below `top`, none shorter than a finger needs:
    what does not fit goes on further pages, turned by two buttons with "2/3" between them (`view.extra["page"]`)."""
    w, h = surface.get_size()
    gap, side, band = int(12 * scale), int(24 * scale), int(64 * scale)
    shortest = int(64 * scale)
    room = h - side - top
    rows = max(1, (room + gap) // (shortest + gap))
    if len(items) > rows * cols:  # pages: room kept at the foot for the buttons turning them
        room -= band + gap
        rows = max(1, (room + gap) // (shortest + gap))
    pages = -(-len(items) // (rows * cols))
    page = min(max(0, view.extra.get("page", 0)), pages - 1)
    view.extra["page"] = page
    shown = items[page * rows * cols:(page + 1) * rows * cols]
    if pages == 1:
        rows = -(-len(shown) // cols)
    tile_w, tile_h = (w - 2 * side - gap * (cols - 1)) // cols, min(tallest, (room - gap * (rows - 1)) // rows)
    buttons = [Button(action, pygame.Rect(side + c * (tile_w + gap), top + r * (tile_h + gap), tile_w, tile_h), label,
                      sub=sub) for (r, c), (action, label, sub) in ((divmod(i, cols), item)
                                                                     for i, item in enumerate(shown))]
    if pages > 1:
        y, width = h - side - band, int(260 * scale)
        buttons.append(Button("page:prev", pygame.Rect(side, y, width, band), words["prev"], enabled=page > 0))
        buttons.append(Button("page:next", pygame.Rect(w - side - width, y, width, band), words["next"],
                              enabled=page < pages - 1))
        text(surface, f"{page + 1}/{pages}", (w // 2, y + band // 2), int(26 * scale), MUTED, center=True)
    return buttons


def _printing(surface: pygame.Surface, view: View, core: KioskCore, scale: float, words: dict) -> list[Button]:
    w, h = surface.get_size()
    text(surface, words["printing"], (w // 2, h // 2), int(40 * scale), INK, bold=True, center=True)
    return []


def _ticket(surface: pygame.Surface, view: View, core: KioskCore, scale: float, words: dict) -> list[Button]:
    w, h = surface.get_size()
    out = view.outcome
    assert out is not None
    t = out.ticket
    failed = out.state == "print_failed"
    left = pygame.Rect(int(24 * scale), int(24 * scale), int(w * 0.6), h - int(48 * scale))
    text(surface, words["your"], (left.centerx, left.top + int(30 * scale)), int(34 * scale), MUTED, center=True)
    text(surface, t["label"], (left.centerx, left.top + int(170 * scale)), int(190 * scale), ACCENT, bold=True,
         center=True)
    ahead = words["unknown"] if t.get("ahead") is None else str(t["ahead"])
    y = left.top + int(266 * scale)  # then each line wrapped within the column, the next below it
    for line, size, bold in ((t["service_vi" if view.lang == "vi" else "service_en"], 36, True),
                             (f"{words['ahead']}: {ahead}", 28, False),
                             (f"{words['wait']}: {wait_words(t.get('wait', {}), view.lang)}", 28, False)):
        y = wrapped(surface, line, pygame.Rect(left.left, y, left.width, h), int(size * scale), INK, bold=bold,
                    center=True) + int(4 * scale)
    right = pygame.Rect(left.right + int(24 * scale), int(40 * scale), w - left.right - int(48 * scale), h)
    if failed:
        band = pygame.Rect(left.left, y + int(20 * scale), left.width, int(44 * scale))
        pygame.draw.rect(surface, WARN_BG, band, border_radius=int(8 * scale))
        text(surface, words["failed"], band.center, int(22 * scale), ACCENT, center=True)
        actions = (("reprint", (235, 240, 248)), ("keep", OK_BG), ("cancel", (255, 255, 255)))
        bh, gap = int(80 * scale), int(16 * scale)
        top = right.top + int(40 * scale)
        return [Button(a, pygame.Rect(right.left, top + i * (bh + gap), right.width, bh), words[a], colour=c)
                for i, (a, c) in enumerate(actions)]
    if out.data is not None and out.data.qr_url:
        size = min(right.width, int(260 * scale))
        surface.blit(qr_surface(out.data.qr_url, size), (right.centerx - size // 2, right.top))
        caption = out.data.qr_caption if core.page_of(out.ticket) else words["scan"]  # the ticket's own page: follow
        wrapped(surface, caption, pygame.Rect(right.left, right.top + size + int(8 * scale), right.width,
                                              int(80 * scale)), int(22 * scale), MUTED, center=True)
    text(surface, words["take"], (left.centerx, y + int(40 * scale)), int(26 * scale), CALM, center=True)
    buttons = [Button("done", pygame.Rect(right.left, h - int(100 * scale), right.width, int(72 * scale)),
                      words["done"], colour=OK_BG)]
    if view.extra.get("texting"):
        text(surface, words["will_text"].format(phone=view.extra["texting"]), (left.centerx, y + int(80 * scale)),
             int(22 * scale), CALM, center=True)
    elif core.kiosk.notify and not out.offline:
        buttons.append(Button("phone", pygame.Rect(right.left, h - int(190 * scale), right.width, int(72 * scale)),
                              words["notify"], colour=(235, 240, 248)))
    return buttons


def _phone(surface: pygame.Surface, view: View, core: KioskCore, scale: float, words: dict) -> list[Button]:
    """The citizen types a mobile number on a keypad, under a plain consent line; Send only when it is one."""
    w, h = surface.get_size()
    typed = view.extra.get("phone", "")
    text(surface, words["phone"], (int(24 * scale), int(16 * scale)), int(36 * scale), INK, bold=True)
    wrapped(surface, words["consent"], pygame.Rect(int(24 * scale), int(70 * scale), int(w * 0.5), int(90 * scale)),
            int(22 * scale), MUTED)
    box = pygame.Rect(int(24 * scale), int(170 * scale), int(w * 0.5), int(80 * scale))
    pygame.draw.rect(surface, (255, 255, 255), box, border_radius=int(8 * scale))
    text(surface, typed or "0…", box.center, int(48 * scale), INK if typed else MUTED, bold=True, center=True)
    keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0"]
    size, gap = int(96 * scale), int(10 * scale)
    left = w - int(24 * scale) - 3 * size - 2 * gap
    buttons = [Button(f"key:{k}", pygame.Rect(left + (i % 3) * (size + gap), int(24 * scale) + (i // 3) * (size + gap),
                                              size, size), words["delete"] if k == "del" else k)
               for i, k in enumerate(keys)]
    send = Button("send_phone", pygame.Rect(int(24 * scale), h - int(110 * scale), int(w * 0.25), int(80 * scale)),
                  words["send"], colour=OK_BG)
    send.enabled = mobile_number(typed) is not None
    return [*buttons, send, Button("ticket", pygame.Rect(int(48 * scale) + int(w * 0.25), h - int(110 * scale),
                                                         int(w * 0.25), int(80 * scale)), words["no_thanks"])]


def problem_words(out: TicketOutcome | None, lang: str) -> tuple[str, str]:
    """What the problem screen says: to the citizen in their language, and, small, the cause for the staff who
    help (a refusal's reason is the hub's or the kiosk's own, in English, never the citizen's message)."""
    if out is None:
        return "", ""
    if out.state == "refused":
        return WORDS[lang]["refused"], out.reason[:200]
    return (out.printer.vi if lang == "vi" else out.printer.en), ""


def _problem(surface: pygame.Surface, view: View, core: KioskCore, scale: float, words: dict) -> list[Button]:
    w, h = surface.get_size()
    message, cause = problem_words(view.outcome, view.lang)
    wrapped(surface, message, pygame.Rect(int(60 * scale), h // 3, w - int(120 * scale), h // 3), int(40 * scale),
            ACCENT, bold=True, center=True)
    if cause:
        wrapped(surface, cause, pygame.Rect(int(60 * scale), h * 2 // 3, w - int(120 * scale), h // 8),
                int(18 * scale), MUTED, center=True)
    return [Button("done", pygame.Rect(w // 2 - int(150 * scale), h - int(140 * scale), int(300 * scale),
                                       int(80 * scale)), words["ok"], colour=OK_BG)]


def _browse(surface: pygame.Surface, view: View, core: KioskCore, scale: float, words: dict) -> list[Button]:
    buttons = _header(surface, words["browse"], scale, words, back=True)
    items = [(f"field:{f.id}", f.name_vi if view.lang == "vi" else f.name_en, f"{len(f.procedures)}")
             for f in core.catalogue.fields]
    return buttons + _tiles(surface, view, scale, words, items, int(100 * scale), 2, int(120 * scale))


def _field(surface: pygame.Surface, view: View, core: KioskCore, scale: float, words: dict) -> list[Button]:
    f = next(x for x in core.catalogue.fields if x.id == view.field_id)
    view.extra["from"] = "field"
    buttons = _header(surface, f.name_vi if view.lang == "vi" else f.name_en, scale, words, back=True)
    items = [(f"procedure:{p.code}", p.name_vi if view.lang == "vi" else p.name_en, "") for p in f.procedures]
    return buttons + _tiles(surface, view, scale, words, items, int(96 * scale), 1, int(70 * scale))


def _procedure(surface: pygame.Surface, view: View, core: KioskCore, scale: float, words: dict) -> list[Button]:
    w, h = surface.get_size()
    p = core.catalogue.procedure(view.procedure)
    assert p is not None
    buttons = _header(surface, p.code, scale, words, back=True)
    area = pygame.Rect(int(24 * scale), int(84 * scale), int(w * 0.62), h - int(84 * scale) - int(12 * scale))
    blocks, shrink = procedure_blocks(p, view.lang, area.size, scale)
    y = area.top
    for b in blocks:
        y = wrapped(surface, b.words, pygame.Rect(area.left + int(b.indent * scale), y + int(b.gap * scale),
                                                  area.width - int(b.indent * scale), area.height),
                    int(b.size * scale * shrink), b.colour, bold=b.bold)
    size = min(int(w * 0.3), int(280 * scale))
    link = core.catalogue.link(p.code, core.kiosk.link_template)
    surface.blit(qr_surface(link, size), (w - size - int(30 * scale), int(110 * scale)))
    wrapped(surface, words["scan"], pygame.Rect(w - size - int(30 * scale), int(120 * scale) + size, size,
                                                int(90 * scale)), int(20 * scale), MUTED, center=True)
    return buttons


@dataclass(frozen=True)
class Block:
    """A paragraph of the procedure screen: its words, its size at scale 1, and the space before it."""

    words: str
    size: int
    colour: tuple = INK
    bold: bool = False
    indent: int = 0
    gap: int = 0


def procedure_blocks(p: Procedure, lang: str, room: tuple[int, int], scale: float) -> tuple[list[Block], float]:
    """The procedure screen's paragraphs fitted to `room` (width, height): its name, what to bring, time and fee,
    at full size or a tenth smaller; documents that still do not fit are left to the QR code, said in one line (time
    and fee always stay). Returns the paragraphs and the size they are drawn at (1.0 or 0.9)."""
    vi, words = lang == "vi", WORDS[lang]
    docs = p.documents_vi if vi else (p.documents_en or p.documents_vi)
    foot = [Block(f"{words[key]}: {value}", 22, gap=8) for key, value in
            (("time", p.time_vi if vi else p.time_en), ("fee", p.fee_vi if vi else p.fee_en))]
    for kept in range(len(docs), -1, -1):
        more = [Block(words["more"].format(n=len(docs) - kept), 22, MUTED, indent=10)] if kept < len(docs) else []
        blocks = [Block(p.name_vi if vi else p.name_en, 32, bold=True),
                  Block(words["documents"], 24, CALM, bold=True, gap=10),
                  *(Block(f"• {doc}", 22, indent=10) for doc in docs[:kept]), *more, *foot]
        for shrink in (1.0, 0.9):
            if _height(blocks, room[0], scale * shrink) <= room[1]:
                return blocks, shrink
    return blocks, 0.9  # a name too long for the screen: drawn as it is, cut at the foot


def _height(blocks: list[Block], width: int, scale: float) -> int:
    """How tall `blocks` stand wrapped to `width` at `scale`."""
    total = 0
    for b in blocks:
        face = font(int(b.size * scale), b.bold)
        total += int(b.gap * scale) + len(wrap(face, b.words, width - int(b.indent * scale))) * face.get_linesize()
    return total


SCREENS = {"home": _home, "services": _procedures, "printing": _printing, "ticket": _ticket, "problem": _problem,
           "browse": _browse, "field": _field, "procedure": _procedure, "phone": _phone}
