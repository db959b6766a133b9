# The bundled font that covers Vietnamese (Noto Sans, SIL OFL 1.1: see OFL.txt), for screens and printed tickets.
from __future__ import annotations

from pathlib import Path

FONT_DIR = Path(__file__).parent


def font_path(bold: bool = False) -> Path:
    return FONT_DIR / ("NotoSans-Bold.ttf" if bold else "NotoSans-Regular.ttf")
