# Call policy: which waiting ticket a counter calls next, and the rule that explains the choice.
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GROUP_NAMES = {
    "elderly": ("người cao tuổi", "elderly person"),
    "disability": ("người khuyết tật", "person with a disability"),
    "pregnant": ("phụ nữ mang thai", "pregnant woman"),
    "meritorious": ("người có công với cách mạng", "person with meritorious service"),
}


@dataclass(frozen=True)
class Candidate:
    id: int
    label: str
    priority: str | None
    queue_at: float
    transferred_from: str | None = None


@dataclass(frozen=True)
class Choice:
    ticket_id: int
    rule: str
    vi: str
    en: str

    def explanation(self) -> dict[str, Any]:
        return {"rule": self.rule, "vi": self.vi, "en": self.en}


def choose(candidates: list[Candidate], priority_streak: int, priority_in_row: int) -> Choice | None:
    """Picks the next ticket. Rules, in order:

    1. fairness_cap - after `priority_in_row` priority calls in a row at this counter, the longest-waiting regular
       ticket goes next, so regular citizens are never starved.
    2. priority_first - otherwise a waiting priority ticket (elderly, disability, pregnant, meritorious) goes first,
       the longest-waiting one among them.
    3. fifo - otherwise the longest-waiting ticket; a transferred ticket keeps its original place in line.
    """
    if not candidates:
        return None
    ordered = sorted(candidates, key=lambda c: (c.queue_at, c.id))
    priority = [c for c in ordered if c.priority]
    regular = [c for c in ordered if not c.priority]
    if priority and regular and priority_streak >= priority_in_row:
        c = regular[0]
        return Choice(c.id, "fairness_cap",
                      f"Đã gọi {priority_streak} vé ưu tiên liên tiếp; gọi vé thường chờ lâu nhất {c.label}",
                      f"{priority_streak} priority tickets called in a row; calling the longest-waiting "
                      f"regular ticket {c.label}")
    if priority:
        c = priority[0]
        vi_group, en_group = GROUP_NAMES[c.priority or "elderly"]
        return Choice(c.id, "priority_first",
                      f"Vé {c.label} ưu tiên ({vi_group}) được gọi trước",
                      f"Ticket {c.label} has priority ({en_group}) and is called first")
    c = regular[0]
    if c.transferred_from:
        return Choice(c.id, "fifo", f"Vé {c.label} chuyển từ dịch vụ {c.transferred_from}, giữ thứ tự ban đầu",
                      f"Ticket {c.label} was transferred from {c.transferred_from} and keeps its place in line")
    return Choice(c.id, "fifo", f"Vé {c.label} chờ lâu nhất", f"Ticket {c.label} has waited longest")
