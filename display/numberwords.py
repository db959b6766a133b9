# Vietnamese number words (North and South): counter numbers spoken by the board, and any role that needs them.
from __future__ import annotations

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
GROUPS = ("", "nghìn", "triệu", "tỷ")


def words(n: int, variant: str = "north") -> str:
    """`words(1023)` -> "một nghìn không trăm hai mươi ba"; `variant="south"` says lẻ and ngàn.

    Rules: 10 mười; 20-90 "X mươi"; a final 1 after mươi is mốt (21 hai mươi mốt, but 11 mười một); a final 4 after
    mươi is tư (24 hai mươi tư, but 14 mười bốn); a final 5 after mười/mươi is lăm (15, 25) but after linh/lẻ năm
    (105 một trăm linh năm); zero tens inside a hundred is linh (North) or lẻ (South); a group after the first
    reads its hundreds even when zero (1023 một nghìn không trăm hai mươi ba)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0 or n >= 10**12:
        raise ValueError(f"number words cover 0..999,999,999,999, got {n!r}")
    if variant not in ("north", "south"):
        raise ValueError(f"variant must be 'north' or 'south', got {variant!r}")
    if n == 0:
        return DIGITS[0]
    groups = []
    while n:
        n, rest = divmod(n, 1000)
        groups.append(rest)
    parts: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        value = groups[index]
        if value == 0:
            continue
        leading = index == len(groups) - 1
        parts.append(_hundreds(value, leading, variant))
        unit = GROUPS[index]
        if unit == "nghìn" and variant == "south":
            unit = "ngàn"
        if unit:
            parts.append(unit)
    return " ".join(p for p in parts if p)


def _hundreds(value: int, leading: bool, variant: str) -> str:
    h, rest = divmod(value, 100)
    t, u = divmod(rest, 10)
    out: list[str] = []
    if h or not leading:
        out += [DIGITS[h], "trăm"]
    if t == 0:
        if u:
            if out:
                out.append("linh" if variant == "north" else "lẻ")
            out.append(DIGITS[u])
    elif t == 1:
        out.append("mười")
        if u:
            out.append("lăm" if u == 5 else DIGITS[u])
    else:
        out += [DIGITS[t], "mươi"]
        if u:
            out.append({1: "mốt", 4: "tư", 5: "lăm"}.get(u, DIGITS[u]))
    return " ".join(out)


def digits(text: str) -> list[str]:
    """Reads digits one by one with the plain digit words (5 is năm, never lăm); other characters pass through."""
    return [DIGITS[int(ch)] if "0" <= ch <= "9" else ch for ch in text]
