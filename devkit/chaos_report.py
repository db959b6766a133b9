# The chaos run's invariants, checked against the ward's and the district's own databases, printed as a table.
from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any, TextIO

from devkit.chaos_faults import KIOSK_FAULTS, REAL_KIOSK, Fault
from devkit.simulate import Tally

Sample = tuple[float, str, int, float, int]  # (time, role, pid, RSS MB, open files)


@dataclass
class Observations:
    hub_db: Path
    district_db: Path
    tally: Tally
    attempts: dict[str, list[tuple[float, bool, bool]]]  # kiosk -> (time, a ticket came of it, by the hub), in order
    faults: list[tuple[Fault, float, float]]  # (fault, began, ended)
    samples: list[Sample]  # every ward process every half second
    alive: dict[str, bool]
    flooded: int
    printed: list[tuple[str, bool]] = field(default_factory=list)  # the real kiosk's tickets: ("day label", offline)
    outbox_left: int = 0  # what the real kiosk's outbox still held at the end
    printer_refusals: int = 0  # citizens the real kiosk told its printer could not print
    board_states: list[float] = field(default_factory=list)  # wall time each board state reached the board's topic
    clock_jumps: list[tuple[float, float, float]] = field(default_factory=list)  # (began, ended, offset s), true time
    officers: dict[int, tuple[int, dict[int, int]]] = field(default_factory=dict)  # counter -> (calls, HTTP answers)
    subscribed: list[str] = field(default_factory=list)  # labels whose citizens left a phone number at the kiosk
    texts: list[dict[str, Any]] = field(default_factory=list)  # what the notifier's (fake) gateway sent
    kiosk_disk_was_full: bool = False  # the disk-full fault really left the real kiosk no room (needs root)
    units: dict[str, Any] = field(default_factory=dict)  # counter 1's C-firmware units at the end (devkit/chaos.py)
    cut_mid_ticket: int = 0  # citizens at the real kiosk's screen when a power cut killed it
    kiosk_starts: int = 0  # the real kiosk's process started (first, after a power cut, after a damaged file)
    gpio: dict[str, int] = field(default_factory=dict)  # counter 2's GPIO rating keypad: presses taken and lost
    # numbers typed at the real kiosk's screen when the power went: the kiosk may have kept one in its outbox before
    # it could say so, and then its texts come (the citizen did leave it)
    phones_in_the_dark: list[str] = field(default_factory=list)


def check(o: Observations) -> list[dict[str, Any]]:
    """One row per invariant (`ok` True or False) or measure (`ok` None): what was found, in words."""
    hub = sqlite3.connect(f"file:{o.hub_db}?mode=ro", uri=True)
    district = sqlite3.connect(f"file:{o.district_db}?mode=ro", uri=True)
    try:
        held = Counter(f"{d} {lab}" for d, lab in hub.execute("SELECT day, label FROM tickets WHERE status <> 'void'"))
        rows = (_tickets(hub, held, o.tally) + _printed(held, o) + _ratings(hub, district) + _upstream(hub, district)
                + [_stale(hub, o.board_states, o.clock_jumps)])
        rows += _console(o) + _texts(hub, o) + _units(hub, o)
    finally:
        hub.close()
        district.close()
    down = [name for name, up in o.alive.items() if not up]
    rows.append(_row("no service down for good", ", ".join(down) or "all running at the end", not down))
    rows += _resources(o.samples)
    worst = max(o.attempts, key=lambda k: _longest_outage(o.attempts[k]), default="")
    rows.append(_row("longest time a kiosk could not give a ticket (online or offline)",
                     f"{_longest_outage(o.attempts.get(worst, [])):.1f} s ({worst or 'no kiosk'})"))
    for kind, seconds in sorted(_recoveries(o).items()):
        what = "printed by the kiosk" if kind in KIOSK_FAULTS else "numbered by the hub"
        rows.append(_row(f"longest time to the next ticket {what} after a {kind.replace('_', ' ')}",
                         f"{seconds:.1f} s" if seconds is not None else "no ticket asked for afterwards"))
    rows.append(_row("hostile messages sent", f"{o.flooded:,}"))
    return rows


