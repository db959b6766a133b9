# The display's config sections: the board screen, the voice and the audio output.
from __future__ import annotations

from dataclasses import dataclass

from bus.config import DeviceConfig, load, opt
from display.audio import BACKENDS


@dataclass(frozen=True)
class DisplaySection:
    hub_id: str = opt("hub", doc="the hub's device id, whose availability the board shows")
    english: bool = opt(True, doc="show English lines under the Vietnamese ones")
    timezone: str = opt("Asia/Ho_Chi_Minh")
    screen_width: int = opt(1920, lo=320, hi=7680)
    screen_height: int = opt(1080, lo=240, hi=4320)
    fullscreen: bool = opt(True)
    highlight_s: float = opt(6.0, lo=1.0, hi=60.0, doc="how long a new call blinks")
    fps: int = opt(20, lo=1, hi=60, doc="frame rate of the scrolling notice")
    screenshots: str = opt("", doc="folder: save latest.png (and the first calls) after each call")


@dataclass(frozen=True)
class VoiceSection:
    speak: bool = opt(True)
    clips: str = opt("", doc="clip set folder; empty: <data_dir>/clips, built with espeak-ng if missing")
    variant: str = opt("north", choices=("north", "south"))
    pause_s: float = opt(0.6, lo=0.0, hi=5.0)


@dataclass(frozen=True)
class AudioSection:
    backend: str = opt("aplay", choices=tuple(BACKENDS))
    device: str = opt("", doc="ALSA device for aplay, e.g. hw:0; empty: the default")


SECTIONS = {"display": DisplaySection, "voice": VoiceSection, "audio": AudioSection}


def load_display(path: str) -> tuple[DeviceConfig, DisplaySection, VoiceSection, AudioSection]:
    config = load(path, SECTIONS)
    s = config.sections
    return config, s["display"], s["voice"], s["audio"]
