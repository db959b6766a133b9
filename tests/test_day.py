# The hub's numbering day under any clock: a morning of tickets while the wall clock jumps anywhere, on a real queue.
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.line import LIVE
from tests.test_queue import Clock, Ward

STEPS = st.lists(st.one_of(
    st.tuples(st.just("issue"), st.sampled_from(("HT", "CT"))),
    st.tuples(st.just("call"), st.sampled_from((1, 2))),
    st.tuples(st.just("done"), st.sampled_from((1, 2))),
    st.tuples(st.just("advance"), st.floats(0, 5)),  # minutes that pass: at most 200, never QUIET_S
    st.tuples(st.just("jump"), st.floats(-72, 72)),  # hours the wall clock is set by: NTP, a hand, a battery
), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_whatever_the_clock_does_in_a_morning_no_two_citizens_hold_one_number_and_none_leaves_the_line(
        steps: list[tuple]) -> None:
    """One working morning by running time (the ward is never quiet for hub.day.QUIET_S), the wall clock set
    anywhere within three days either way as often as it likes: the tickets still in the ward never share a label,
    and every waiting one is in the line the counters call from."""
    with tempfile.TemporaryDirectory() as tmp:
        ward = Ward(Path(tmp), Clock("2026-11-23T08:00:00"))
        for kind, arg in steps:
            if kind == "issue":
                ward.issue(arg)
            elif kind == "call":
                ward.call(arg)
            elif kind == "done":
                ward.do("done", counter=arg)
            elif kind == "advance":
                ward.clock.advance(arg)
            else:
                ward.clock.now += arg * 3600
            today = ward.queue.today()
            live = ward.db.execute(f"SELECT label, day, status FROM tickets WHERE status IN "
                                   f"({','.join('?' * len(LIVE))})", LIVE).fetchall()
            labels = [label for label, _, _ in live]
            assert len(labels) == len(set(labels)), (live, today)
            assert all(day == today for _, day, status in live if status == "issued"), (live, today)
