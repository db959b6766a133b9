# Board state: what the waiting-room board shows, rebuilt from the database after every change.
from __future__ import annotations

from typing import Any

from bus.messages import iso_ts
from hub import store
from hub.config import HubSection
from hub.queue import Queue


def board_state(queue: Queue, hub: HubSection) -> dict[str, Any]:
    day = queue.today()
    counters = []
    for cfg in hub.counters:
        state = queue.counter_state(cfg.id, with_line=False)  # the board shows counts per service
        state.update(name_vi=cfg.name_vi, name_en=cfg.name_en)
        counters.append(state)
    recent = [
        {"label": label, "counter": counter, "service": service, "event": kind,
         "at": iso_ts(at)}
        for kind, at, counter, label, service in store.recent_calls(queue.db, day, hub.recent_calls)
    ]
    counts = store.waiting_counts(queue.db, day)
    waiting = [
        {"service": s.code, "name_vi": s.name_vi, "name_en": s.name_en, "count": counts.get(s.code, 0),
         "wait": queue.wait_for(s.code, counts.get(s.code, 0))}
        for s in hub.services
    ]
    state = {"day": day, "ward_vi": hub.ward_name_vi, "ward_en": hub.ward_name_en, "counters": counters,
             "recent": recent, "waiting": waiting, "notice": hub.notice,
             "updated": iso_ts(queue.clock())}
    if queue.hours is not None:  # today's hours in words, for the board to show beside the waits
        on = queue.clock_date()
        state.update(hours_vi=queue.hours.said(on, "vi"), hours_en=queue.hours.said(on, "en"))
    return state


def services_list(hub: HubSection) -> dict[str, Any]:
    return {"ward_vi": hub.ward_name_vi, "ward_en": hub.ward_name_en, "hours": list(hub.hours), "services": [
        {"code": s.code, "prefix": s.prefix, "name_vi": s.name_vi, "name_en": s.name_en,
         "procedures": list(s.procedures), "target_minutes": s.target_minutes}
        for s in hub.services
    ]}
