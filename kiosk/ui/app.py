# The touch kiosk's event loop: taps (finger or mouse) become actions; tickets are taken on a worker thread.
from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pygame

from bus import systemd
from hmi.identify import IdentifyOverlay
from hmi.screen import open_screen, tap_position
from hmi.widgets import Button
from kiosk.config import KioskSection
from kiosk.core import KioskCore, TicketOutcome
from kiosk.ui import screens
from kiosk.ui.screens import View

log = logging.getLogger(__name__)
TICKET_SCREEN_S = 15.0


class KioskApp:
    """Never blocks on the printer or the network: take_ticket runs on a worker while the screen says "printing"."""

    def __init__(self, core: KioskCore, section: KioskSection, size: tuple[int, int] | None = None,
                 clock: object = time.monotonic) -> None:
        self.core = core
        self.section = section
        self.clock = clock
        self.screen = open_screen("motcua kiosk", section.fullscreen and size is None,
                                  size or (section.screen_width, section.screen_height), core.bus)
        self.view = View(lang=section.lang)
        self.buttons: list[Button] = []
        self.running = True
        self.dirty = True
        self.last_input = self.clock()  # type: ignore[operator]
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ticket")
        self._work: Future[TicketOutcome] | None = None
        core.on_change(self.mark_dirty)
        self.identify = IdentifyOverlay(core.bus.device)
        core.commands.device.identify = self.identify.start
        self._identifying = False

    def mark_dirty(self) -> None:
        self.dirty = True

    # -- input -----------------------------------------------------------------------------------------------
    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            self.running = False
        elif (pos := tap_position(event, self.screen)) is not None:
            self.tap(pos)
        elif event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE and not self.section.fullscreen:
            self.running = False

    def tap(self, pos: tuple[int, int]) -> None:
        self.last_input = self.clock()  # type: ignore[operator]
        for button in self.buttons:
            if button.enabled and button.rect.collidepoint(pos):
                view, name = self.view, self.view.name
                self.act(button.action)
                self.dirty = True
                if self.view is not view or self.view.name != name:  # its buttons are gone: a tap that came with
                    self.buttons = []  # this one (a double tap) meets the next screen once it is drawn
                return

    def act(self, action: str) -> None:
        kind, _, arg = action.partition(":")
        v = self.view
        if kind == "lang":
            v.lang = "en" if v.lang == "vi" else "vi"
        elif kind == "priority":
            v.priority = None if v.priority == arg else arg
        elif kind == "service":
            procs = self.core.catalogue.for_service(arg)
            if len(procs) == 1:
                self._take(arg, procs[0].code)
            else:
                v.name, v.service = "services", arg
                v.extra["page"] = 0
        elif kind == "take":
            self._take(v.service, arg)
        elif kind in ("browse", "field", "procedure"):
            v.name = kind
            v.field_id = arg if kind == "field" else v.field_id
            v.procedure = arg if kind == "procedure" else v.procedure
            if kind != "procedure":  # a list opened anew starts at its first page; back from a procedure keeps it
                v.extra["page"] = 0
        elif kind == "page":  # the screen keeps the page within its list
            v.extra["page"] = v.extra.get("page", 0) + (1 if arg == "next" else -1)
        elif kind == "back":
            v.name = {"procedure": "field", "field": "browse"}.get(v.name, "home")
            if v.name == "browse":
                v.extra["page"] = 0
        elif kind in ("reprint", "keep", "cancel"):
            self._after_failure(kind)
        elif kind == "done":
            self.home()
        elif kind in ("phone", "key", "send_phone", "ticket"):
            self._phone(kind, arg)

    def _phone(self, kind: str, key: str) -> None:
        """The "text me when my turn is near" screen: open it, type, send, or go back to the ticket."""
        v = self.view
        typed = v.extra.get("phone", "")
        if kind == "key":
            v.extra["phone"] = typed[:-1] if key == "del" else (typed + key)[:12]
            return
        if kind == "send_phone" and v.outcome is not None and self.core.leave_phone(v.outcome, typed, v.lang):
            v.extra["texting"] = f"{typed[:3]} {'•' * 4} {typed[-3:]}"  # shown back, not whole, to the next in line
        v.name = "phone" if kind == "phone" else "ticket"

    def home(self) -> None:
        self.view = View(lang=self.core.kiosk.lang)
        self.dirty = True

    # -- tickets ---------------------------------------------------------------------------------------------
    def _take(self, service: str, procedure: str) -> None:
        self.view.name = "printing"
        self._work = self._pool.submit(self.core.take_ticket, service, self.view.priority, procedure, self.view.lang)

    def _after_failure(self, kind: str) -> None:
        outcome = self.view.outcome
        if outcome is None:
            return
        if kind == "reprint":
            self.view.name = "printing"
            self._work = self._pool.submit(self.core.reprint, outcome)
            return
        (self.core.keep if kind == "keep" else self.core.cancel)(outcome)
        self.home()

    def _poll(self) -> None:
        if self._work is None or not self._work.done():
            return
        work, self._work = self._work, None
        outcome = work.result()
        self.view.outcome = outcome
        self.view.name = "ticket" if outcome.state in ("printed", "print_failed") else "problem"
        self.last_input = self.clock()  # type: ignore[operator]
        self.dirty = True

    # -- loop ------------------------------------------------------------------------------------------------
    def tick(self) -> None:
        self._poll()
        idle = self.clock() - self.last_input  # type: ignore[operator]
        v = self.view
        limit = TICKET_SCREEN_S if v.name == "ticket" and v.outcome and v.outcome.state == "printed" else \
            self.core.kiosk.idle_timeout_s
        chosen = v.name == "home" and (v.priority is not None or v.lang != self.core.kiosk.lang)  # left by someone
        if (v.name not in ("home", "printing") or chosen) and idle > limit:
            if v.outcome is not None and v.outcome.state == "print_failed":
                self.core.cancel(v.outcome)  # nobody kept the number: it never joins the queue
            self.home()

    def render(self) -> bool:
        was, self._identifying = self._identifying, self.identify.active(time.monotonic())
        if not self.dirty and not self._identifying and not was:
            return False
        self.dirty = False  # cleared first: a change marked by a bus thread while drawing is drawn next frame
        self.buttons = screens.draw(self.screen, self.view, self.core)
        if self._identifying:  # ward IT asked "which kiosk is this?"
            self.identify.draw(self.screen)
        pygame.display.flip()
        return True

    def step(self) -> None:
        for event in pygame.event.get():
            self.handle(event)
        self.tick()
        self.render()

    def run(self) -> None:
        frames = pygame.time.Clock()
        self.step()
        log.info("kiosk ready")
        systemd.notify("READY=1")
        watchdog = systemd.Watchdog(self.core.bus.health)
        while self.running:
            watchdog.kick()
            self.step()
            frames.tick(30)
        self.close()

    def finish(self, timeout: float = 10.0) -> TicketOutcome | None:
        """Waits for a ticket still being taken (at shutdown) and returns its outcome."""
        return self._work.result(timeout) if self._work is not None else None

    def button(self, action: str) -> Button:
        return next(b for b in self.buttons if b.action == action)

    def screenshot(self, path: str | Path) -> Path:
        pygame.image.save(self.screen, str(path))
        return Path(path)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        pygame.display.quit()
