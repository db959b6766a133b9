# The counter's rating keypad (gpiozero): one button per level, feedback LEDs, ratings kept until the hub has them.
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gpiozero import LED, Button

from bus.client import BusClient
from bus.config import DeviceConfig, load, opt
from bus.counter_watch import CounterWatch
from bus.device_commands import DeviceCommands
from bus.errors import ConfigError
from bus.messages import Message
from bus.presses import PressFilter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RatingSection:
    counter: int = opt(lo=1, hi=999)
    mode: str = opt("keypad", choices=("keypad", "touch"))
    pins: list[int] = opt(default_factory=list, lo=0, hi=53,
                          doc="keypad: one button per level, best first (Rất hài lòng ... Không hài lòng)")
    scale: int = opt(3, lo=3, hi=5, doc="touch: how many levels")
    follow_up: bool = opt(True, doc="touch: ask why after a poor rating")
    ask_visits: bool = opt(False, doc="touch: ask how many visits this procedure took (one more tap)")
    screen_width: int = opt(800, lo=320, hi=3840)
    screen_height: int = opt(480, lo=240, hi=2160)
    led_ok: int = opt(-1, lo=-1, hi=53)
    led_refused: int = opt(-1, lo=-1, hi=53)
    bounce_s: float = opt(0.05, lo=0.0, hi=1.0)
    hold_off_s: float = opt(1.5, lo=0.2, hi=30.0, doc="presses closer than this to the last one are ignored")


def load_rating(path: str) -> tuple[DeviceConfig, RatingSection]:
    config = load(path, {"rating": RatingSection})
    section: RatingSection = config.sections["rating"]
    if section.mode == "keypad" and len(section.pins) not in (3, 4, 5):
        raise ConfigError(config.source, "rating.pins", f"{len(section.pins)} buttons; a scale has 3, 4 or 5 levels")
    return config, section


class RatingKeypad:
    """Sends each accepted press as a durable rating.submit: it stays in the outbox until the hub answers, so
    ratings survive broker outages and restarts and count once (the hub deduplicates). The hub ties it to the
    ticket just served; a refusal (nothing served, too late) blinks the red LED."""

    def __init__(self, bus: BusClient, cfg: RatingSection, pin_factory: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bus, self.cfg = bus, cfg
        self.scale = len(cfg.pins)
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

    def close(self) -> None:
        for device in [*self.buttons, *(d for d in (self.led_ok, self.led_refused) if d is not None)]:
            device.close()


def run(config_path: str) -> None:
    from bus import systemd
    from bus.lifecycle import wait_for_stop

    config, section = load_rating(config_path)
    bus = BusClient(config.broker, config.device.ward, config.device.id, "counter",
                    outbox_path=config.data_dir / "rating-outbox.db", counters=(section.counter,))
    DeviceCommands(bus)
    if section.mode == "touch":
        from kiosk.ui.rating_app import RatingApp

        app = RatingApp(bus, section.counter, section.scale, (section.screen_width, section.screen_height),
                        follow_up=section.follow_up, ask_visits=section.ask_visits)
        bus.start()
        systemd.notify("READY=1")
        wait_for_stop(tick=1 / 20, on_tick=app.step, health=bus.health)
        app.close()
    else:
        keypad = RatingKeypad(bus, section)
        bus.start()
        systemd.notify("READY=1")
        wait_for_stop(health=bus.health)
        keypad.close()
    bus.stop()
