# Files written whole or not at all: staged beside the old one, fsynced, then renamed over it.
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_json(path: Path, data: Any) -> None:
    """Writes `data` as JSON to `path` atomically: a power cut leaves the old file or the new one, never half."""
    staged = path.with_name(path.name + ".new")
    with staged.open("w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    staged.replace(path)
