# The board service: bus messages queued to the screen thread, calls highlighted and spoken, outages shown.
from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any

import pygame

from bus import systemd
from bus.client import BusClient
from bus.config import DeviceConfig
from bus.device_commands import Device, DeviceCommands
from bus.messages import Message, iso_ts
from bus.reset import ResetSpec
from display.announcer import Announcer
from display.audio import Player, make_player
from display.board import Board
from display.clips import ClipSet, generate
from display.config import AudioSection, DisplaySection, VoiceSection, load_display
from display.errors import ClipError
from hmi.identify import IdentifyOverlay
from hmi.screen import open_screen

log = logging.getLogger(__name__)
RESET = ResetSpec(wipe=("clips",))  # the voice clips espeak-ng built; built again at the next start
MIN_GAP_S = 0.004  # the screen loop redraws at most this often, however fast messages come


class BoardService:
    """pygame is only touched on the thread that calls step()/run(); bus callbacks only enqueue."""

    def __init__(self, config: DeviceConfig, display: DisplaySection, voice: VoiceSection, audio: AudioSection,
                 size: tuple[int, int] | None = None, player: Player | None = None) -> None:
        self.config, self.display = config, display
        self.bus = BusClient(config.broker, config.device.ward, config.device.id, "display")
        self.identify = IdentifyOverlay(config.device.id)
        live = {f"display.{name}": lambda loaded: self._post("options", loaded[1])
                for name in ("english", "highlight_s", "fps", "screenshots")}
        self.commands = DeviceCommands(self.bus, Device(config, load_display, live, self.identify.start, RESET))
        self._inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        t = self.bus.topics
        self._woken = threading.Event()  # set with every message: the screen loop draws it now, not at its next tick
        self._stepped_at = 0.0
        self.bus.subscribe(t.board_state, lambda m, _: self._post("state", m))
        self.bus.subscribe(t.ticket_event, lambda m, _: self._post("event", m))
        self.bus.subscribe(t.device_state(display.hub_id), lambda m, _: self._post("hub", m))
        self.bus.on_connect(lambda: self._post("link", True))
        self.bus.on_disconnect(lambda: self._post("link", False))
        self.screen = open_screen("motcua board", display.fullscreen and size is None,
                                  size or (display.screen_width, display.screen_height), self.bus)
        self.board = Board(self.screen, display.english, display.timezone, display.highlight_s)
        self._unspoken: tuple[str, float] | None = None  # why calls cannot be spoken at all (no clip set), since
        self.announcer = self._announcer(voice, audio, player)
        self.bus.state_detail = self._detail
        self.link = False
        self.hub_online = False
        self.running = True
        self._shot_due = ""
        self._shots = 0
        self._drawn_state: dict[str, Any] = {}
        self._identifying = False

    def _announcer(self, voice: VoiceSection, audio: AudioSection, player: Player | None) -> Announcer | None:
        if not voice.speak:
            return None
        folder = voice.clips or str(self.config.data_dir / "clips")
        try:
            clips = ClipSet(folder) if voice.clips or (self.config.data_dir / "clips").exists() else None
            if clips is None:
                log.info("building the clip set in %s with espeak-ng", folder)
                generate(folder)
                clips = ClipSet(folder)
            missing = clips.check()
            if missing:
                log.warning("clip set %s lacks %d clips (%s...); those words are skipped", folder, len(missing),
                            ", ".join(missing[:5]))
        except ClipError as exc:
            log.error("calls will be shown but not spoken: %s", exc)
            self._unspoken = (str(exc).strip()[:300], time.time())
            return None
        return Announcer(clips, player or make_player(audio.backend, audio.device), voice.variant, voice.pause_s,
                         on_change=self.bus.publish_state)

    def _detail(self) -> dict[str, Any]:
        """The board's own part of its state: whether it sees the hub, and why calls go unspoken, if they do."""
        detail: dict[str, Any] = {"hub": "ok" if self.board.online else "unreachable"}
        failing = self._unspoken or (self.announcer.failing if self.announcer is not None else None)
        if failing is not None:
            reason, since = failing
            detail["voice"] = {"failing": reason, "since": iso_ts(since)}
        return detail

    def start(self) -> None:
        if self.announcer is not None:
            self.announcer.start()
        self.bus.start()

    def stop(self) -> None:
        if self.announcer is not None:
            self.announcer.stop()
        self.bus.stop()
        pygame.display.quit()

    def _post(self, kind: str, value: Any) -> None:
        self._inbox.put((kind, value))
        self._woken.set()

    def pace(self) -> None:
        """The screen loop's wait: until the next frame is due (1/fps after the last), or sooner when a message
        arrives, so a call is drawn when it comes rather than up to a frame later; a burst of messages redraws at
        most every MIN_GAP_S."""
        if self._woken.wait(max(0.0, self._stepped_at + 1.0 / self.display.fps - time.monotonic())):
            self._woken.clear()
            time.sleep(max(0.0, self._stepped_at + MIN_GAP_S - time.monotonic()))

    def step(self, now: float | None = None) -> bool:
        """Applies what arrived, draws what changed; True if the screen was updated."""
        self._stepped_at = time.monotonic()
        now = self._stepped_at if now is None else now
        while True:
            try:
                kind, value = self._inbox.get_nowait()
            except queue.Empty:
                break
            self._apply(kind, value, now)
        try:
            rects = self.board.frame(now)
        except Exception:  # service edge: a state the board cannot draw must not stop the screen; logged once
            if self._drawn_state is not self.board.state:
                log.exception("board: cannot draw the state received; showing the last one drawn")
            self.board.set_state(self._drawn_state)
            rects = self.board.frame(now)
        self._drawn_state = self.board.state
        was, self._identifying = self._identifying, self.identify.active(now)
        if self._identifying:  # ward IT asked "which board is this?"
            rects = [self.identify.draw(self.screen)]
        elif was:
            self.board.redraw()
            rects = self.board.frame(now)
        if rects:
            pygame.display.update(rects)
            if self._shot_due and rects[0] == self.screen.get_rect():
                self._screenshot()
        return bool(rects)

    def _screenshot(self) -> None:
        """What the board shows, for ward IT or the headless demo: latest.png, and the first 30 calls."""
        folder = Path(self.display.screenshots)
        folder.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self.screen, str(folder / "latest.new.png"))  # whole or not at all, for whoever reads it
        (folder / "latest.new.png").replace(folder / "latest.png")
        if self._shots < 30:
            pygame.image.save(self.screen, str(folder / f"call-{self._shot_due}.png"))
            self._shots += 1
        self._shot_due = ""

    def _apply(self, kind: str, value: Any, now: float) -> None:
        if kind == "state":
            self.board.set_state(value.body)
        elif kind == "event":
            self._event(value, now)
        elif kind == "hub":
            self.hub_online = value.body["status"] == "online"
        elif kind == "link":
            self.link = value
        elif kind == "options":  # a reloaded config's live options
            self.display = value
            self.board.english, self.board.highlight_s = value.english, value.highlight_s
            self.board.redraw()
        online = self.link and self.hub_online
        if online != self.board.online:
            self.board.set_online(online)
            self.bus.publish_state()  # ward IT sees the banner come and go, not a minute later

    def _event(self, msg: Message, now: float) -> None:
        event, ticket, counter = msg.body["event"], msg.body["ticket"], msg.body.get("counter")
        if event not in ("called", "recalled") or counter is None:
            return
        self.board.call(ticket, counter, event, now)
        if self.display.screenshots:
            self._shot_due = ticket["label"]
        if self.announcer is not None:
            self.announcer.announce(ticket["label"], counter, recall=event == "recalled")

    def health(self) -> str | None:
        """What stops this board from working, for the watchdog: its voice's thread, its bus path (its screen loop
        is the one kicking)."""
        if self.announcer is not None and not self.announcer.alive():
            return "the announcer's thread has stopped"
        return self.bus.health()

    def run(self) -> None:
        self.step()
        log.info("board ready")
        systemd.notify("READY=1")
        watchdog = systemd.Watchdog(self.health)
        while self.running:
            watchdog.kick()
            for event in pygame.event.get():
                if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                    self.running = False
            self.step()
            self.pace()
        self.stop()
