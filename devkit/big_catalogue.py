# A ward catalogue of hundreds of procedures with varied Vietnamese texts, as a commune after the 2025 reform lists.
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from provisioning.roles import CATALOGUE

DOCUMENTS = 5  # documents a procedure asks for, in each language
VERSION = 1000  # above the shipped catalogue's, so a kiosk takes it over the one it starts with


def procedures_catalogue(count: int, seed: int = 0) -> dict[str, Any]:
    """The shipped catalogue's fields, with `count` procedures spread over them: names and documents made of the
    shipped texts' own words in a random order (so they deflate about as real text does, not as copies would)."""
    shipped = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    words: dict[str, list[str]] = {"vi": [], "en": []}
    for field in shipped["fields"]:
        for p in field["procedures"]:
            for lang in ("vi", "en"):
                for text in (p[f"name_{lang}"], *p[f"documents_{lang}"]):
                    words[lang].extend(text.split())
    rng = random.Random(seed)

    def text(lang: str, n: int) -> str:
        return " ".join(rng.choice(words[lang]) for _ in range(n)).capitalize()

    fields = [{**f, "procedures": []} for f in shipped["fields"]]
    for i in range(count):
        fields[i % len(fields)]["procedures"].append({
            "code": f"2.{i:06d}", "name_vi": text("vi", 8), "name_en": text("en", 7),
            "documents_vi": [text("vi", 7) for _ in range(DOCUMENTS)],
            "documents_en": [text("en", 6) for _ in range(DOCUMENTS)],
            "time_vi": f"{rng.randint(1, 15)} ngày làm việc", "time_en": "working days",
            "fee_vi": rng.choice(("Miễn lệ phí", "8.000 đồng", "50.000 đồng/bản")), "fee_en": "see the fee_vi"})
    return {**shipped, "version": VERSION, "fields": fields}


def write(path: Path, count: int, seed: int = 0) -> Path:
    path.write_text(json.dumps(procedures_catalogue(count, seed), ensure_ascii=False, indent=1), encoding="utf-8")
    return path
