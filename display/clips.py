# Clip sets: a folder of WAV files (one per word or phrase) joined into one WAV per call; built with espeak-ng.
from __future__ import annotations

import io
import logging
import math
import shutil
import struct
import subprocess
import wave
from pathlib import Path

from display.errors import ClipError
from display.phrases import clip_texts

log = logging.getLogger(__name__)
RATE = 22050  # espeak-ng's own rate: generated speech and the chime then match without resampling


class ClipSet:
    """The WAV files of a folder, all mono or all stereo at one rate and sample width (a ward may record its own)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ClipError(f"{self.folder}: clip folder not found")
        self.params: tuple[int, int, int] | None = None
        self._frames: dict[str, bytes] = {}
        self.missing: set[str] = set()

    def frames(self, name: str) -> bytes | None:
        if name in self._frames:
            return self._frames[name]
        path = self.folder / f"{name}.wav"
        if not path.exists():
            if name not in self.missing:
                log.warning("clip %s is missing from %s; that word is skipped", name, self.folder)
                self.missing.add(name)
            return None
        with wave.open(str(path), "rb") as w:
            params = (w.getnchannels(), w.getsampwidth(), w.getframerate())
            data = w.readframes(w.getnframes())
        if self.params is None:
            self.params = params
        elif params != self.params:
            raise ClipError(f"{path}: {params[0]} channel(s), {params[1] * 8} bit, {params[2]} Hz differs from the "
                            f"rest of the set ({self.params[0]}, {self.params[1] * 8} bit, {self.params[2]} Hz)")
        self._frames[name] = data
        return data

    def compose(self, tokens: list[str], gap_s: float = 0.08) -> bytes:
        """One WAV (bytes) saying the tokens in order, with a short pause between words."""
        pieces = [f for f in (self.frames(t) for t in tokens) if f is not None]
        if not pieces or self.params is None:
            raise ClipError(f"{self.folder}: none of the clips for this call exist")
        channels, width, rate = self.params
        silence = b"\x00" * int(rate * gap_s) * channels * width
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(width)
            w.setframerate(rate)
            w.writeframes(silence.join(pieces))
        return out.getvalue()

    def check(self) -> list[str]:
        """The clips a complete set needs that this folder lacks."""
        return sorted(n for n in ["chime", *clip_texts()] if not (self.folder / f"{n}.wav").exists())


def duration(wav_bytes: bytes) -> float:
    with wave.open(io.BytesIO(wav_bytes), "rb") as w:
        return w.getnframes() / w.getframerate()


def chime(path: Path, rate: int = RATE) -> Path:
    """A two-note chime (ding-dong), generated, so no recording is needed."""
    frames = bytearray()
    for freq, length in ((880.0, 0.35), (660.0, 0.55)):
        n = int(rate * length)
        for i in range(n):
            envelope = math.exp(-3.0 * i / n)
            frames += struct.pack("<h", int(12000 * envelope * math.sin(2 * math.pi * freq * i / rate)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


def generate(folder: str | Path, voice: str = "vi", speed: int = 140, espeak: str | None = None) -> list[Path]:
    """Builds a complete clip set with espeak-ng (apt-get install espeak-ng). A ward can replace any file with its
    own recording of the same words (mono, 22,050 Hz, 16 bit)."""
    exe = espeak or shutil.which("espeak-ng")
    if exe is None:
        raise ClipError("espeak-ng is not installed (apt-get install espeak-ng); record the clips instead")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    made = [chime(out / "chime.wav")]
    for name, text in clip_texts().items():
        path = out / f"{name}.wav"
        result = subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(path), text], capture_output=True,
                                timeout=30, check=False)
        if result.returncode != 0 or not path.exists():
            raise ClipError(f"espeak-ng failed for {name!r}: {result.stderr.decode(errors='replace').strip()}")
        made.append(path)
    return made
