# Each bench's figures as data: written as JSON where `python -m bench.table` asks for them (MOTCUA_BENCH_FIGURES).
from __future__ import annotations

import json
import os
from typing import Any

ENV = "MOTCUA_BENCH_FIGURES"


def emit(figures: dict[str, Any]) -> None:
    """Hands this bench's figures (name -> number) to the table run that started it; nothing otherwise."""
    path = os.environ.get(ENV)
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(figures, out)
