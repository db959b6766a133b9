# The desk buttons (gpiozero): each press a counter command asked of the hub; a status LED says how it went.
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gpiozero import LED, Button

from bus.client import BusClient
from bus.gpio import pins
from desk.config import BUTTONS, DeskSection
from hmi.counter_command import Outcome, ask_hub
from hmi.leds import blink_to_identify
from hmi.presses import PressFilter

REFUSED_BLINKS = 3  # fast blinks for "no" (nobody waiting, recall limit...), then the LED is steady again


class DeskButtons:
    """Next, Recall and Done on a Pi's GPIO pins (to ground, internal pull-ups). Each accepted press is one counter
    command, asked of the hub while the officer waits, one at a time; presses of the same button closer than the
    hold-off are ignored. The status LED is steady while the hub answers, blinks three times fast when it says no,
    and blinks slowly while there is no broker or no answer."""

    def __init__(self, bus: BusClient, cfg: DeskSection, pin_factory: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bus, self.cfg = bus, cfg
        with pins("the desk buttons"):
            self.buttons = {action: Button(getattr(cfg, option), pull_up=True, bounce_time=None,
                                           pin_factory=pin_factory)
                            for option, action in BUTTONS.items() if getattr(cfg, option) >= 0}
            self.led = LED(cfg.led, pin_factory=pin_factory) if cfg.led >= 0 else None
        self.presses = {action: PressFilter(cfg.bounce_s, cfg.hold_off_s, clock) for action in self.buttons}
        self.results: list[str] = []
        self._answered = True  # the last command got an answer (or none was asked yet)
        self._restore: threading.Timer | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"desk-{cfg.counter}")
        for action, button in self.buttons.items():
            button.when_pressed = lambda _=None, action=action: self._pressed(action)
        bus.on_connect(self.show_status)
        bus.on_disconnect(self.show_status)
        self.show_status()

    def _pressed(self, action: str) -> None:
        if self.presses[action].accept():
            self._worker.submit(self._command, action)

    def _command(self, action: str) -> None:
        outcome = ask_hub(self.bus, self.cfg.counter, action, self.cfg.request_timeout_s)
        self.results.append(":".join(filter(None, (action, outcome.feedback, outcome.code))))
        self._signal(outcome)

    def _signal(self, outcome: Outcome) -> None:
        self._answered = outcome.feedback != "error"
        if self.led is None or outcome.feedback != "refused":
            self.show_status()
            return
        if self._restore is not None:
            self._restore.cancel()
        self.led.blink(on_time=0.15, off_time=0.15, n=REFUSED_BLINKS, background=True)
        self._restore = threading.Timer(REFUSED_BLINKS * 0.3 + 0.1, self.show_status)
        self._restore.daemon = True
        self._restore.start()

    def show_status(self) -> None:
        """Steady while the broker is there and the hub answered last; a slow blink otherwise."""
        if self.led is None:
            return
        if self.bus.connected.is_set() and self._answered:
            self.led.on()
        else:
            self.led.blink(on_time=0.5, off_time=0.5, background=True)

    def identify(self, seconds: float) -> str:
        """Ward IT's "which desk is this?": the LED blinks fast, then shows the status again."""
        return blink_to_identify([self.led] if self.led is not None else [], seconds, self.show_status)

    def close(self) -> None:
        if self._restore is not None:
            self._restore.cancel()
        self._worker.shutdown(wait=True, cancel_futures=True)
        for device in [*self.buttons.values(), *([self.led] if self.led is not None else [])]:
            device.close()
