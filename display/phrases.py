# The call phrase ("Mời công dân số A 1 0 2 3 đến quầy số 3") as text and as the clip tokens that speak it.
from __future__ import annotations

import unicodedata

from display.numberwords import words

INVITE = "Mời công dân số"
TO_COUNTER = "đến quầy số"

# Every word a call can contain, and its clip file name in a clip set (see docs/display.md).
VOCABULARY = {
    "không": "word_khong", "một": "word_mot", "hai": "word_hai", "ba": "word_ba", "bốn": "word_bon",
    "năm": "word_nam", "sáu": "word_sau", "bảy": "word_bay", "tám": "word_tam", "chín": "word_chin",
    "mười": "word_muoi", "mươi": "word_muoi_tens", "mốt": "word_mot_final", "tư": "word_tu", "lăm": "word_lam",
    "linh": "word_linh", "lẻ": "word_le", "trăm": "word_tram", "nghìn": "word_nghin", "ngàn": "word_ngan",
    "triệu": "word_trieu", "tỷ": "word_ty",
}
PHRASES = {INVITE: "phrase_invite", TO_COUNTER: "phrase_to_counter"}
LETTERS = {chr(c): f"letter_{chr(c).lower()}" for c in range(ord("A"), ord("Z") + 1)}


def call_text(label: str, counter: int, variant: str = "north") -> str:
    """The spoken sentence, e.g. "Mời công dân số A 1 0 2 3 đến quầy số ba"."""
    spelled = " ".join(unicodedata.normalize("NFC", label.upper()))
    return f"{INVITE} {spelled} {TO_COUNTER} {words(counter, variant)}"


def call_tokens(label: str, counter: int, variant: str = "north") -> list[str]:
    """Clip names for a call: chime, invitation, the label letter by letter and digit by digit, "to counter",
    and the counter number in words."""
    tokens = ["chime", PHRASES[INVITE]]
    for ch in label.upper():
        if "0" <= ch <= "9":
            tokens.append(VOCABULARY[words(int(ch))])
        elif ch in LETTERS:
            tokens.append(LETTERS[ch])
    tokens.append(PHRASES[TO_COUNTER])
    tokens += [VOCABULARY[w] for w in words(counter, variant).split()]
    return tokens


def clip_texts() -> dict[str, str]:
    """What each clip of a complete clip set says (the chime is a tone, not speech)."""
    texts = {name: word for word, name in VOCABULARY.items()}
    texts.update({name: phrase for phrase, name in PHRASES.items()})
    texts.update({name: letter for letter, name in LETTERS.items()})
    return texts
