# The waiting line read along its index (hub/line.py), and its kept counts, against every waiting ticket read plainly.
from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.line import ahead
from hub.priority import Candidate, choose
from hub.store import waiting_counts
from tests.test_queue import Clock, Ward

PRIORITIES = st.sampled_from([None, None, None, "elderly", "disability"])
STEPS = st.lists(st.one_of(
    st.tuples(st.just("issue"), st.integers(0, 4), PRIORITIES),
    st.tuples(st.just("call_next"), st.integers(1, 6), st.none()),
    st.tuples(st.sampled_from(["skip", "no_show", "done"]), st.integers(1, 6), st.none()),
    st.tuples(st.just("transfer"), st.integers(1, 6), st.integers(0, 4)),
    st.tuples(st.just("wait"), st.integers(0, 3), st.none()),
), min_size=1, max_size=80)


def _waiting(ward: Ward, services: list[str]) -> list[dict]:
    """Every ticket waiting for `services` today, in calling order, by a plain sort of all of them."""
    rows = ward.db.execute(
        f"SELECT id, label, priority, queue_at, transferred_from, service FROM tickets WHERE status='issued' AND day=? "
        f"AND service IN ({','.join('?' * len(services))})", (ward.queue.today(), *services)).fetchall()
    keys = ("id", "label", "priority", "queue_at", "transferred_from", "service")
    return sorted((dict(zip(keys, r, strict=True)) for r in rows),
                  key=lambda t: (t["priority"] is None, t["queue_at"], t["id"]))


def _apply(ward: Ward, step: tuple) -> None:
    op, arg, extra = step
    services = [s.code for s in ward.section.services]
    if op == "issue":
        service = services[arg % len(services)]
        reply = ward.do("issue", service=service, priority=extra)
        line = [t["id"] for t in _waiting(ward, [service])]
        assert reply["ticket"]["ahead"] == line.index(reply["ticket"]["id"])  # as the ticket prints it
    elif op == "wait":
        ward.clock.advance(arg)
    elif op == "transfer":
        ward.do("transfer", counter=arg, service=services[extra % len(services)])
    else:
        ward.do(op, counter=arg)  # refusals (nothing to skip, counter closed) change nothing and are fine here


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_the_line_read_along_the_index_is_the_line_the_rules_give(steps: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ward = Ward(Path(tmp), Clock("2026-11-23T08:00:00"))
        for step in steps:
            _apply(ward, step)
            ward.clock.advance(0.1)
        everyone = _waiting(ward, [s.code for s in ward.section.services])
        assert waiting_counts(ward.db, ward.queue.today()) == dict(Counter(t["service"] for t in everyone))
        for counter in ward.section.counters:
            line = _waiting(ward, list(counter.services))
            state = ward.queue.counter_state(counter.id)
            assert [w["id"] for w in state["waiting"]] == [t["id"] for t in line][:50]
            for position, ticket in enumerate(t for t in line if t["service"] == counter.services[0]):
                mine = {**ticket, "day": ward.queue.today(), "status": "issued"}  # waiting, as read
                assert ahead(ward.db, mine) == ahead(ward.db, mine, scan=2) == position  # either way it counts
            streak = ward.db.execute("SELECT priority_streak FROM counters WHERE id=?", (counter.id,)).fetchone()
            expected = choose([Candidate(*(t[k] for k in ("id", "label", "priority", "queue_at", "transferred_from")))
                               for t in line], streak[0] if streak else 0, ward.section.policy.priority_in_row)
            called = ward.do("call_next", counter=counter.id)
            if expected is None:
                assert "ticket" not in called or called["ticket"] is None
            else:
                assert called["ticket"]["id"] == expected.ticket_id and called["explanation"]["rule"] == expected.rule
        ward.db.close()
