# Audio output: a player plays one WAV to its end; one backend per file, chosen by the display's [audio] config.
from __future__ import annotations

import importlib
from abc import ABC, abstractmethod

BACKENDS = {"aplay": ("display.audio.aplay", "AplayPlayer"), "fake": ("display.audio.fake", "FakePlayer"),
            "none": ("display.audio.fake", "SilentPlayer")}


class Player(ABC):
    @abstractmethod
    def play(self, wav: bytes) -> None:
        """Plays the whole WAV and returns when it has finished; raises AudioError if it cannot."""


def make_player(backend: str, device: str = "") -> Player:
    module, name = BACKENDS[backend]
    cls = getattr(importlib.import_module(module), name)
    return cls(device) if backend == "aplay" else cls()