def _tickets(hub: sqlite3.Connection, held: Counter[str], tally: Tally) -> list[dict[str, Any]]:
    """`held`: how often each "day label" is in the hub (not voided)."""
    twice = hub.execute("SELECT COUNT(*) FROM (SELECT 1 FROM tickets GROUP BY day, issued_service, number "
                        "HAVING COUNT(*) > 1)").fetchone()[0]
    missing = sum(1 for day_label in set(tally.issued.values()) if day_label not in held)
    doubled = sum(n - 1 for n in held.values())
    counts = dict(hub.execute("SELECT status, COUNT(*) FROM tickets GROUP BY status").fetchall())
    calls = [n for (n,) in hub.execute("SELECT COUNT(*) FROM events WHERE kind='called' GROUP BY counter")]
    twice += tally.duplicates
    return [
        _row("no number issued twice in a day", f"{twice} issued twice", twice == 0),
        _row("every ticket a kiosk was given is in the hub, once",
             f"{len(tally.issued):,} given, {missing} missing, {doubled} twice", missing == 0 and doubled == 0),
        _row("tickets: issued / served / no-shows / still waiting",
             f"{sum(counts.values()):,} / {counts.get('done', 0):,} / {counts.get('no_show', 0)} / "
             f"{counts.get('issued', 0)}"),
        _row("counters that called citizens, calls each", f"{len(calls)}: {min(calls, default=0)}–"
                                                           f"{max(calls, default=0)}"),
        _row("kiosk requests unanswered or refused", f"{tally.counts['kiosk_timeouts']} unanswered, "
                                                     f"{tally.counts['kiosk_refused']} refused"),
    ]


def _printed(held: Counter[str], o: Observations) -> list[dict[str, Any]]:
    """The real kiosk's paper: every ticket it printed, online or offline, is in the hub once, nothing in its
    outbox is left behind."""
    printed = {label: held[label] for label, _ in o.printed}
    missing = sum(1 for n in printed.values() if n == 0)
    twice = sum(1 for n in printed.values() if n > 1) + len(o.printed) - len(printed)
    offline = sum(1 for _, off in o.printed if off)
    return [
        _row("every ticket the real kiosk printed is in the hub, once",
             f"{len(o.printed)} printed ({offline} offline), {missing} missing, {twice} twice",
             missing == 0 and twice == 0),
        _row("the real kiosk's outbox delivered everything",
             f"{o.outbox_left} left" if o.outbox_left >= 0 else "the kiosk was not running", o.outbox_left == 0),
        _row("citizens told the printer cannot print", str(o.printer_refusals)),
        _row("the real kiosk's starts / citizens at its screen when the power went",
             f"{o.kiosk_starts} / {o.cut_mid_ticket}"),
    ]


def _ratings(hub: sqlite3.Connection, district: sqlite3.Connection) -> list[dict[str, Any]]:
    total = hub.execute("SELECT COUNT(*) FROM ratings").fetchone()[0]
    untied = hub.execute("SELECT COUNT(*) FROM ratings r WHERE NOT EXISTS (SELECT 1 FROM events e WHERE "
                         "e.ticket_id = r.ticket_id AND e.counter = r.counter AND e.kind = 'called')").fetchone()[0]
    upstream = district.execute("SELECT COUNT(*) FROM ratings").fetchone()[0]
    return [
        _row("every rating stored once, tied to a ticket served at its counter",
             f"{total:,} stored, {untied} not tied to a call at their counter", untied == 0),
        _row("ratings at the district equal the ward's", f"ward {total:,}, district {upstream:,}", upstream == total),
    ]


def _upstream(hub: sqlite3.Connection, district: sqlite3.Connection) -> list[dict[str, Any]]:
    ward = dict(hub.execute("SELECT day, COUNT(*) FROM tickets WHERE status NOT IN ('held', 'void') GROUP BY day"))
    there = dict(district.execute("SELECT day, SUM(issued) FROM day_stats GROUP BY day"))
    days = "; ".join(f"{day}: ward {ward.get(day, 0)}, district {there.get(day, 0)}" for day in sorted({*ward, *there}))
    return [_row("tickets issued per day at the district equal the ward's", days or "no tickets", ward == there)]


def _stale(hub: sqlite3.Connection, states: list[float], jumps: list[tuple[float, float, float]]) -> dict[str, Any]:
    """The longest a call went unshown: from a call committed in the hub to the next board state the board got.
    A call made while the hub's clock was off is put back on true time (the jump is an hour, the run shorter, so
    no true time falls in a jumped window)."""
    calls = sorted(_true_time(at, jumps) for (at,) in hub.execute(
        "SELECT at FROM events WHERE kind IN ('called', 'recalled')"))
    worst, i = 0.0, 0
    for at in calls:
        while i < len(states) and states[i] < at:
            i += 1
        if i == len(states):
            return _row("longest time the board was behind a call", f"a call at {at:.0f} never reached it", False)
        worst = max(worst, states[i] - at)
    return _row("longest time the board was behind a call", f"{worst:.2f} s over {len(calls)} calls")


