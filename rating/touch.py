# The touch rating terminal: big buttons per level, an optional "why" after a poor rating, thanks or a reason.
from __future__ import annotations

import time
from collections.abc import Callable

import pygame

from bus.client import BusClient
from bus.counter_watch import RATING_WINDOW_S, CounterWatch
from bus.messages import RATING_REASONS, Message
from bus.rating_words import SCALES
from hmi.identify import IdentifyOverlay
from hmi.screen import open_screen, tap_position
from hmi.widgets import ACCENT, CALM, INK, MUTED, OK_BG, PAPER, WARN_BG, Button, ink_on, text, wrapped
from rating.config import RatingSection
from rating.words import LANGS, REFUSALS, say

COLOURS = [(38, 128, 78), (120, 180, 90), (240, 190, 60), (225, 110, 60), (190, 40, 40)]  # each read with ink_on


def refusal_words(code: str, reason: str, lang: str = "vi") -> tuple[str, str]:
    """A refused rating as the terminal says it: in the citizen's language, and a cause the hub gave that is not
    foreseen here (in English) in small print for the staff, never as the citizen's message."""
    if code in REFUSALS:
        return say("refused", lang, why=say(code, lang)), ""
    return say("refused", lang, why=say("ask_staff", lang)), reason[:200]


class RatingApp:
    """One screen loop; ratings are sent durably and the hub's answer (thanks, or why not) is shown."""

    def __init__(self, bus: BusClient, counter: int, scale: int = 3, size: tuple[int, int] = (800, 480),
                 clock: Callable[[], float] = time.monotonic, follow_up: bool = True, ask_visits: bool = False,
                 fullscreen: bool = False) -> None:
        self.bus, self.counter, self.scale, self.clock, self.follow_up = bus, counter, scale, clock, follow_up
        self.ask_visits = ask_visits
        self.visits = 0
        self.screen = open_screen("motcua rating", fullscreen, size, bus)
        self.view, self.level, self.reasons = "ask", 0, set()
        self.lang = "vi"  # each citizen starts in Vietnamese; "English" switches until the next
        self.answer: Message | None = None
        self.buttons: list[Button] = []
        self.shown_at = clock()
        self._answers: list[Message] = []
        self.watch = CounterWatch(bus, counter, clock)
        self.seen: dict[str, object] = {}
        self.identify = IdentifyOverlay(bus.device)
        bus.on_reply(lambda m, _: self._answers.append(m) if m.type in ("rating.recorded", "error") else None)

    @classmethod
    def for_section(cls, bus: BusClient, section: RatingSection) -> RatingApp:
        """The terminal as its config describes it (full screen unless `rating.fullscreen = false`)."""
        return cls(bus, section.counter, section.scale, (section.screen_width, section.screen_height),
                   follow_up=section.follow_up, ask_visits=section.ask_visits, fullscreen=section.fullscreen)

    def tap(self, pos: tuple[int, int]) -> None:
        for b in self.buttons:
            if b.rect.collidepoint(pos):
                view = self.view
                self.act(b.action)
                if self.view != view:  # its buttons are gone: a tap that came with this one (a double tap) meets
                    self.buttons = []  # the next screen once it is drawn
                return

    def act(self, action: str) -> None:
        kind, _, arg = action.partition(":")
        if kind == "level":
            self.level = int(arg)
            self.seen = self.watch.hint()  # the ticket as it was at the tap, not after the follow-up
            poor = self.level >= (3 if self.scale == 3 else 4)
            if poor and self.follow_up:
                self.view = "why"
            else:
                self._next()
        elif kind == "reason":
            self.reasons ^= {arg}
        elif kind == "send":
            self._next()
        elif kind == "visits":
            self.visits = int(arg)
            self._send()
        elif kind == "lang":
            self.lang = LANGS[1 - LANGS.index(self.lang)]
        self.shown_at = self.clock()

    def _next(self) -> None:
        if self.ask_visits:
            self.view = "visits"
        else:
            self._send()

    def _send(self) -> None:
        body = {"counter": self.counter, "level": self.level, "scale": self.scale, **self.seen}
        if self.reasons:
            body["reasons"] = sorted(self.reasons)
        if self.visits:
            body["visits"] = self.visits
        self.bus.send_durable(self.bus.topics.rating, "rating.submit", body)
        self.view, self.answer = "sent", None

    def step(self) -> None:
        for event in pygame.event.get():
            if (pos := tap_position(event, self.screen)) is not None:
                self.tap(pos)
        if self._answers:
            self.answer = self._answers.pop()
        if self.view in ("why", "visits") and self.clock() - self.shown_at > 30:
            self._send()  # the level tapped is the rating: a follow-up left unanswered must not lose it
            self.shown_at = self.clock()
        elif self.view != "ask" and self.clock() - self.shown_at > (6 if self.view == "sent" else 30):
            self.view, self.level, self.reasons, self.answer, self.visits = "ask", 0, set(), None, 0
            self.lang = "vi"
        elif self.view == "ask" and self.lang != "vi" and self.clock() - self.shown_at > 30:
            self.lang = "vi"  # switched to English, then left without a rating: the next citizen's is Vietnamese
        self.draw()

    def question(self) -> str:
        """The question over the levels, naming the ticket it rates where the terminal knows it ("Quầy 1 · Số A012:
        …"): the citizen sees their own visit is the one rated, not the one before."""
        label = self.watch.label(RATING_WINDOW_S)  # a window the ward's hub may set otherwise
        return say("ask_ticket" if label else "ask", self.lang, counter=self.counter, label=label)

    def draw(self) -> None:
        s = self.screen
        w, h = s.get_size()
        k = min(w / 800, h / 480)
        s.fill(PAPER)
        self.buttons = []
        if self.view == "ask":
            wrapped(s, self.question(), pygame.Rect(int(20 * k), int(16 * k),
                    w - int(40 * k), int(80 * k)), int(30 * k), INK, bold=True, center=True)
            gap, n = int(14 * k), self.scale
            bw = (w - int(40 * k) - gap * (n - 1)) // n
            for i, level in enumerate(SCALES[self.scale]):
                colour = COLOURS[round(i * 4 / (n - 1))]
                self.buttons.append(Button(f"level:{i + 1}", pygame.Rect(int(20 * k) + i * (bw + gap), int(100 * k),
                                                                         bw, h - int(190 * k)),
                                           say(level, self.lang), colour=colour, ink=ink_on(colour)))
            self.buttons.append(Button("lang", pygame.Rect(w - int(200 * k), h - int(76 * k), int(180 * k),
                                                           int(60 * k)), say("other_lang", self.lang)))
        elif self.view == "why":
            text(s, say("why", self.lang), (w // 2, int(36 * k)), int(28 * k), INK, bold=True, center=True)
            for i, code in enumerate(RATING_REASONS):
                chosen = code in self.reasons
                self.buttons.append(Button(f"reason:{code}", pygame.Rect(int(40 * k), int(80 * k) + i * int(72 * k),
                                                                         w - int(80 * k), int(62 * k)),
                                           say(code, self.lang),
                                           colour=ACCENT if chosen else (255, 255, 255),
                                           ink=(255, 255, 255) if chosen else INK))
            self.buttons.append(Button("send", pygame.Rect(w // 2 - int(130 * k), h - int(90 * k), int(260 * k),
                                                           int(70 * k)), say("send", self.lang), colour=OK_BG))
        elif self.view == "visits":
            self._draw_visits(k)
        else:
            refused = self.answer is not None and self.answer.type == "error"
            band = pygame.Rect(int(40 * k), h // 3, w - int(80 * k), h // 3)
            pygame.draw.rect(s, WARN_BG if refused else OK_BG, band, border_radius=int(16 * k))
            if refused:
                message, cause = refusal_words(self.answer.body["code"], self.answer.body["reason"], self.lang)
                if cause:
                    wrapped(s, cause, pygame.Rect(int(40 * k), band.bottom + int(50 * k), w - int(80 * k),
                                                  int(60 * k)), int(18 * k), MUTED, center=True)
            else:
                message = say("thanks", self.lang)
            wrapped(s, message, band.inflate(-int(40 * k), -int(30 * k)), int(32 * k), ACCENT if refused else CALM,
                    bold=True, center=True)
            if self.answer is None:
                text(s, say("sending", self.lang), (w // 2, band.bottom + int(30 * k)), int(20 * k), MUTED, center=True)
        for b in self.buttons:
            b.draw(s, k)
        if self.identify.active(time.monotonic()):  # ward IT asked "which terminal is this?"
            self.identify.draw(s)
        pygame.display.flip()

    def _draw_visits(self, k: float) -> None:
        s = self.screen
        w, h = s.get_size()
        text(s, say("visits", self.lang), (w // 2, int(40 * k)), int(28 * k), INK, bold=True, center=True)
        choices = [(action, say(action, self.lang)) for action in ("visits:1", "visits:2", "visits:3")]
        gap = int(14 * k)
        bw = (w - int(40 * k) - gap * 2) // 3
        for i, (action, words) in enumerate(choices):
            self.buttons.append(Button(action, pygame.Rect(int(20 * k) + i * (bw + gap), int(100 * k), bw,
                                                           h - int(230 * k)), words, colour=CALM, ink=(255, 255, 255)))
        skip = pygame.Rect(w // 2 - int(110 * k), h - int(100 * k), int(220 * k), int(70 * k))
        self.buttons.append(Button("visits:0", skip, say("skip", self.lang), colour=(255, 255, 255)))

    def button(self, action: str) -> Button:
        return next(b for b in self.buttons if b.action == action)

    def close(self) -> None:
        pygame.display.quit()
