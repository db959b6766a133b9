# What the texts say, in Vietnamese or English: short enough for one SMS in UCS2 (70 characters).
from __future__ import annotations

from typing import Any

SMS_CHARS = 70
TEXTS = {
    ("near", "vi"): "Số {ticket}: còn {ahead} người trước bạn. Mời quay lại phòng chờ{at}.",
    ("near", "en"): "No. {ticket}: {ahead} ahead of you. Please come back to the waiting room{at}.",
    ("called", "vi"): "Số {ticket}: mời bạn đến {counter}{at}.",
    ("called", "en"): "No. {ticket}: please go to {counter}{at}.",
}
COUNTER = {"vi": "Quầy {n}", "en": "counter {n}"}


def compose(kind: str, lang: str, fields: dict[str, Any], ward: str = "") -> str:
    """The text for one message; the ward's short name is added only where it still fits one SMS."""
    template = TEXTS[(kind, lang if lang in ("vi", "en") else "vi")]
    text = template.format(**fields, at=f" ({ward})" if ward else "")
    if len(text) > SMS_CHARS:
        text = template.format(**fields, at="")
    return text[:SMS_CHARS]


def counter_name(counter: int, lang: str) -> str:
    return COUNTER["en" if lang == "en" else "vi"].format(n=counter)