def _console(o: Observations) -> list[dict[str, Any]]:
    """The officers at the web console: they called citizens, and every answer was an outcome, a plain refusal or
    "the hub is out of reach" (503), never a console fault."""
    if not o.officers:
        return []
    calls = sum(c for c, _ in o.officers.values())
    answers: Counter[int] = Counter()
    for _, seen in o.officers.values():
        answers.update(seen)
    faults = sum(n for status, n in answers.items() if status >= 500 and status != 503)
    shown = ", ".join(f"{n} × {status}" for status, n in sorted(answers.items()))
    return [_row("officers at the console called citizens, every answer plain",
                 f"{calls} calls at counters {', '.join(map(str, sorted(o.officers)))}; answers {shown}",
                 calls > 0 and faults == 0)]


def _units(hub: sqlite3.Connection, o: Observations) -> list[dict[str, Any]]:
    """Counter 2's GPIO rating keypad and counter 1's serial units on the C firmware, through unplugging and power
    cuts: the display ends on what the hub says is at the counter (its number, blank or '--'); the keypads' ratings
    are stored (each tied to a call: the ratings row above)."""
    rows = []
    if o.gpio:
        rated = hub.execute("SELECT COUNT(*) FROM ratings WHERE counter = 2").fetchone()[0]
        rows.append(_row("counter 2's rating keypad (GPIO, its own process): presses / stored / lost while it was off",
                         f"{o.gpio['presses']} / {rated} / {o.gpio['lost']}"))
    if not o.units:
        return rows
    u = o.units
    rated = hub.execute("SELECT COUNT(*) FROM ratings WHERE counter = 1").fetchone()[0]
    return rows + [
        _row("counter 1's LED display (C firmware) ends showing what the hub says is at the counter",
             f"hub: {u['expected']!r}, display last showed {u['shown']}", u["shown"][-1:] == [u["expected"]]),
        _row("counter 1's rating keypad (C firmware): presses / answered / stored / lost to a pulled cable",
             f"{u['presses']} / {u['answers']} / {rated} / {u['lost']}"),
    ]


def _texts(hub: sqlite3.Connection, o: Observations) -> list[dict[str, Any]]:
    """Texts to phones: never two of a kind for one ticket, none for a number nobody left (a number typed at the
    kiosk's screen as the power went may have been kept without the screen saying so: its texts are asked for);
    how many of the called subscribers got their "called" text (one called while the notifier was down and gone
    from its counter before it came back gets none)."""
    if not o.subscribed and not o.phones_in_the_dark:
        return []
    kinds = Counter((t["fields"]["ticket"], t["kind"]) for t in o.texts)
    twice = sum(n - 1 for n in kinds.values())
    left, dark = set(o.subscribed), set(o.phones_in_the_dark)
    unsaid = {t["fields"]["ticket"] for t in o.texts if t["fields"]["ticket"] not in left and t["phone"] in dark}
    strangers = sum(1 for label, _ in kinds if label not in left | unsaid)
    called = {label for (label,) in hub.execute("SELECT t.label FROM tickets t JOIN events e ON e.ticket_id = t.id "
                                                 "WHERE e.kind = 'called'")} & left
    texted = {label for label, kind in kinds if kind == "called"}
    return [
        _row("texts to phones: none twice, none to a number nobody left",
             f"{len(o.texts)} sent for {len(left)} numbers left (and {len(unsaid)} of {len(dark)} typed as the "
             f"power went); {twice} twice, {strangers} unasked", twice == 0 and strangers == 0),
        _row("called citizens who had left a number and got the 'called' text",
             f"{len(texted & called)} of {len(called)}"),
    ]


def _true_time(at: float, jumps: list[tuple[float, float, float]]) -> float:
    return next((at - offset for began, ended, offset in jumps if began + offset <= at <= ended + offset + 1), at)


