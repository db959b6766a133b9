# ALSA playback through aplay (alsa-utils): one process per call, bounded by the call's length.
from __future__ import annotations

import shutil
import subprocess

from display.audio import Player
from display.clips import duration
from display.errors import AudioError


class AplayPlayer(Player):
    def __init__(self, device: str = "") -> None:
        self.device = device

    def play(self, wav: bytes) -> None:
        exe = shutil.which("aplay")
        if exe is None:
            raise AudioError("aplay is not installed (apt-get install alsa-utils)")
        cmd = [exe, "-q", *(["-D", self.device] if self.device else []), "-"]
        try:
            result = subprocess.run(cmd, input=wav, capture_output=True, timeout=duration(wav) + 10, check=False)
        except subprocess.TimeoutExpired as exc:
            raise AudioError("aplay did not finish in time") from exc
        if result.returncode != 0:
            raise AudioError(f"aplay failed: {result.stderr.decode(errors='replace').strip()}")
