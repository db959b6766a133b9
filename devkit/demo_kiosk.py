# The demo's real kiosk: the touch app with a file printer, tapped by simulated citizens, shown or headless.
from __future__ import annotations

import os
import random
from pathlib import Path

from bus.config import BrokerSection
from devkit.configs import write_kiosk_config
from devkit.simulate import SERVICE_MIX, Tally
from kiosk.config import load_kiosk
from kiosk.core import KioskCore
from kiosk.printing import make_printer


class DemoKiosk:
    """Runs on the demo's main thread (pygame wants it): `step()` each frame, citizens arriving at random tap the
    tiles by position, as a person would; every ticket screen is saved as a PNG when headless."""

    def __init__(self, workdir: Path, broker: BrokerSection, speed: float, seed: int, arrivals_per_hour: float,
                 tally: Tally, headless: bool, ticket_page: str = "") -> None:
        if headless:
            os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        path = write_kiosk_config(workdir, broker.port, "kiosk-1", block=1, printer_backend="file",
                                  ticket_page=ticket_page)
        config, self.section, printer_cfg, _ = load_kiosk(str(path))
        self.folder = config.data_dir
        self.core = KioskCore(config, self.section, printer_cfg, make_printer(printer_cfg))
        self.headless = headless
        self.rng = random.Random(seed)
        self.rate = arrivals_per_hour / 3600.0 * speed  # per real second
        self.tally = tally
        self.app = None
        self.next_arrival = 0.0
        self.plan: list[str] = []
        self.shots = 0

    def start(self, now: float) -> None:
        from kiosk.ui.app import KioskApp  # pygame is imported only when the demo shows a kiosk

        self.core.start()
        self.app = KioskApp(self.core, self.section, size=(1024, 600))
        self.next_arrival = now + self.rng.expovariate(self.rate)

    def step(self, now: float) -> None:
        app = self.app
        if app is None:
            return
        app.step()
        if app.view.name == "ticket" and app.view.outcome is not None and "done" not in self.plan:
            self._record(app.view.outcome)
            self.plan = ["done"]
        if app.view.name == "problem":
            self.plan = ["done"]
        if not self.plan and app.view.name == "home" and now >= self.next_arrival and self.core.services:
            self.next_arrival = now + self.rng.expovariate(self.rate)
            codes = [c for c in SERVICE_MIX if c in self.core.services]
            service = self.rng.choices(codes, [SERVICE_MIX[c][0] for c in codes])[0]
            self.plan = [f"service:{service}", "take:"]
        if self.plan and app.view.name != "printing":
            self._tap_next()

    def _tap_next(self) -> None:
        import pygame

        app = self.app
        assert app is not None
        action = self.plan[0]
        if action == "take:":
            choices = [b.action for b in app.buttons if b.action.startswith("take:")]
            if not choices:  # a one-procedure service printed straight away
                self.plan.pop(0)
                return
            action = self.rng.choice(choices)
        matches = [b for b in app.buttons if b.action == action]
        if matches:
            x, y = matches[0].rect.center
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(x, y), touch=False))
        self.plan.pop(0)

    def _record(self, outcome: object) -> None:
        t = outcome.ticket  # type: ignore[attr-defined]
        self.tally.ticket(f"kiosk-1.{t['day']}.{t['label']}", f"{t['day']} {t['label']}")
        self.tally.count("kiosk_printed" if outcome.state == "printed" else "kiosk_print_failed")  # type: ignore
        if self.headless and self.shots < 20 and self.app is not None:
            screens = self.folder / "screens"
            screens.mkdir(parents=True, exist_ok=True)
            self.app.screenshot(screens / f"ticket-{t['label']}.png")
            self.shots += 1

    def stop(self) -> None:
        if self.app is not None:
            pending = self.app.finish()
            if pending is not None and pending.state in ("printed", "print_failed"):
                self._record(pending)
            self.app.close()
        self.core.stop()

    def printed_files(self) -> int:
        return sum(1 for _ in (self.folder / "printed").iterdir()) if (self.folder / "printed").exists() else 0

    def previews(self) -> int:
        folder = Path(self.section.preview_dir)
        return sum(1 for _ in folder.glob("*.png")) if folder.exists() else 0
