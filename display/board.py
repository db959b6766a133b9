# The waiting-room board: draws the hub's board state, highlights new calls, keeps the last state when offline.
from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pygame

from bus import estimate
from hmi.widgets import font, wrap

BG = (12, 32, 64)
PANEL = (20, 48, 92)
INK = (255, 255, 255)
SOFT = (170, 190, 220)
GOLD = (255, 204, 0)
FLASH = (176, 32, 38)
OFFLINE = (120, 60, 0)
PAGE_S = 8.0  # how long each page of a waiting list too long for its column stays up
RECENT_SHOWN = 6  # lines of the latest calls the side column shows (the hub keeps `recent_calls`, eight by default)
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


class Board:
    """Draws onto `surface`. `frame(now)` returns the rectangles it changed, or [] when nothing did."""

    def __init__(self, surface: pygame.Surface, english: bool = True, tz: str = "Asia/Ho_Chi_Minh",
                 highlight_s: float = 6.0, wall: Callable[[], float] = time.time) -> None:
        self.surface, self.english, self.tz, self.highlight_s, self.wall = surface, english, ZoneInfo(tz), \
            highlight_s, wall
        self.state: dict[str, Any] = {}
        self.flash: dict[str, float] = {}  # "counter:label" -> until (monotonic)
        self.online = False
        self.offline_since: float | None = None
        self.received_at: float | None = None
        self._dirty = True
        self._minute = -1  # the minute on the clock drawn, counted from the epoch
        self._ticker_x = 0.0
        self._ticker: pygame.Surface | None = None
        self.shown: dict[str, float] = {}  # "counter:label" -> monotonic time first drawn (for the bench)
        self.cards: list[pygame.Rect] = []  # where each counter's card was drawn last
        self._paged, self._page = False, -1  # whether the waiting list takes pages in turn; the page's tick drawn

    # -- inputs ----------------------------------------------------------------------------------------------
    def set_state(self, body: dict[str, Any]) -> None:
        if body.get("notice") != self.state.get("notice"):
            self._ticker = None
        self.state = body
        self.received_at = self.wall()
        self._dirty = True

    def call(self, ticket: dict[str, Any], counter: int, event: str, now: float) -> None:
        """Flashes `ticket` (a ticket event's body) on its counter's card at once, before the next board state
        arrives: the whole ticket, so the card never shows the new number beside the last ticket's service, and at
        the top of the latest calls, each ticket once, as the hub's next state will list it."""
        self.flash[f"{counter}:{ticket['label']}"] = now + self.highlight_s
        current = {c.get("counter"): c for c in self.state.get("counters", [])}
        if counter in current:
            current[counter]["ticket"] = ticket
        recent = self.state.get("recent")
        if recent is not None:
            latest = {"label": ticket["label"], "counter": counter, "service": ticket["service"], "event": event}
            others = [c for c in recent if c["label"] != ticket["label"]]
            self.state["recent"] = [latest, *others][:max(len(recent), RECENT_SHOWN)]
        self._dirty = True

    def set_online(self, online: bool) -> None:
        if online != self.online:
            self.online = online
            self.offline_since = None if online else self.wall()
            self._dirty = True

    def redraw(self) -> None:
        """The whole screen is drawn at the next frame (something was drawn over it)."""
        self._dirty = True

    # -- drawing ---------------------------------------------------------------------------------------------
    def frame(self, now: float) -> list[pygame.Rect]:
        minute = int(self.wall() // 60)  # every zone's offset is whole minutes: the local clock turns with it
        blinking = any(until > now for until in self.flash.values())
        self.flash = {k: v for k, v in self.flash.items() if v > now - 1}
        page = int(now // PAGE_S)
        if self._dirty or blinking or minute != self._minute or (self._paged and page != self._page):
            self._minute, self._page = minute, page
            self._dirty = False
            self._draw_all(now)
            return [self.surface.get_rect()]
        return [self._draw_ticker()] if self.state.get("notice") else []

    def _draw_all(self, now: float) -> None:
        w, h = self.surface.get_size()
        s = min(w / 1920, h / 1080)
        self.surface.fill(BG)
        header = self._header(w, s)
        top = header.bottom + int(16 * s)
        bottom = h - int(70 * s)
        left = pygame.Rect(int(24 * s), top, int(w * 0.6) - int(36 * s), bottom - top)
        right = pygame.Rect(left.right + int(24 * s), top, w - left.right - int(48 * s), bottom - top)
        self._counters(left, s, now)
        self._side(right, s, now)
        self._draw_ticker()
        self._footer(w, h, s)
        for key in self.flash:
            self.shown.setdefault(key, time.monotonic())

    def _header(self, w: int, s: float) -> pygame.Rect:
        band = pygame.Rect(0, 0, w, int(120 * s))
        pygame.draw.rect(self.surface, PANEL, band)
        ward, room = self.state.get("ward_vi") or "Bộ phận một cửa", int(w * 0.78) - int(28 * s)  # clear of the clock
        size, lines = fitted(ward, int(52 * s), room, max_lines=1, bold=True)
        if lines[0] == " ".join(unicodedata.normalize("NFC", ward).split()):  # whole on one line
            self._text(ward, (int(28 * s), int(14 * s)), size, INK, bold=True)
            if self.english and self.state.get("ward_en"):
                self._text(self.state["ward_en"], (int(28 * s), int(76 * s)), int(28 * s), SOFT, max_w=room)
        else:  # a long name (a centre's full title) in two lines, whole, in place of the English line
            size, lines = fitted(ward, int(42 * s), room, bold=True)
            lines = balanced(ward, font(size, True), room) or lines
            for i, line in enumerate(lines):
                self._text(line, (int(28 * s), int(6 * s) + i * int(size * 1.3)), size, INK, bold=True)
        local = self._local(self.wall())
        self._text(local.strftime("%H:%M"), (w - int(28 * s), int(8 * s)), int(64 * s), GOLD, bold=True,
                   anchor="topright")
        self._text(f"{WEEKDAYS[local.weekday()]}, {local:%d/%m/%Y}", (w - int(28 * s), int(80 * s)), int(28 * s),
                   SOFT, anchor="topright")
        return band

    def _counters(self, area: pygame.Rect, s: float, now: float) -> None:
        title = "ĐANG PHỤC VỤ" + (" · NOW SERVING" if self.english else "")
        self._text(title, area.topleft, int(34 * s), GOLD, bold=True)
        counters = self.state.get("counters", [])
        self.cards = card_rects(pygame.Rect(area.left, area.top + int(56 * s), area.width,
                                            area.bottom - area.top - int(56 * s)), len(counters), int(10 * s),
                                 int(150 * s))
        for c, card in zip(counters, self.cards, strict=False):
            self._card(c, card, s, now)

    def _card(self, c: dict[str, Any], card: pygame.Rect, s: float, now: float) -> None:
        """One counter: its name at the left (English under it where the card is tall enough), the number called
        in the middle, its service at the right; a card without a number says whether the counter is open."""
        ticket = c.get("ticket") or {}
        label = ticket.get("label", "")
        lit = label and self.flash.get(f"{c['counter']}:{label}", 0) > now and int(now * 2) % 2 == 0
        pygame.draw.rect(self.surface, FLASH if lit else PANEL, card, border_radius=int(12 * s))
        pad, side = int(min(20 * s, card.height * 0.15)), int(card.width * 0.3)  # name | number | service
        name_size = int(min(36 * s, card.height * 0.42))
        english = self.english and c.get("name_en") and card.height >= 100 * s
        name_top = card.centery - (int(name_size * 1.25 + 24 * s) if english else name_size * 1.3) // 2
        self._text(c.get("name_vi") or f"Quầy {c['counter']}", (card.left + pad, name_top), name_size, INK, bold=True,
                   max_w=side - pad)
        if english:
            self._text(c["name_en"], (card.left + pad, name_top + int(name_size * 1.3)), int(24 * s), SOFT,
                       max_w=side - pad)
        if label:
            self._text(label, (card.left + int(card.width * 0.48), card.centery),
                       int(min(96 * s, card.height * 0.75)), GOLD if not lit else INK, bold=True, anchor="center",
                       max_w=int(card.width * 0.32), whole=True)
            service = fitted(ticket.get("service_vi", ""), int(min(28 * s, card.height * 0.3)),
                             int(card.width * 0.32) - pad)
            self._lines(service, (card.right - pad, card.centery), INK if lit else SOFT,
                        anchor="midright")  # white on the flash's red: the soft blue was 3.6:1 there
        else:  # open with nobody called yet reads as open, not as an empty card
            idle = ("Tạm nghỉ", "Closed") if c.get("status") == "closed" else ("Đang mở", "Open")
            self._text(idle[0] + (f" · {idle[1]}" if self.english else ""),
                       (card.left + int(card.width * 0.52), card.centery), int(min(30 * s, card.height * 0.36)),
                       SOFT, anchor="center", max_w=int(card.width * 0.4))

    def _side(self, area: pygame.Rect, s: float, now: float) -> None:
        self._text("VỪA GỌI" + (" · LAST CALLED" if self.english else ""), area.topleft, int(30 * s), GOLD, bold=True)
        y = area.top + int(48 * s)
        names = {c["counter"]: c.get("name_vi") for c in self.state.get("counters", [])}
        for call in self.state.get("recent", [])[:RECENT_SHOWN]:  # each counter by the name its card shows
            where = names.get(call["counter"]) or f"Quầy {call['counter']}"
            self._text(f"{call['label']}  »  {where}", (area.left + int(8 * s), y), int(34 * s), INK,
                       max_w=area.width - int(8 * s))
            y += int(46 * s)
        y += int(20 * s)
        self._text("ĐANG CHỜ" + (" · WAITING" if self.english else ""), (area.left, y), int(30 * s), GOLD, bold=True)
        y += int(48 * s)
        hours = self.state.get("hours_vi", "")
        if hours:  # today's working hours at the foot of the column, so a wait across the break reads as it is
            if self.english and self.state.get("hours_en"):
                self._text(self.state["hours_en"], (area.left, area.bottom - int(34 * s)), int(24 * s), SOFT,
                           max_w=int(area.width * 0.7))  # clear of the "updated" time at the corner
            self._text(hours, (area.left, area.bottom - int(70 * s)), int(26 * s), INK, max_w=area.width)
        waiting = self.state.get("waiting", [])
        size, name_w = int(28 * s), int(area.width * 0.55)
        fits = [fitted(item["name_vi"], size, name_w) for item in waiting]  # laid out once: measured, then drawn
        heights = [max(int(42 * s), len(lines) * font(got).get_linesize() + int(6 * s)) for got, lines in fits]
        pages = pages_of(heights, area.bottom - int(120 if hours else 40) * s - y)
        self._paged = len(pages) > 1
        page = int(now // PAGE_S) % len(pages)
        if self._paged:  # more services than the column holds: each page in turn, and which one this is
            self._text(f"{page + 1}/{len(pages)}", (area.right, y - int(44 * s)), int(26 * s), SOFT,
                       anchor="topright")
        for i in pages[page]:
            span = wait_said(waiting[i].get("wait", {}))
            self._text(f"{waiting[i]['count']} người · {span}", (area.right, y), size, SOFT, anchor="topright")
            self._lines(fits[i], (area.left + int(8 * s), y), INK)
            y += heights[i]

    def _draw_ticker(self) -> pygame.Rect:
        w, h = self.surface.get_size()
        s = min(w / 1920, h / 1080)
        band = pygame.Rect(0, h - int(60 * s), w, int(60 * s))
        pygame.draw.rect(self.surface, PANEL, band)
        notice = self.state.get("notice", "")
        if notice:
            if self._ticker is None:
                # drawn once onto the band's colour: an opaque strip is copied each frame, not blended
                self._ticker = font(int(30 * s)).render(unicodedata.normalize("NFC", notice), True, INK, PANEL)
            self._ticker_x -= 3 * s
            if self._ticker_x < -self._ticker.get_width():
                self._ticker_x = w
            self.surface.blit(self._ticker, (int(self._ticker_x), band.centery - self._ticker.get_height() // 2))
        return band

    def _footer(self, w: int, h: int, s: float) -> None:
        dot = (60, 200, 90) if self.online else (200, 90, 60)
        y = h - int(66 * s)
        if not self.online:
            since = self._local(self.offline_since).strftime("%H:%M") if self.offline_since else "?"
            note = f"Mất kết nối từ {since} — đang hiển thị thông tin gần nhất"
            strip = pygame.Rect(int(24 * s), y - int(40 * s), int(w * 0.45), int(34 * s))
            pygame.draw.rect(self.surface, OFFLINE, strip, border_radius=int(8 * s))
            self._text(note, strip.center, int(22 * s), INK, anchor="center", max_w=strip.width - int(12 * s))
        pygame.draw.circle(self.surface, dot, (w - int(22 * s), y - int(10 * s)), int(7 * s))
        if self.received_at:
            updated = "Cập nhật " + self._local(self.received_at).strftime("%H:%M:%S")
            self._text(updated, (w - int(38 * s), y - int(22 * s)), int(18 * s), SOFT, anchor="topright")

    def _text(self, words: str, pos: tuple[int, int], size: int, colour: tuple, bold: bool = False,
              anchor: str = "topleft", max_w: int = 0, whole: bool = False) -> None:
        """`whole`: shrunk as far as it must be, never cut (a ticket's number)."""
        face = font(size, bold)
        words = unicodedata.normalize("NFC", words)
        floor = 12 if whole else max(12, int(size * 0.7))  # shrink a little to fit, never below readable; then cut
        while max_w and face.size(words)[0] > max_w and size > floor:
            size = int(size * 0.92)
            face = font(size, bold)
        while max_w and not whole and face.size(words)[0] > max_w and len(words) > 2:
            words = words[:-2].rstrip() + "…"
        image = face.render(words, True, colour)
        self.surface.blit(image, image.get_rect(**{anchor: pos}))

    def _lines(self, fit: tuple[int, list[str]], pos: tuple[int, int], colour: tuple, anchor: str = "topleft") -> int:
        """A name as `fitted` laid it out (its size, up to two lines), from `pos` down ("topleft") or centred on it
        at the right ("midright"); returns the height drawn."""
        size, lines = fit
        face = font(size)
        height = len(lines) * face.get_linesize()
        x, y = pos if anchor == "topleft" else (pos[0], pos[1] - height // 2)
        for line in lines:
            image = face.render(line, True, colour)
            self.surface.blit(image, image.get_rect(topleft=(x, y)) if anchor == "topleft" else
                              image.get_rect(topright=(x, y)))
            y += face.get_linesize()
        return height

    def _local(self, ts: float) -> datetime:
        return datetime.fromtimestamp(ts, self.tz)


def fitted(words: str, size: int, max_w: int, max_lines: int = 2, bold: bool = False) -> tuple[int, list[str]]:
    """A name for the board in at most `max_lines` lines of `max_w` pixels, read from across the room: at `size`,
    a little smaller if that keeps it whole (never under 85 %), else its last line cut with "…"."""
    words = unicodedata.normalize("NFC", words)
    floor = max(12, int(size * 0.85))
    while True:
        face = font(size, bold)
        lines = wrap(face, words, max_w)
        if (len(lines) <= max_lines and all(face.size(x)[0] <= max_w for x in lines)) or size <= floor:
            break
        size = max(floor, int(size * 0.92))
    if len(lines) > max_lines:
        lines = lines[:max_lines - 1] + [" ".join(lines[max_lines - 1:])]
    for i, line in enumerate(lines):
        while face.size(line)[0] > max_w and len(line) > 2:
            line = line[:-2].rstrip() + "…"
        lines[i] = line
    return size, lines or [""]


def balanced(words: str, face: pygame.font.Font, max_w: int) -> list[str]:
    """`words` in two lines as even as they go (not a last word alone), each within `max_w`; [] if none fits."""
    parts = unicodedata.normalize("NFC", words).split()
    splits = [(" ".join(parts[:i]), " ".join(parts[i:])) for i in range(1, len(parts))]
    fitting = [pair for pair in splits if max(face.size(x)[0] for x in pair) <= max_w]
    return list(min(fitting, key=lambda pair: max(face.size(x)[0] for x in pair))) if fitting else []


def pages_of(heights: list[int], room: int) -> list[list[int]]:
    """The waiting list's rows (their heights) split into pages: a row starts on a page while the rows above it
    leave it room to start (a last name in two lines may reach into the space kept below); at least one page."""
    pages: list[list[int]] = [[]]
    used = 0
    for i, height in enumerate(heights):
        if pages[-1] and used > room:
            pages.append([])
            used = 0
        pages[-1].append(i)
        used += height
    return pages


def card_rects(area: pygame.Rect, count: int, gap: int, tallest: int) -> list[pygame.Rect]:
    """Where each counter's card goes (a gap below and beside each): one column up to five counters, then two,
    filled row by row, each row at most `tallest` high."""
    columns = 1 if count <= 5 else 2  # three would leave the numbers too small to read across the room
    rows = max(1, -(-count // columns))
    width = (area.width - gap * (columns - 1)) // columns
    height = min(tallest, area.height // rows)
    return [pygame.Rect(area.left + (i % columns) * (width + gap), area.top + (i // columns) * height, width,
                        height - gap) for i in range(count)]


def wait_said(wait: dict) -> str:
    """A service's wait on the board: its range, or why there is none (the hours, no counter open), else a dash."""
    if wait.get("known"):
        if wait.get("closing"):
            return f"từ {wait['low_min']} phút"
        return f"{estimate.minutes(wait)} phút"
    return {"closed": "ngoài giờ", "after_closing": "không kịp hôm nay",
            "no_counter_open": "chưa mở quầy"}.get(wait.get("reason", ""), "—")
