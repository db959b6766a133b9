# The fake player (records what was played, takes the sound's time, can fail) and the silent one (no speaker).
from __future__ import annotations

import threading
import time

from display.audio import Player
from display.clips import duration
from display.errors import AudioError


class FakePlayer(Player):
    """Takes as long as the sound (divided by `speed`) and records (start, end, seconds) per call; `fail_next`
    makes the next play raise, as an unplugged speaker would."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self.played: list[tuple[float, float, float]] = []
        self.fail_next = 0
        self.lock = threading.Lock()

    def play(self, wav: bytes) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise AudioError("fake: no sound card")
        seconds = duration(wav)
        start = time.monotonic()
        time.sleep(seconds / self.speed)
        with self.lock:
            self.played.append((start, time.monotonic(), seconds))


class SilentPlayer(Player):
    """For boards without a speaker: calls are shown, not spoken."""

    def play(self, wav: bytes) -> None:
        return None