def _resources(samples: list[Sample]) -> list[dict[str, Any]]:
    """Memory and open files of every process of the ward over the whole day. Faults restart processes, which start
    again from nothing and warm up, so each role is judged across its lives: the median of the day's last quarter no
    higher than the peak of its first half, with a little slack (15 % + 2 MB, 3 files) — what grows with the day's
    tickets, ratings and texts shows there, whichever process holds it. The late median, not its peak: a sign-in's
    password hash takes 19 MiB for a moment (console/accounts.py), which is not a leak; its peak is printed beside
    it. The hub is also judged over its longest life."""
    by_role: dict[str, list[Sample]] = {}
    for sample in samples:
        by_role.setdefault(sample[1], []).append(sample)
    if not by_role:
        return [_row("memory and open files of every process flat over the day", "no samples", False)]
    began, ended = min(s[0] for s in samples), max(s[0] for s in samples)
    memory, files, mem_ok, files_ok = [], [], True, True
    for role, taken in sorted(by_role.items()):
        early = [s for s in taken if s[0] <= began + (ended - began) / 2]
        late = [s for s in taken if s[0] >= ended - (ended - began) / 4]
        if not early or not late:
            continue
        rss0, rss1 = max(s[3] for s in early), median(s[3] for s in late)
        fds0, fds1 = max(s[4] for s in early), median(s[4] for s in late)
        memory.append(f"{role} {rss0:.1f} → {rss1:.1f} (peak {max(s[3] for s in late):.1f})")
        files.append(f"{role} {fds0:g} → {fds1:g}")
        mem_ok &= rss1 <= rss0 * 1.15 + 2
        files_ok &= fds1 <= fds0 + 3
    rows = [_row("memory of every process flat over the day (MB, peak of the first half → median of the last quarter)",
                 "; ".join(memory), mem_ok),
            _row("open files of every process flat over the day (the same measures)", "; ".join(files), files_ok)]
    lives: dict[int, list[Sample]] = {}
    for sample in by_role.get("hub", []):
        lives.setdefault(sample[2], []).append(sample)
    if lives:
        longest = max(lives.values(), key=len)
        tenth = max(1, len(longest) // 10)
        early, late = longest[tenth:2 * tenth] or longest[:1], longest[-tenth:]
        rss0, rss1 = max(s[3] for s in early), max(s[3] for s in late)
        rows.append(_row("hub memory flat over its longest life", f"{rss0:.1f} → {rss1:.1f} MB over "
                         f"{longest[-1][0] - longest[0][0]:.0f} s", rss1 <= rss0 * 1.15 + 1))
    return rows


def _longest_outage(attempts: list[tuple[float, bool, bool]]) -> float:
    """The longest time from a failed attempt to the next ticket given (0 when none failed)."""
    longest, failing_since = 0.0, None
    for at, ok, _ in attempts:
        if not ok and failing_since is None:
            failing_since = at
        elif ok and failing_since is not None:
            longest, failing_since = max(longest, at - failing_since), None
    return longest


def _recoveries(o: Observations) -> dict[str, float | None]:
    """Per fault kind, the longest time from the fault's end (the ward given back what it lost) to the next
    ticket, in real seconds (a restart takes as long at any speed-up): an upper bound, as it includes the wait for
    the next citizen. For the ward's faults only tickets the hub numbered count (an offline ticket is the kiosk
    coping, not the ward recovered); for the real kiosk's own faults, its next printed ticket. Not for the upstream
    link, which tickets never wait for (the end-of-day totals check what it carried)."""
    by_hub = sorted(at for attempts in o.attempts.values() for at, _, numbered in attempts if numbered)
    by_kiosk = [at for at, ok, _ in o.attempts.get(REAL_KIOSK, []) if ok]
    out: dict[str, float | None] = {}
    for fault, _, ended in o.faults:
        if fault.kind == "upstream_down":
            continue
        after = next((at for at in (by_kiosk if fault.kind in KIOSK_FAULTS else by_hub) if at >= ended), None)
        took = None if after is None else after - ended
        previous = out.get(fault.kind)
        out[fault.kind] = took if previous is None else max(previous, took or 0.0)
    return out


def _row(name: str, value: str, ok: bool | None = None) -> dict[str, Any]:
    return {"invariant": name, "value": value, "ok": ok}


def print_table(rows: list[dict[str, Any]], out: TextIO) -> None:
    print("\n| invariant or measure | found | holds |\n|---|---|---|", file=out)
    for r in rows:
        mark = "" if r["ok"] is None else ("yes" if r["ok"] else "**NO**")
        print(f"| {r['invariant']} | {r['value']} | {mark} |", file=out)
