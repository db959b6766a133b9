# The rating keypad at a counter (gpiozero): one button per level, feedback LEDs, ratings kept until the hub has them.
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from gpiozero import LED, Button

from bus.client import BusClient
from bus.counter_watch import CounterWatch
from bus.gpio import pins
from bus.messages import Message
from hmi.leds import blink_to_identify
from hmi.presses import PressFilter
from rating.config import RatingSection

log = logging.getLogger(__name__)


class RatingKeypad:
    """Sends each accepted press as a durable rating.submit: it stays in the outbox until the hub answers, so
    ratings survive broker outages and restarts and count once (the hub deduplicates). The hub ties it to the
    ticket just served; a refusal (nothing served, too late) blinks the red LED."""

    def __init__(self, bus: BusClient, cfg: RatingSection, pin_factory: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bus, self.cfg = bus, cfg
        self.scale = len(cfg.pins)
        with pins("the rating keypad"):
            self.buttons = [Button(pin, pull_up=True, bounce_time=None, pin_factory=pin_factory) for pin in cfg.pins]
            self.led_ok = LED(cfg.led_ok, pin_factory=pin_factory) if cfg.led_ok >= 0 else None
            self.led_refused = LED(cfg.led_refused, pin_factory=pin_factory) if cfg.led_refused >= 0 else None
        self.sent: list[int] = []
        self.replies: list[Message] = []
        self.presses = PressFilter(cfg.bounce_s, cfg.hold_off_s, clock)
        self.watch = CounterWatch(bus, cfg.counter, clock)
        for level, button in enumerate(self.buttons, start=1):
            button.when_pressed = lambda _=None, level=level: self._pressed(level)
        bus.on_reply(self._on_reply)

    def _pressed(self, level: int) -> None:
        if not self.presses.accept():
            return
        self.sent.append(level)
        self.bus.send_durable(self.bus.topics.rating, "rating.submit",
                              {"counter": self.cfg.counter, "level": level, "scale": self.scale, **self.watch.hint()})

    def _on_reply(self, msg: Message, _: str) -> None:
        self.replies.append(msg)
        led = self.led_ok if msg.type == "rating.recorded" else self.led_refused
        if msg.type != "rating.recorded":
            log.info("rating refused: %s", msg.body.get("reason"))
        if led is not None:
            led.blink(on_time=0.3, off_time=0.2, n=3)

    def identify(self, seconds: float) -> str:
        """Ward IT's "which keypad is this?": both LEDs blink fast (they are off the rest of the time)."""
        leds = [d for d in (self.led_ok, self.led_refused) if d is not None]
        return blink_to_identify(leds, seconds, lambda: [led.off() for led in leds])

    def close(self) -> None:
        for device in [*self.buttons, *(d for d in (self.led_ok, self.led_refused) if d is not None)]:
            device.close()
