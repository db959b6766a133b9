# A rating's words, shared by every role that shows or records one: each scale's levels and the reasons, vi and en.
from __future__ import annotations

LEVEL_WORDS: dict[str, tuple[str, str]] = {
    "very_satisfied": ("Rất hài lòng", "Very satisfied"),
    "satisfied": ("Hài lòng", "Satisfied"),
    "neutral": ("Bình thường", "Neutral"),
    "not_satisfied": ("Không hài lòng", "Not satisfied"),
    "very_dissatisfied": ("Rất không hài lòng", "Very dissatisfied"),
}
SCALES: dict[int, tuple[str, ...]] = {  # a scale's levels, best (level 1) first
    3: ("very_satisfied", "satisfied", "not_satisfied"),
    4: ("very_satisfied", "satisfied", "not_satisfied", "very_dissatisfied"),
    5: ("very_satisfied", "satisfied", "neutral", "not_satisfied", "very_dissatisfied"),
}
REASON_WORDS: dict[str, tuple[str, str]] = {  # keyed by bus.messages.RATING_REASONS, in its order
    "waited_too_long": ("Chờ quá lâu", "Waited too long"),
    "staff_attitude": ("Thái độ cán bộ", "Staff attitude"),
    "documents_unclear": ("Hướng dẫn giấy tờ chưa rõ", "Documents unclear"),
    "had_to_come_back": ("Phải đi lại nhiều lần", "Had to come back"),
}


def level_word(scale: int, level: int, lang: str = "vi") -> str:
    """Level `level` (1 best) of a `scale`-level terminal in words: level_word(3, 2) is "Hài lòng"."""
    return LEVEL_WORDS[SCALES[scale][level - 1]][0 if lang == "vi" else 1]
