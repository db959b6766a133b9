# Big-button mode (gpiozero): one button and LED per service, a status LED, one ticket per press.
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gpiozero import LED, Button

from bus.gpio import pins
from hmi.leds import blink_to_identify
from kiosk.config import ButtonsSection
from kiosk.core import KioskCore, TicketOutcome

log = logging.getLogger(__name__)


class ButtonPanel:
    """Presses are filtered here, not by gpiozero (its mock does not simulate bounce): an edge within `bounce_s` of
    the last one, a press within `hold_off_s` of the last accepted press or of its release, and any press while a
    ticket is printing are ignored. Holding a button down gives one ticket."""

    def __init__(self, core: KioskCore, cfg: ButtonsSection, pin_factory: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.core, self.cfg, self.clock = core, cfg, clock
        with pins("the kiosk's buttons"):
            self.buttons = [Button(pin, pull_up=True, bounce_time=None, pin_factory=pin_factory) for pin in cfg.pins]
            self.leds = [LED(pin, pin_factory=pin_factory) for pin in cfg.leds]
            self.status_led = LED(cfg.status_led, pin_factory=pin_factory) if cfg.status_led >= 0 else None
        self.outcomes: list[TicketOutcome] = []
        self.status_mode = ""
        self.ignored = 0
        self._last_edge = [-1e9] * len(cfg.pins)
        self._last_press = [-1e9] * len(cfg.pins)
        self._busy = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="button-ticket")
        self._last_release = [-1e9] * len(cfg.pins)
        for i, button in enumerate(self.buttons):
            button.when_pressed = lambda _=None, i=i: self._pressed(i)
            button.when_released = lambda _=None, i=i: self._released(i)
        for led in self.leds:
            led.on()
        core.on_change(self.show_status)
        core.commands.device.identify = self.identify
        self.show_status()

    def identify(self, seconds: float) -> str:
        """Ward IT's "which kiosk is this?": every LED blinks fast, then they show their usual meaning again."""
        leds = [*self.leds, *([self.status_led] if self.status_led else [])]
        return blink_to_identify(leds, seconds, self._restore)

    def _restore(self) -> None:
        for led in self.leds:
            led.on()
        self.status_mode = ""
        self.show_status()

    def _pressed(self, i: int) -> None:
        now = self.clock()
        bounce = now - self._last_edge[i] < self.cfg.bounce_s
        self._last_edge[i] = now
        recent = now - max(self._last_press[i], self._last_release[i]) < self.cfg.hold_off_s
        if bounce or recent or not self._busy.acquire(blocking=False):
            self.ignored += 1
            return
        self._last_press[i] = now
        self._pool.submit(self._take, i)

    def _released(self, i: int) -> None:
        now = self.clock()
        self._last_edge[i] = now
        if self._last_press[i] > self._last_release[i]:  # the end of an accepted press starts the hold-off
            self._last_release[i] = now

    def _take(self, i: int) -> None:
        led = self.leds[i] if self.leds else None
        try:
            if led is not None:
                led.blink(on_time=0.15, off_time=0.15)
            outcome = self.core.take_ticket(self.cfg.services[i])
            if outcome.state == "print_failed":
                self.core.cancel(outcome)  # no screen to show the number on: it must not join the queue
            self.outcomes.append(outcome)
            log.info("button %s: %s %s", self.cfg.services[i], outcome.state, outcome.ticket.get("label", ""))
        finally:
            if led is not None:
                led.on()
            self.show_status()
            self._busy.release()

    def show_status(self) -> None:
        """Steady: ready. Slow blink: working offline. Fast blink: printer problem."""
        mode = "printer" if not self.core.printer.last_status.can_print else "ready" if self.core.hub_ok else "offline"
        if mode == self.status_mode or self.status_led is None:
            self.status_mode = mode
            return
        self.status_mode = mode
        if mode == "printer":
            self.status_led.blink(on_time=0.1, off_time=0.1)
        elif mode == "offline":
            self.status_led.blink(on_time=1.0, off_time=1.0)
        else:
            self.status_led.on()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        if self._busy.acquire(timeout=timeout):
            self._busy.release()
            return True
        return False

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for device in [*self.buttons, *self.leds, *([self.status_led] if self.status_led else [])]:
            device.close()
