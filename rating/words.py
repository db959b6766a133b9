# What the touch rating terminal says, in Vietnamese (first) and English: questions, levels, reasons, answers.
from __future__ import annotations

from typing import Any

from bus.rating_words import LEVEL_WORDS, REASON_WORDS

LANGS = ("vi", "en")
WORDS: dict[str, tuple[str, str]] = {
    "ask": ("Quầy {counter}: bạn hài lòng với việc giải quyết hồ sơ?",
            "Counter {counter}: are you satisfied with how your case was handled?"),
    "ask_ticket": ("Quầy {counter} · Số {label}: bạn hài lòng với việc giải quyết hồ sơ?",
                   "Counter {counter} · Ticket {label}: are you satisfied with how your case was handled?"),
    "why": ("Vì sao bạn chưa hài lòng? (có thể chọn nhiều)", "Why were you not satisfied? (choose any)"),
    "send": ("Gửi đánh giá", "Send"),
    "visits": ("Đây là lần thứ mấy bạn đến làm thủ tục này?", "How many times have you come for this case?"),
    "visits:1": ("Lần đầu", "The first time"),
    "visits:2": ("Lần thứ hai", "The second time"),
    "visits:3": ("Từ ba lần trở lên", "Three times or more"),
    "skip": ("Bỏ qua", "Skip"),
    "thanks": ("Cảm ơn bạn đã đánh giá!", "Thank you for your rating!"),
    "sending": ("Đang gửi…", "Sending…"),
    "refused": ("Chưa ghi nhận được: {why}", "Not recorded: {why}"),
    "nothing_served": ("chưa có hồ sơ nào vừa được giải quyết tại quầy này.",  # the hub's refusal codes
                       "no case has just been handled at this counter."),
    "window_closed": ("đã quá thời gian đánh giá cho lượt vừa rồi.", "the time to rate the last visit has passed."),
    "ask_staff": ("vui lòng báo cán bộ tại quầy.", "please tell the officer at the counter."),
    "other_lang": ("English", "Tiếng Việt"),
    **LEVEL_WORDS,
    **REASON_WORDS,
}
REFUSALS = ("nothing_served", "window_closed")  # the hub's refusals the terminal explains to the citizen


def say(key: str, lang: str, **values: Any) -> str:
    return WORDS[key][LANGS.index(lang) if lang in LANGS else 0].format(**values)
