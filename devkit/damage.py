# Damage to SQLite files as a failing SD card does it: whole pages of noise, for the tests and the chaos run.
from __future__ import annotations

import random
from pathlib import Path

PAGE = 4096  # SQLite's default page size, which every motcua database uses


def damage(path: Path, pages: list[int], seed: int = 7) -> None:
    """Overwrites whole pages (numbered from 1, as SQLite does) of a closed database file with noise, as a failing
    SD card returns them."""
    noise = random.Random(seed)
    with path.open("r+b") as f:
        for page in pages:
            f.seek((page - 1) * PAGE)
            f.write(noise.randbytes(PAGE))


def pages_of(path: Path) -> int:
    return path.stat().st_size // PAGE
